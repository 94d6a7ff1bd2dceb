package cassette_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/wire"
)

// probeAddrs reads the client addresses of a conform NDJSON file.
func probeAddrs(name string) map[string]string {
	f, err := os.Open(filepath.Join(needRecordings(), "conform", name))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var p struct {
			Type        string `json:"type"`
			Probe       string `json:"probe"`
			Observation struct {
				LocalAddr string `json:"local_addr"`
			} `json:"observation"`
		}
		// The file ends with the CLI's one-line verdict on stderr, not JSON.
		if json.Unmarshal(sc.Bytes(), &p) == nil && p.Type == "probe" {
			out[p.Observation.LocalAddr] = p.Probe
		}
	}
	return out
}

// plainHandshakes are the connections of the five btc-handshake --connect
// runs: the probes use 127.0.N.1 with N ≥ 2, the handshakes 127.0.0.1.
func plainHandshakes(c *cassette.Cassette) []cassette.Conn {
	var out []cassette.Conn
	for _, cn := range c.Conns {
		if strings.HasPrefix(cn.Client, "127.0.0.1:") {
			out = append(out, cn)
		}
	}
	return out
}

var _ = Describe("importing the recordings of real Core v30", func() {
	It("makes one connection per TCP stream of the v2-off pcap, the probes' among them", func() {
		c := importPcap("core-v30-v2off-inbound.pcap")
		syns := countSYNs(filepath.Join(recordings, "pcap", "core-v30-v2off-inbound.pcap"))
		// 5 handshakes, 32 probes, and a second connection of the
		// self-connection probe (two capture directories under 127.0.29.1).
		Expect(syns).To(Equal(38))
		Expect(c.Conns).To(HaveLen(syns))
		Expect(c.Header.Network).To(Equal("regtest"))
		clients := map[string]bool{}
		for _, cn := range c.Conns {
			clients[cn.Client] = true
			Expect(cn.Node).To(Equal("127.0.0.1:28484"))
			Expect(cn.End.How).NotTo(BeEmpty())
		}
		probes := probeAddrs("core-profile-vs-v2transport-off.ndjson")
		Expect(probes).To(HaveLen(32))
		for addr, probe := range probes {
			Expect(clients).To(HaveKey(addr), "probe %s", probe)
		}
	})

	It("shows Core's messages of the five plain handshakes in the recorded order, one segment each", func() {
		c := importPcap("core-v30-v2off-inbound.pcap")
		hs := plainHandshakes(c)
		Expect(hs).To(HaveLen(5))
		for _, cn := range hs {
			Expect(cn.Transport).To(Equal(cassette.TransportV1))
			cmds, alone := commandsAlone(cn, cassette.Node)
			Expect(cmds).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack", "sendcmpct", "ping", "feefilter"}), "conn %d", cn.ID)
			Expect(alone).To(HaveEach(BeTrue()), "conn %d: Core writes one message per segment", cn.ID)
			// sendcmpct comes only after our verack.
			var ourVerack, sendcmpct int64 = -1, -1
			for _, e := range cn.Events {
				for _, m := range e.Msgs {
					if e.From == cassette.Client && m.Cmd == "verack" {
						ourVerack = e.At
					}
					if e.From == cassette.Node && m.Cmd == "sendcmpct" {
						sendcmpct = e.At
					}
				}
			}
			Expect(ourVerack).To(BeNumerically(">=", 0))
			Expect(sendcmpct).To(BeNumerically(">=", ourVerack))
			Expect(cn.End).To(Equal(cassette.End{How: cassette.EndFIN, By: cassette.Client, At: cn.End.At}))
		}
	})

	It("agrees with Core's own message capture of the same connections", func() {
		pc := importPcap("core-v30-v2off-inbound.pcap")
		byClient := map[string]cassette.Conn{}
		for _, cn := range pc.Conns {
			byClient[cn.Client] = cn
		}
		capture, err := cassette.ImportCapture(filepath.Join(needRecordings(), "message_capture", "v2transport-off"),
			cassette.ImportOptions{Network: wire.Regtest, NoRedact: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(capture.Header.Source).To(Equal(cassette.SourceCapture))
		Expect(capture.Conns).To(HaveLen(32))
		sent, recv := 0, 0
		for _, cn := range capture.Conns {
			p, ok := byClient[cn.Client]
			Expect(ok).To(BeTrue(), "capture of %s has no TCP stream", cn.Client)
			for _, e := range cn.Events {
				Expect(e.Bytes).To(BeEmpty())
			}
			// What Core sent: exactly the frames on the wire.
			capSent := commands(cn, cassette.Node)
			wireSent := commands(p, cassette.Node)
			Expect(capSent).To(Equal(wireSent), "conn %s", cn.Client)
			sent += len(capSent)
			// What Core received and processed: the valid frames on the
			// wire, in order, less those still queued when it disconnected.
			capRecv := commands(cn, cassette.Client)
			wireRecv := commands(p, cassette.Client)
			Expect(len(capRecv)).To(BeNumerically("<=", len(wireRecv)))
			Expect(capRecv).To(Equal(wireRecv[:len(capRecv)]), "conn %s", cn.Client)
			recv += len(capRecv)
		}
		for _, cn := range plainHandshakes(capture) {
			capRecv := commands(cn, cassette.Client)
			wireRecv := commands(byClient[cn.Client], cassette.Client)
			Expect(capRecv).To(Equal(wireRecv))
		}
		GinkgoWriter.Printf("capture vs pcap: %d messages sent by Core and %d received agree over %d connections\n", sent, recv, len(capture.Conns))
	})

	It("marks v2 the connections of the v2-on pcap that started with a 64-byte key", func() {
		c := importPcap("core-v30-v2on-inbound.pcap")
		Expect(c.Conns).To(HaveLen(countSYNs(filepath.Join(recordings, "pcap", "core-v30-v2on-inbound.pcap"))))
		probes := probeAddrs("core-v2-profile-vs-v2transport-on.ndjson")
		v2 := 0
		for _, cn := range c.Conns {
			first := firstMessage(cn, cassette.Client)
			if cn.Transport == cassette.TransportV2 {
				v2++
				Expect(first.V2).To(Equal(cassette.V2Key))
				Expect(first.Len).To(Equal(64))
				Expect(probes[cn.Client]).To(Equal("v2-key"))
			} else if first != nil {
				Expect(first.V2).To(BeEmpty())
			}
		}
		Expect(v2).To(Equal(1))
		// Core answers v1 bytes that are not a version header with its key.
		for _, cn := range c.Conns {
			if probes[cn.Client] == "verack-before-version" {
				Expect(cn.Transport).To(Equal(cassette.TransportV1))
				Expect(firstMessage(cn, cassette.Node)).To(HaveField("V2", cassette.V2Key))
			}
		}
	})

	It("sees btcd and Core speak v2 to each other, and Core fall back to v1 with the v1 mock", func() {
		c := importPcap("btcd-v2-to-core-v30.pcap")
		Expect(c.Conns).To(HaveLen(1))
		Expect(c.Conns[0].Transport).To(Equal(cassette.TransportV2))
		c = importPcap("core-v30-outbound-to-v1-mock.pcap")
		Expect(c.Conns).To(HaveLen(2))
		Expect(c.Conns[0].Transport).To(Equal(cassette.TransportV2))
		Expect(c.Conns[0].End).To(HaveField("By", cassette.Node))
		Expect(c.Conns[1].Transport).To(Equal(cassette.TransportV1))
	})
})

func firstMessage(cn cassette.Conn, from string) *cassette.Message {
	for _, e := range cn.Events {
		if e.From == from && len(e.Msgs) > 0 {
			return &e.Msgs[0]
		}
	}
	return nil
}
