package cassette_test

import (
	"bytes"
	"net"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/wire"
)

// seg is one TCP packet of a handmade capture.
type seg struct {
	fromClient         bool
	seq                uint32
	syn, ack, fin, rst bool
	data               []byte
}

// handmadePcap writes segs as an Ethernet/IPv4 pcap, 1 ms apart.
func handmadePcap(segs []seg) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	Expect(w.WriteFileHeader(65535, layers.LinkTypeEthernet)).To(Succeed())
	t := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for i, s := range segs {
		src, dst := net.IP{10, 0, 0, 1}, net.IP{10, 0, 0, 2}
		sp, dp := layers.TCPPort(50000), layers.TCPPort(18444)
		if !s.fromClient {
			src, dst, sp, dp = dst, src, dp, sp
		}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		tcp := &layers.TCP{SrcPort: sp, DstPort: dp, Seq: s.seq, SYN: s.syn, ACK: s.ack, FIN: s.fin, RST: s.rst, Window: 65535}
		Expect(tcp.SetNetworkLayerForChecksum(ip)).To(Succeed())
		out := gopacket.NewSerializeBuffer()
		Expect(gopacket.SerializeLayers(out, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
			eth, ip, tcp, gopacket.Payload(s.data))).To(Succeed())
		ci := gopacket.CaptureInfo{Timestamp: t.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(out.Bytes()), Length: len(out.Bytes())}
		Expect(w.WritePacket(ci, out.Bytes())).To(Succeed())
	}
	return buf.Bytes()
}

var _ = Describe("pcap import", func() {
	It("reassembles a stream with a retransmission and segments out of order", func() {
		ping := wire.AppendMessage(nil, wire.Regtest, wire.Ping{Nonce: 9})
		pong := wire.AppendMessage(nil, wire.Regtest, wire.Pong{Nonce: 9})
		const c0, n0 = 1000, 5000
		p := handmadePcap([]seg{
			{fromClient: true, seq: c0, syn: true},
			{seq: n0, syn: true, ack: true},
			{fromClient: true, seq: c0 + 1, ack: true, data: ping[:10]},
			{fromClient: true, seq: c0 + 1, ack: true, data: ping[:10]},  // retransmitted
			{fromClient: true, seq: c0 + 21, ack: true, data: ping[20:]}, // early
			{fromClient: true, seq: c0 + 11, ack: true, data: ping[10:20]},
			{seq: n0 + 1, ack: true, data: pong},
			{seq: n0 + 1 + uint32(len(pong)), ack: true, fin: true},
			{fromClient: true, seq: c0 + 1 + uint32(len(ping)), ack: true, rst: true},
			// a new connection on the same ports
			{fromClient: true, seq: 77, syn: true},
		})
		c, err := cassette.ImportPcap(bytes.NewReader(p), "hand.pcap", cassette.ImportOptions{NoRedact: true, Network: wire.Regtest})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Conns).To(HaveLen(2))
		cn := c.Conns[0]
		Expect(cn.Client).To(Equal("10.0.0.1:50000"))
		var client []byte
		for _, e := range cn.Events {
			if e.From == cassette.Client {
				client = append(client, e.Bytes...)
			}
		}
		Expect(client).To(Equal(ping))
		Expect(commands(cn, cassette.Client)).To(Equal([]string{"ping"}))
		Expect(commands(cn, cassette.Node)).To(Equal([]string{"pong"}))
		Expect(cn.End).To(Equal(cassette.End{How: cassette.EndFIN, By: cassette.Node, At: 7000}))
		Expect(cn.Events[len(cn.Events)-1]).To(Equal(cassette.Event{From: cassette.Client, At: 8000, Close: cassette.EndRST}))
		Expect(c.Conns[1].End.How).To(Equal(cassette.EndOpen))
	})

	It("filters by port and host, and refuses what is not a capture", func() {
		p := handmadePcap([]seg{{fromClient: true, seq: 1, syn: true}})
		for _, o := range []cassette.ImportOptions{{Port: 1}, {Host: netipMust("10.9.9.9")}} {
			c, err := cassette.ImportPcap(bytes.NewReader(p), "hand.pcap", o)
			Expect(err).NotTo(HaveOccurred())
			Expect(c.Conns).To(BeEmpty())
		}
		c, err := cassette.ImportPcap(bytes.NewReader(p), "hand.pcap", cassette.ImportOptions{Port: 18444, Host: netipMust("10.0.0.1")})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Conns).To(HaveLen(1))
		_, err = cassette.ImportPcap(bytes.NewReader([]byte("not a pcap at all")), "x", cassette.ImportOptions{})
		Expect(err).To(MatchError(cassette.ErrPcap))
	})
})
