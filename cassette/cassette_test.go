package cassette_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/wire"
)

const testNonce = 0x0123456789abcdef

func netAddr(s string) wire.NetAddress {
	ap := netip.MustParseAddrPort(s)
	return wire.NetAddress{IP: ap.Addr().As16(), Port: ap.Port()}
}

// handmade is a cassette of one v1 handshake built from wire's encoder:
// the client's version split over two segments, the node's version with
// the given user agent, a verack, and a node FIN.
func handmade(ua string) *cassette.Cassette {
	cv := &wire.Version{ProtocolVersion: 70016, Timestamp: 1700000000, Nonce: testNonce, UserAgent: "/ours:1/",
		AddrRecv: netAddr("10.1.2.3:18444"),
		AddrFrom: netAddr("10.9.9.9:40000")}
	nv := &wire.Version{ProtocolVersion: 70016, Services: 0x409, Timestamp: 1700000001, Nonce: 42, UserAgent: ua,
		AddrRecv: netAddr("10.9.9.9:40000")}
	client := wire.AppendMessage(nil, wire.Regtest, cv)
	node := wire.AppendMessage(nil, wire.Regtest, nv)
	node = wire.AppendMessage(node, wire.Regtest, wire.Verack{})
	c := &cassette.Cassette{
		Header: cassette.Header{Format: cassette.FormatVersion, Network: "regtest", Source: cassette.SourceRecorded, Tool: "spec"},
		Conns: []cassette.Conn{{ID: 1, Client: "10.9.9.9:40000", Node: "10.1.2.3:18444",
			Start: time.Date(2026, 12, 3, 10, 0, 0, 123000, time.UTC),
			Events: []cassette.Event{
				{From: cassette.Client, At: 100, Bytes: client[:30]},
				{From: cassette.Client, At: 150, Bytes: client[30:]},
				{From: cassette.Node, At: 900, Bytes: node},
				{From: cassette.Node, At: 2000, Close: cassette.EndFIN},
			},
			End: cassette.End{How: cassette.EndFIN, By: cassette.Node, At: 2000},
		}},
	}
	cassette.Decode(c)
	return c
}

func roundTrip(c *cassette.Cassette) *cassette.Cassette {
	var buf bytes.Buffer
	Expect(c.Write(&buf)).To(Succeed())
	back, err := cassette.Read(&buf)
	Expect(err).NotTo(HaveOccurred())
	return back
}

