package cassette_test

import (
	"os"
	"path/filepath"
	"regexp"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/wire"
)

// segment is one event of bytes as the v2 marking shows it: its length
// and the v2 parts the decoder made of it.
type segment struct {
	from  string
	n     int
	parts []cassette.Message
}

func segments(cn cassette.Conn) []segment {
	var out []segment
	for _, e := range cn.Events {
		if len(e.Bytes) > 0 {
			out = append(out, segment{from: e.From, n: len(e.Bytes), parts: e.Msgs})
		}
	}
	return out
}

// packetSizes is what each message of a Core capture takes on the wire as
// one v2 packet: BIP324's contents (a short id, or 13 bytes of long-form
// type, then the payload) and the packet's expansion.
func packetSizes(cn cassette.Conn, from string) []int {
	var out []int
	for _, e := range cn.Events {
		if e.From == from {
			for _, m := range e.Msgs {
				out = append(out, len(bip324.AppendContents(nil, m.Cmd, m.Payload))+bip324.Expansion)
			}
		}
	}
	return out
}

var _ = Describe("the v2 handshake between btcd and real Core v30 (btcd-v2-to-core-v30.pcap)", func() {
	It("is marked v2 with the framing BIP324 and Core's own capture of the connection predict", func() {
		path := filepath.Join(needRecordings(), "pcap", "btcd-v2-to-core-v30.pcap")
		f, err := os.Open(path)
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		// No v1 header to find the network from: the run was regtest.
		c, err := cassette.ImportPcap(f, path, cassette.ImportOptions{Network: wire.Regtest, NoRedact: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Conns).To(HaveLen(1))
		cn := c.Conns[0]
		Expect(cn.Transport).To(Equal(cassette.TransportV2), "btcd opened with a key")
		Expect(cn.Node).To(HaveSuffix(":28464"))

		// Core's log names this connection v2.
		log, err := os.ReadFile(filepath.Join(needRecordings(), "debug-log", "v2transport-on.log"))
		Expect(err).NotTo(HaveOccurred())
		peer := regexp.MustCompile(`Added connection peer=(\d+)\n[^\n]* connection from ` + regexp.QuoteMeta(cn.Client) + ` accepted`).FindSubmatch(log)
		Expect(peer).NotTo(BeNil(), "Core's log has no connection from %s", cn.Client)
		Expect(string(log)).To(MatchRegexp(`New inbound v2 peer connected: [^\n]*peer=%s\n`, peer[1]))

		segs := segments(cn)
		Expect(len(segs)).To(BeNumerically(">=", 4))

		// btcd, the initiator, sent first: its key and garbage, and nothing
		// more until Core's key came (its terminator depends on it).
		Expect(segs[0].from).To(Equal(cassette.Client))
		Expect(segs[0].parts[0]).To(Equal(cassette.Message{V2: cassette.V2Key, Len: bip324.KeyLen}))
		btcdGarbage := segs[0].n - bip324.KeyLen
		Expect(btcdGarbage).To(BeNumerically("<=", bip324.MaxGarbageLen))
		if btcdGarbage > 0 {
			Expect(segs[0].parts[1:]).To(Equal([]cassette.Message{{V2: cassette.V2Encrypted, Len: btcdGarbage}}))
		}

		// Core, the responder, had btcd's whole key when it answered: one
		// segment with its key, garbage, terminator and version packet
		// (empty contents).
		Expect(segs[1].from).To(Equal(cassette.Node))
		Expect(segs[1].parts[0]).To(Equal(cassette.Message{V2: cassette.V2Key, Len: bip324.KeyLen}))
		coreGarbage := segs[1].n - bip324.KeyLen - bip324.TerminatorLen - bip324.Expansion
		Expect(coreGarbage).To(BeNumerically(">=", 0))
		Expect(coreGarbage).To(BeNumerically("<=", bip324.MaxGarbageLen))

		// Then btcd's terminator and version packet, one write each.
		Expect(segs[2]).To(Equal(segment{from: cassette.Client, n: bip324.TerminatorLen,
			parts: []cassette.Message{{V2: cassette.V2Encrypted, Len: bip324.TerminatorLen}}}))
		Expect(segs[3]).To(Equal(segment{from: cassette.Client, n: bip324.Expansion,
			parts: []cassette.Message{{V2: cassette.V2Encrypted, Len: bip324.Expansion}}}))

		// Every later segment is one packet: in each direction, the
		// sizes of the messages Core's -capturemessages logged, in order.
		capture, err := cassette.ImportCapture(filepath.Join(needRecordings(), "message_capture", "v2transport-on",
			"127.0.0.1_"+cn.Client[len("127.0.0.1:"):]), cassette.ImportOptions{Network: wire.Regtest, NoRedact: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(capture.Conns).To(HaveLen(1))
		got := map[string][]int{}
		for _, s := range segs[4:] {
			Expect(s.parts).To(Equal([]cassette.Message{{V2: cassette.V2Encrypted, Len: s.n}}))
			got[s.from] = append(got[s.from], s.n)
		}
		Expect(got[cassette.Node]).To(Equal(packetSizes(capture.Conns[0], cassette.Node)), "Core's messages, one packet per segment")
		Expect(got[cassette.Client]).To(Equal(packetSizes(capture.Conns[0], cassette.Client)), "btcd's messages, one packet per segment")
		Expect(commands(capture.Conns[0], cassette.Node)).To(HaveExactElements("version", "wtxidrelay", "sendaddrv2", "verack",
			"sendcmpct", "ping", "getheaders", "feefilter"))

		GinkgoWriter.Printf("btcd: key + %d garbage; Core: key + %d garbage + terminator + version packet; then %d packets from Core, %d from btcd\n",
			btcdGarbage, coreGarbage, len(got[cassette.Node]), len(got[cassette.Client]))
	})
})
