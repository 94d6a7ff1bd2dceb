package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// NetAddress is an address as carried in a version message: services,
// IPv6 (or IPv4-mapped) address and big-endian port, 26 bytes. From a
// netip.AddrPort:
//
//	wire.NetAddress{IP: ap.Addr().As16(), Port: ap.Port()}
type NetAddress struct {
	Services uint64
	// IP is the address, an IPv4 one IPv4-mapped (netip.Addr.As16).
	IP   [16]byte
	Port uint16
}

// AddrPort returns the address (IPv4-mapped addresses unmapped) and port.
func (a NetAddress) AddrPort() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(a.IP).Unmap(), a.Port)
}

// IsZero reports whether the address is all zeros (as Core sends addr_from).
func (a NetAddress) IsZero() bool { return a == NetAddress{} }

const netAddressSize = 26

func (a NetAddress) appendTo(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, a.Services)
	dst = append(dst, a.IP[:]...)
	return binary.BigEndian.AppendUint16(dst, a.Port)
}

func (a *NetAddress) decode(b []byte) {
	a.Services = binary.LittleEndian.Uint64(b)
	copy(a.IP[:], b[8:24])
	a.Port = binary.BigEndian.Uint16(b[24:26])
}

// VersionTail says which optional groups of a version payload are present.
// Groups are cumulative: each one is present only if all before it are.
// The zero value means all of them, so a Version literal encodes in full.
type VersionTail uint8

// The optional groups, from the fullest to the minimal 46-byte form.
const (
	TailFull          VersionTail = iota // through relay
	TailNoRelay                          // through start height, relay absent (means true)
	TailNoStartHeight                    // through user agent
	TailNoUserAgent                      // through addr_from and nonce
	TailMinimal                          // the 46 required bytes only
)

func (t VersionTail) String() string {
	switch t {
	case TailFull:
		return "full"
	case TailNoRelay:
		return "no-relay"
	case TailNoStartHeight:
		return "no-start-height"
	case TailNoUserAgent:
		return "no-user-agent"
	case TailMinimal:
		return "minimal"
	}
	return fmt.Sprintf("VersionTail(%d)", uint8(t))
}

// versionMinSize is the size of the required part of a version payload.
const versionMinSize = 4 + 8 + 8 + netAddressSize

// Version is the first message of each side (src/net_processing.cpp,
// VERSION branch). Optional groups are read only when bytes remain; a
// partial group is an error; a missing relay byte means true; bytes after
// relay are ignored (counted in TrailingBytes).
type Version struct {
	ProtocolVersion int32
	Services        uint64
	Timestamp       int64
	AddrRecv        NetAddress
	AddrFrom        NetAddress
	Nonce           uint64
	UserAgent       string
	StartHeight     int32
	Relay           bool
	// Tail selects which optional groups are encoded, and is set by
	// DecodePayload to what the peer sent.
	Tail VersionTail
	// TrailingBytes counts bytes after relay (decode only).
	TrailingBytes int
}

// Command implements Message.
func (*Version) Command() string { return CmdVersion }

// AppendPayload implements Message. User agents longer than MaxUserAgentLen
// are written as they are: mock peers send them on purpose.
func (m *Version) AppendPayload(dst []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.ProtocolVersion))
	dst = binary.LittleEndian.AppendUint64(dst, m.Services)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(m.Timestamp))
	dst = m.AddrRecv.appendTo(dst)
	if m.Tail >= TailMinimal {
		return dst
	}
	dst = m.AddrFrom.appendTo(dst)
	dst = binary.LittleEndian.AppendUint64(dst, m.Nonce)
	if m.Tail >= TailNoUserAgent {
		return dst
	}
	dst = appendCompactSize(dst, uint64(len(m.UserAgent)))
	dst = append(dst, m.UserAgent...)
	if m.Tail >= TailNoStartHeight {
		return dst
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(m.StartHeight))
	if m.Tail >= TailNoRelay {
		return dst
	}
	if m.Relay {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// DecodePayload decodes a version payload. The user agent is the only
// allocation.
func (m *Version) DecodePayload(b []byte) error {
	*m = Version{}
	if err := need(b, versionMinSize, CmdVersion, "required fields"); err != nil {
		return err
	}
	m.ProtocolVersion = int32(binary.LittleEndian.Uint32(b))
	m.Services = binary.LittleEndian.Uint64(b[4:])
	m.Timestamp = int64(binary.LittleEndian.Uint64(b[12:]))
	m.AddrRecv.decode(b[20:])
	b = b[versionMinSize:]
	m.Relay = true
	m.Tail = TailMinimal
	if len(b) == 0 {
		return nil
	}
	if err := need(b, netAddressSize+8, CmdVersion, "addr_from+nonce"); err != nil {
		return err
	}
	m.AddrFrom.decode(b)
	m.Nonce = binary.LittleEndian.Uint64(b[netAddressSize:])
	b = b[netAddressSize+8:]
	m.Tail = TailNoUserAgent
	if len(b) == 0 {
		return nil
	}
	n, used, err := readCompactSize(b)
	if err != nil {
		return &FrameError{Err: unwrapSentinel(err), Command: CmdVersion, Detail: "user agent length: " + err.Error(), Recoverable: true}
	}
	if n > MaxUserAgentLen {
		return payloadErr(ErrUserAgentTooLong, CmdVersion, fmt.Sprintf("%d bytes", n))
	}
	b = b[used:]
	if err := need(b, int(n), CmdVersion, "user agent"); err != nil {
		return err
	}
	m.UserAgent = string(b[:n])
	b = b[n:]
	m.Tail = TailNoStartHeight
	if len(b) == 0 {
		return nil
	}
	if err := need(b, 4, CmdVersion, "start height"); err != nil {
		return err
	}
	m.StartHeight = int32(binary.LittleEndian.Uint32(b))
	b = b[4:]
	m.Tail = TailNoRelay
	if len(b) == 0 {
		return nil
	}
	m.Relay = b[0] != 0
	m.Tail = TailFull
	m.TrailingBytes = len(b) - 1
	return nil
}

func unwrapSentinel(err error) error {
	for _, s := range []error{ErrNonCanonical, ErrTruncated} {
		if errors.Is(err, s) {
			return s
		}
	}
	return ErrTruncated
}
