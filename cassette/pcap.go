package cassette

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/btc-handshake/btc-handshake/wire"
)

// ImportOptions select and shape what an import keeps.
type ImportOptions struct {
	// Network is the network the frames are checked against; zero means
	// found from the first v1 version header in the file (mainnet if none).
	Network wire.Network
	// Port keeps only connections with this port on either side (0: all).
	Port uint16
	// Host keeps only connections with this address on either side.
	Host netip.Addr
	// NoRedact keeps addresses and nonces as recorded (see Redact).
	NoRedact bool
	// Tool names the importing program in the header.
	Tool string
}

// Bounds of a pcap import: the file, one packet, the segments held out of
// order per direction (beyond them a gap is accepted).
const (
	maxPcapSize      = 1 << 30
	maxSnapLen       = 256 << 10
	maxOutOfOrder    = 256
	maxOutOfOrderLen = 4 << 20
)

// ErrPcap is wrapped by the errors of ImportPcap about the file's content.
var ErrPcap = errors.New("unreadable capture")

// ImportPcap reads a pcap or pcapng file of Ethernet, Linux SLL, loopback
// or raw IP frames and makes one connection of each TCP stream that passes
// the filters: the side that sent the SYN is the client (without a SYN,
// the side with the higher port), each TCP segment with data is an event,
// FIN and RST are closes. Retransmitted bytes are dropped, segments that
// arrive early are held (a bounded number) until the gap before them is
// filled. name is the file's name, for the header.
func ImportPcap(r io.Reader, name string, o ImportOptions) (*Cassette, error) {
	lr := &limitedReader{r: r, left: maxPcapSize}
	br := bufio.NewReader(lr)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPcap, name, err)
	}
	var src interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var link layers.LinkType
	if binary.LittleEndian.Uint32(head) == 0x0a0d0d0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrPcap, name, err)
		}
		src, link = ng, ng.LinkType()
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrPcap, name, err)
		}
		// The file's snap length is what the reader allocates per packet;
		// a hostile header must not make that gigabytes.
		pr.SetSnaplen(min(pr.Snaplen(), maxSnapLen))
		src, link = pr, pr.LinkType()
	}
	t := newTracker(o)
	for {
		data, ci, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break // a capture cut short keeps what it has
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrPcap, name, err)
		}
		if p, ok := parsePacket(data, link); ok {
			t.packet(p, ci.Timestamp)
		}
	}
	if lr.over {
		return nil, fmt.Errorf("%w: %s: larger than %d bytes", ErrPcap, name, maxPcapSize)
	}
	c := t.cassette(filepath.Base(name), o)
	return c, nil
}