var _ = Describe("a cassette", func() {
	It("decodes messages beside the bytes, in the segment that completes them", func() {
		c := handmade("/Satoshi:30.0.0/")
		cn := c.Conns[0]
		Expect(cn.Transport).To(Equal(cassette.TransportV1))
		Expect(cn.Events[0].Msgs).To(BeEmpty())
		Expect(cn.Events[1].Msgs).To(HaveLen(1))
		v := cn.Events[1].Msgs[0].Version
		Expect(v).NotTo(BeNil())
		Expect(v.Nonce).To(Equal(uint64(testNonce)))
		Expect(v.AddrRecv).To(Equal("10.1.2.3:18444"))
		Expect(cn.Events[2].Msgs).To(HaveLen(2))
		Expect(cn.Events[2].Msgs[1].Cmd).To(Equal("verack"))
	})

	It("reads back what it wrote, the same value", func() {
		c := handmade("/Satoshi:30.0.0/")
		Expect(roundTrip(c)).To(Equal(c))
		pc := importPcap("core-v30-v2on-inbound.pcap")
		Expect(roundTrip(pc)).To(Equal(pc))
	})

	It("redacts addresses and nonces and keeps the frames valid", func() {
		c := handmade("/Satoshi:30.0.0/")
		cassette.Redact(c)
		Expect(c.Header.Redacted).To(BeTrue())
		cn := c.Conns[0]
		Expect(cn.Client).To(Equal("192.0.2.1:40000"))
		Expect(cn.Node).To(Equal("198.51.100.1:18444"))
		var stream []byte
		for _, e := range cn.Events {
			stream = append(stream, e.Bytes...)
			for _, m := range e.Msgs {
				Expect(m.Err).To(BeEmpty(), "frame %s broken by redaction", m.Cmd)
			}
		}
		for _, secret := range [][]byte{{10, 1, 2, 3}, {10, 9, 9, 9}, binary.LittleEndian.AppendUint64(nil, testNonce)} {
			Expect(bytes.Contains(stream, secret)).To(BeFalse(), "% x still there", secret)
		}
		Expect(len(cn.Events[0].Bytes)).To(Equal(30), "segment boundaries kept")
		v := cn.Events[1].Msgs[0].Version
		Expect(v.AddrRecv).To(Equal("198.51.100.1:18444"))
		Expect(v.AddrFrom).To(Equal("192.0.2.1:40000"))
		Expect(v.Nonce).NotTo(Equal(uint64(testNonce)))
		// Every frame reads back with a valid checksum through wire's reader.
		r := wire.NewReader(bytes.NewReader(stream[:len(stream)-len(cn.Events[2].Bytes)]), wire.Regtest)
		f, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal("version"))
	})

	It("redacts the recorded pcaps by default: no loopback address or real nonce is left", func() {
		path := needRecordings() + "/pcap/core-v30-v2off-inbound.pcap"
		plain := importPcap("core-v30-v2off-inbound.pcap")
		var nonces [][]byte
		for _, cn := range plain.Conns {
			for _, e := range cn.Events {
				for _, m := range e.Msgs {
					if m.Version != nil && m.Version.Nonce != 0 {
						nonces = append(nonces, binary.LittleEndian.AppendUint64(nil, m.Version.Nonce))
					}
				}
			}
		}
		Expect(nonces).NotTo(BeEmpty())
		red := importFile(path)
		Expect(red.Header.Redacted).To(BeTrue())
		for _, cn := range red.Conns {
			Expect(cn.Client).To(HavePrefix("192.0.2.1:"))
			for _, e := range cn.Events {
				for _, n := range nonces {
					Expect(bytes.Contains(e.Bytes, n)).To(BeFalse())
				}
				for _, m := range e.Msgs {
					if m.Version != nil {
						Expect(m.Version.AddrRecv).NotTo(HavePrefix("127."))
					}
				}
			}
		}
		// Frames that were valid stay valid: same errors as unredacted.
		Expect(errs(red)).To(Equal(errs(plain)))
	})

	DescribeTable("refuses a hostile file with an error, never a panic",
		func(text string, opts []cassette.ReadOption, want string) {
			c, err := cassette.Read(strings.NewReader(text), opts...)
			Expect(err).To(MatchError(ContainSubstring(want)))
			Expect(errors.Is(err, cassette.ErrInvalid)).To(BeTrue())
			Expect(c).To(BeNil())
		},
		Entry("empty", "", nil, "no header"),
		Entry("a huge line", `{"type":"cassette","format":1,"x":"`+strings.Repeat("A", 5000)+`"}`, []cassette.ReadOption{cassette.WithLimits(1000, 0)}, "longer than the limit of 1000"),
		Entry("a file over the limit", strings.Repeat(`{"type":"cassette","format":1}`+"\n", 1), []cassette.ReadOption{cassette.WithLimits(0, 10)}, "larger than the limit"),
		Entry("bad base64", header+`{"type":"conn","id":1}
{"type":"event","conn":1,"from":"client","t_us":0,"bytes":"!!!not base64"}`, nil, "line 3"),
		Entry("an absurd length", header+`{"type":"conn","id":1}
{"type":"event","conn":1,"from":"node","t_us":0,"msgs":[{"cmd":"version","len":99999999999}]}`, nil, "not a frame's"),
		Entry("a negative length", header+`{"type":"conn","id":1}
{"type":"event","conn":1,"from":"node","t_us":0,"msgs":[{"cmd":"ping","len":-1}]}`, nil, "not a frame's"),
		Entry("an event of no connection", header+`{"type":"event","conn":7,"from":"node","t_us":0}`, nil, "conn 7 was not opened"),
		Entry("time going back", header+`{"type":"conn","id":1}
{"type":"event","conn":1,"from":"node","t_us":10}
{"type":"event","conn":1,"from":"node","t_us":5}`, nil, "time goes back"),
		Entry("a later format", `{"type":"cassette","format":2}`, nil, "format version 2"),
		Entry("not JSON", "\x00\xff garbage", nil, "not a JSON object"),
		Entry("an unknown party", header+`{"type":"conn","id":1}
{"type":"event","conn":1,"from":"mallory","t_us":0}`, nil, "unknown party"),
		Entry("an event after the end", header+`{"type":"conn","id":1}
{"type":"end","conn":1,"how":"fin","t_us":0}
{"type":"event","conn":1,"from":"node","t_us":0}`, nil, "already ended"),
	)

	It("prints a transcript with one line per message, peer text escaped", func() {
		var out bytes.Buffer
		Expect(cassette.WriteTranscript(&out, handmade("/evil\x1b[2J/"))).To(Succeed())
		text := out.String()
		Expect(text).NotTo(ContainSubstring("\x1b"))
		Expect(text).To(ContainSubstring(`ua="/evil\x1b[2J/"`))
		Expect(text).To(ContainSubstring("conn 1  v1  client 10.9.9.9:40000 → node 10.1.2.3:18444"))
		Expect(text).To(MatchRegexp(`(?m)^\s+0\.150 ms  C → N  version\s+\d+ B  protocol=70016 services=0x0 ua="/ours:1/"`))
		Expect(text).To(MatchRegexp(`(?m)^\s+0\.900 ms  C ← N  verack\s+0 B$`))
		Expect(text).To(MatchRegexp(`(?m)^\s+2\.000 ms  C ← N  node closed \(fin\)$`))
		Expect(text).To(ContainSubstring("ended: fin by node at 2.000 ms"))
	})

	It("draws a mermaid sequence diagram, mermaid's characters escaped", func() {
		var out bytes.Buffer
		Expect(cassette.WriteDiagram(&out, handmade("/evil\x1b[2J;#x<b>/"))).To(Succeed())
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		Expect(lines[1]).To(Equal("sequenceDiagram"))
		Expect(lines).To(ContainElement("    participant C as client 10.9.9.9#58;40000"))
		Expect(lines).To(ContainElement("    C->>N: version (94 B) 70016 /ours#58;1/ at 0.150 ms"))
		Expect(lines).To(ContainElement("    N->>C: verack (0 B) at 0.900 ms"))
		Expect(lines).To(ContainElement(`    N->>C: version (102 B) 70016 /evil\x1b[2J#59;#35;x#60;b#62;/ at 0.900 ms`))
		Expect(lines[len(lines)-1]).To(Equal("    Note over C,N: ended: node fin at 2.000 ms"))
		Expect(out.String()).NotTo(ContainSubstring("\x1b"))
	})
})

const header = `{"type":"cassette","format":1,"network":"regtest","source":"pcap","redacted":false}
`

func importFile(path string) *cassette.Cassette {
	f := must(openFile(path))
	defer f.Close()
	c, err := cassette.ImportPcap(f, path, cassette.ImportOptions{})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// errs lists the kind of every broken-frame error of a cassette, in order.
func errs(c *cassette.Cassette) []string {
	var out []string
	for _, cn := range c.Conns {
		for _, e := range cn.Events {
			for _, m := range e.Msgs {
				if m.Err != "" {
					// The kind, not the detail: a redacted payload with a
					// broken checksum has another "want".
					kind, _, _ := strings.Cut(m.Err, ":")
					out = append(out, kind)
				}
			}
		}
	}
	return out
}
