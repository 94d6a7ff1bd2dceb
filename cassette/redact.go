package cassette

import (
	"encoding/binary"
	"net/netip"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Addresses that replace the parties' real ones: documentation ranges
// (RFC 5737 for IPv4, RFC 3849 for IPv6), so a redacted cassette still
// parses and replays, and nobody mistakes them for real hosts.
var (
	redactedV4 = map[string]netip.Addr{Client: netip.MustParseAddr("192.0.2.1"), Node: netip.MustParseAddr("198.51.100.1")}
	redactedV6 = map[string]netip.Addr{Client: netip.MustParseAddr("2001:db8::1"), Node: netip.MustParseAddr("2001:db8::2")}
)

// redactedNonce is the first replacement nonce, "REDACT\0\0" read as a
// little-endian number plus a counter: visible in a hex dump, and equal
// nonces stay equal (a self-connection stays one).
const redactedNonce = 0x0000544341444552

// Redact removes what identifies the recorder from c, in the bytes and in
// the decoded messages alike: the parties' endpoint addresses (replaced
// by documentation addresses, ports kept), the IP addresses of every
// version message (addr_recv and addr_from, zero addresses kept), and the
// version nonces (each distinct nonce mapped to its own placeholder, so a
// self-connection remains visible), and the session ids of v2
// connections (each distinct id mapped to its own placeholder). A frame whose checksum was valid is
// re-sealed, so it stays valid; a broken one stays broken. Messages-only
// payloads are rewritten the same way. c.Header.Redacted is set.
func Redact(c *Cassette) {
	net, err := wire.ParseNetwork(c.Header.Network)
	if err != nil {
		net = wire.Mainnet
	}
	nonces := map[uint64]uint64{}
	sessions := map[string]string{}
	for i := range c.Conns {
		redactConn(&c.Conns[i], net, nonces)
		redactV2(&c.Conns[i], nonces, sessions)
	}
	c.Header.Redacted = true
}

func redactConn(cn *Conn, net wire.Network, nonces map[uint64]uint64) {
	cn.Client = redactEndpoint(cn.Client, Client)
	cn.Node = redactEndpoint(cn.Node, Node)
	for _, from := range []string{Client, Node} {
		redactStream(cn, from, net, nonces)
	}
	for i := range cn.Events {
		e := &cn.Events[i]
		if len(e.Bytes) > 0 {
			continue
		}
		for j := range e.Msgs {
			m := &e.Msgs[j]
			if m.Cmd == wire.CmdVersion && len(m.Payload) > 0 {
				redactVersion(m.Payload, e.From, nonces)
				m.Version, m.Err = nil, ""
				describe(m, m.Payload)
			}
		}
	}
	decodeConn(cn, net)
}

func redactEndpoint(ep, party string) string {
	ap, err := netip.ParseAddrPort(ep)
	if err != nil {
		if ep == "" {
			return ""
		}
		return party // not an address: say only whose it was
	}
	return netip.AddrPortFrom(placeholder(ap.Addr(), party), ap.Port()).String()
}

func placeholder(a netip.Addr, party string) netip.Addr {
	if a.Unmap().Is4() {
		return redactedV4[party]
	}
	return redactedV6[party]
}

// redactStream rewrites the version frames that party sent in cn: it
// joins the segments into one stream, rewrites the payloads in place and
// cuts the stream back at the same boundaries.
func redactStream(cn *Conn, from string, net wire.Network, nonces map[uint64]uint64) {
	var all []byte
	for _, e := range cn.Events {
		if e.From == from {
			all = append(all, e.Bytes...)
		}
	}
	if len(all) < wire.HeaderSize || classify(all[:min(len(all), decideLen)]) != TransportV1 {
		return
	}
	changed := false
	for off := 0; len(all)-off >= wire.HeaderSize; {
		h, err := wire.ParseHeader(all[off:off+wire.HeaderSize], net, 0)
		if err != nil {
			break
		}
		end := off + wire.HeaderSize + int(h.Length)
		if end > len(all) {
			break
		}
		payload := all[off+wire.HeaderSize : end]
		if h.CommandName() == wire.CmdVersion {
			valid := wire.Checksum(payload) == h.Checksum
			redactVersion(payload, from, nonces)
			if valid {
				sum := wire.Checksum(payload)
				copy(all[off+20:off+24], sum[:])
			}
			changed = true
		}
		off = end
	}
	if !changed {
		return
	}
	for i := range cn.Events {
		e := &cn.Events[i]
		if e.From == from && len(e.Bytes) > 0 {
			n := copy(e.Bytes, all)
			all = all[n:]
		}
	}
}

// redactVersion rewrites a version payload in place, as far as it goes:
// addr_recv names the other party, addr_from the sender.
func redactVersion(p []byte, from string, nonces map[uint64]uint64) {
	other := Node
	if from == Node {
		other = Client
	}
	const recvIP, fromIP, nonceAt = 4 + 8 + 8 + 8, 4 + 8 + 8 + 26 + 8, 4 + 8 + 8 + 26 + 26
	redactIP(p, recvIP, other)
	redactIP(p, fromIP, from)
	if len(p) >= nonceAt+8 {
		n := binary.LittleEndian.Uint64(p[nonceAt:])
		binary.LittleEndian.PutUint64(p[nonceAt:], redactNonce(n, nonces))
	}
}

func redactIP(p []byte, at int, party string) {
	if len(p) < at+16 {
		return
	}
	ip := netip.AddrFrom16([16]byte(p[at : at+16]))
	if ip.Unmap().IsUnspecified() {
		return
	}
	b := placeholder(ip, party).As16()
	copy(p[at:at+16], b[:])
}
