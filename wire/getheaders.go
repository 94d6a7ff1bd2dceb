package wire

import (
	"encoding/binary"
	"fmt"
)

// maxLocator is the most hashes a locator may hold (src/net_processing.cpp
// MAX_LOCATOR_SZ).
const maxLocator = 101

// GetHeaders asks for headers after the first locator hash the peer knows.
// A node that has only the genesis block sends its network's genesis hash
// (Network.GenesisHash) as the locator and a zero stop hash, which is what
// Core sends after the handshake. Decode leaves it a Raw; DecodePayload
// parses it.
type GetHeaders struct {
	// Version is the locator version (0 means ProtocolVersion).
	Version int32
	// Locator are block hashes, newest first, in wire byte order.
	Locator [][32]byte
	// Stop is the last hash wanted; zero for as many as possible.
	Stop [32]byte
}

// Command implements Message.
func (GetHeaders) Command() string { return CmdGetHeaders }

// AppendPayload implements Message.
func (m GetHeaders) AppendPayload(dst []byte) []byte {
	v := m.Version
	if v == 0 {
		v = ProtocolVersion
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
	dst = appendCompactSize(dst, uint64(len(m.Locator)))
	for i := range m.Locator {
		dst = append(dst, m.Locator[i][:]...)
	}
	return append(dst, m.Stop[:]...)
}

// DecodePayload decodes a getheaders of at most 101 locator hashes.
func (m *GetHeaders) DecodePayload(b []byte) error {
	*m = GetHeaders{}
	if err := need(b, 4, CmdGetHeaders, "version"); err != nil {
		return err
	}
	m.Version = int32(binary.LittleEndian.Uint32(b))
	n, k, err := readCompactSize(b[4:])
	if err != nil {
		return payloadErr(err, CmdGetHeaders, "locator count")
	}
	if n > maxLocator {
		return payloadErr(ErrPayloadTooLarge, CmdGetHeaders, fmt.Sprintf("%d locator hashes", n))
	}
	b = b[4+k:]
	if err := need(b, int(n+1)*32, CmdGetHeaders, "locator and stop hash"); err != nil {
		return err
	}
	m.Locator = make([][32]byte, n)
	for i := range m.Locator {
		m.Locator[i] = [32]byte(b[32*i:])
	}
	m.Stop = [32]byte(b[32*n:])
	return nil
}