type limitedReader struct {
	r    io.Reader
	left int64
	over bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		l.over = true
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// tcpPacket is what the import needs of one packet.
type tcpPacket struct {
	src, dst           netip.AddrPort
	seq                uint32
	syn, ack, fin, rst bool
	payload            []byte
}

// parsePacket decodes the link, IP and TCP headers with gopacket's layers
// (pure Go). A packet it cannot decode is skipped, and a panic inside the
// decoders, should a malformed packet find one, is a skipped packet too.
func parsePacket(data []byte, link layers.LinkType) (p tcpPacket, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	pkt := gopacket.NewPacket(data, link, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var srcIP, dstIP netip.Addr
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		srcIP, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dstIP, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case *layers.IPv6:
		srcIP, _ = netip.AddrFromSlice(ip.SrcIP)
		dstIP, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		return p, false
	}
	tcp, isTCP := pkt.TransportLayer().(*layers.TCP)
	if !isTCP {
		return p, false
	}
	return tcpPacket{
		src: netip.AddrPortFrom(srcIP, uint16(tcp.SrcPort)), dst: netip.AddrPortFrom(dstIP, uint16(tcp.DstPort)),
		seq: tcp.Seq, syn: tcp.SYN, ack: tcp.ACK, fin: tcp.FIN, rst: tcp.RST, payload: tcp.Payload,
	}, true
}

type flowKey struct{ a, b netip.AddrPort }

func keyOf(p tcpPacket) flowKey {
	if p.src.Compare(p.dst) < 0 {
		return flowKey{p.src, p.dst}
	}
	return flowKey{p.dst, p.src}
}

// half is one direction of a TCP connection being reassembled.
type half struct {
	from   string
	synced bool   // next is known
	next   uint32 // next expected sequence number
	early  []early
	earlyN int
	closed bool
}

type early struct {
	seq  uint32
	data []byte
	at   time.Time
	fin  bool
}

type tcpConn struct {
	conn   Conn
	client netip.AddrPort
	halves map[string]*half
	done   bool // both sides closed, or reset
}

type tracker struct {
	o     ImportOptions
	live  map[flowKey]*tcpConn
	conns []*tcpConn
}

func newTracker(o ImportOptions) *tracker {
	return &tracker{o: o, live: map[flowKey]*tcpConn{}}
}

func (t *tracker) wanted(p tcpPacket) bool {
	if t.o.Port != 0 && p.src.Port() != t.o.Port && p.dst.Port() != t.o.Port {
		return false
	}
	if t.o.Host.IsValid() {
		h := t.o.Host.Unmap()
		if p.src.Addr().Unmap() != h && p.dst.Addr().Unmap() != h {
			return false
		}
	}
	return true
}

func (t *tracker) packet(p tcpPacket, at time.Time) {
	if !t.wanted(p) {
		return
	}
	k := keyOf(p)
	tc := t.live[k]
	opening := p.syn && !p.ack
	if opening && tc != nil {
		if h := tc.halves[Client]; tc.client == p.src && h.synced && h.next == p.seq+1 && !tc.done {
			return // a retransmitted SYN
		}
		tc = nil // a new connection on the same ports
	}
	if tc == nil {
		if !opening && !t.midstream(p) {
			return
		}
		client := p.src
		if !opening && p.src.Port() < p.dst.Port() {
			client = p.dst
		}
		tc = &tcpConn{client: client, halves: map[string]*half{Client: {from: Client}, Node: {from: Node}}}
		other := p.dst
		if client == p.dst {
			other = p.src
		}
		tc.conn = Conn{ID: len(t.conns) + 1, Client: client.String(), Node: other.String(), Start: at.UTC()}
		t.live[k] = tc
		t.conns = append(t.conns, tc)
	}
	from := Client
	if p.src != tc.client {
		from = Node
	}
	h := tc.halves[from]
	if p.syn {
		h.synced, h.next = true, p.seq+1
		return
	}
	if tc.done {
		return
	}
	if p.rst {
		tc.close(h, EndRST, at)
		tc.done = true
		return
	}
	if !h.synced {
		h.synced, h.next = true, p.seq
	}
	tc.segment(h, p.seq, p.payload, p.fin, at)
}

// midstream reports whether a packet of an unknown stream starts a
// connection (the capture began after its SYN): only if it carries data.
func (t *tracker) midstream(p tcpPacket) bool { return len(p.payload) > 0 && !p.rst }

// segment delivers data at seq in order, holding early segments.
func (tc *tcpConn) segment(h *half, seq uint32, data []byte, fin bool, at time.Time) {
	if d := int32(seq - h.next); d > 0 {
		if len(h.early) < maxOutOfOrder && h.earlyN+len(data) <= maxOutOfOrderLen {
			h.early = append(h.early, early{seq: seq, data: bytes.Clone(data), at: at, fin: fin})
			h.earlyN += len(data)
			return
		}
		// Too much held: accept the gap and deliver it where it is.
		h.next = seq
	} else if d < 0 {
		// Retransmitted, in part or whole: keep only what is new.
		skip := int(-d)
		if skip >= len(data) {
			if fin && skip == len(data) {
				tc.close(h, EndFIN, at)
			}
			return
		}
		data, seq = data[skip:], h.next
	}
	tc.deliver(h, data, fin, at)
	for len(h.early) > 0 {
		i := slices.IndexFunc(h.early, func(e early) bool { return int32(e.seq-h.next) <= 0 })
		if i < 0 {
			return
		}
		e := h.early[i]
		h.early = slices.Delete(h.early, i, i+1)
		h.earlyN -= len(e.data)
		skip := int(h.next - e.seq)
		if skip <= len(e.data) {
			tc.deliver(h, e.data[skip:], e.fin, e.at)
		}
	}
}

func (tc *tcpConn) deliver(h *half, data []byte, fin bool, at time.Time) {
	if len(data) > 0 {
		tc.conn.Events = append(tc.conn.Events, Event{From: h.from, At: tc.since(at), Bytes: bytes.Clone(data)})
		h.next += uint32(len(data))
	}
	if fin {
		h.next++
		tc.close(h, EndFIN, at)
	}
}

func (tc *tcpConn) close(h *half, how string, at time.Time) {
	if h.closed {
		return
	}
	h.closed = true
	tc.conn.Events = append(tc.conn.Events, Event{From: h.from, At: tc.since(at), Close: how})
	if tc.conn.End.How == "" {
		tc.conn.End = End{How: how, By: h.from, At: tc.since(at)}
	}
	if tc.halves[Client].closed && tc.halves[Node].closed {
		tc.done = true
	}
}

// since is at relative to the start; a clock that steps back gives 0
// rather than a negative time, and later events never go back.
func (tc *tcpConn) since(at time.Time) int64 {
	us := max(at.Sub(tc.conn.Start).Microseconds(), 0)
	if n := len(tc.conn.Events); n > 0 {
		us = max(us, tc.conn.Events[n-1].At)
	}
	return us
}

func (t *tracker) cassette(origin string, o ImportOptions) *Cassette {
	// Segments still held at the end of the capture follow a gap that
	// was never filled: deliver them in order after it.
	for _, tc := range t.conns {
		for _, h := range tc.halves {
			slices.SortFunc(h.early, func(a, b early) int { return int(int32(a.seq - b.seq)) })
			for _, e := range h.early {
				if d := int32(e.seq - h.next); d >= 0 {
					tc.deliver(h, e.data, e.fin, e.at)
				}
			}
			h.early = nil
		}
		if tc.conn.End.How == "" {
			tc.conn.End = End{How: EndOpen}
			if n := len(tc.conn.Events); n > 0 {
				tc.conn.End.At = tc.conn.Events[n-1].At
			}
		}
	}
	net := o.Network
	if net == 0 {
		net = findNetwork(t.conns)
	}
	c := &Cassette{Header: Header{Format: FormatVersion, Network: net.String(), Source: SourcePcap, Tool: o.Tool, Origin: origin}}
	for _, tc := range t.conns {
		decodeConn(&tc.conn, net)
		c.Conns = append(c.Conns, tc.conn)
	}
	if !o.NoRedact {
		Redact(c)
	}
	return c
}

// findNetwork is the network whose magic starts the first client stream
// that opens with a v1 version header; mainnet if none does.
func findNetwork(conns []*tcpConn) wire.Network {
	version := wire.CommandBytes(wire.CmdVersion)
	for _, tc := range conns {
		for _, e := range tc.conn.Events {
			if e.From != Client || len(e.Bytes) == 0 {
				continue
			}
			if len(e.Bytes) >= 16 && bytes.Equal(e.Bytes[4:16], version[:]) {
				if n := wire.Network(binary.LittleEndian.Uint32(e.Bytes)); n.Known() {
					return n
				}
			}
			break
		}
	}
	return wire.Mainnet
}
