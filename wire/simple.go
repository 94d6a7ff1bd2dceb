package wire

import (
	"encoding/binary"
	"fmt"
)

// Verack acknowledges the peer's version. Its payload is empty; Core does
// not read a verack's payload, so extra bytes are ignored here too.
type Verack struct{}

// Command implements Message.
func (Verack) Command() string { return CmdVerack }

// AppendPayload implements Message.
func (Verack) AppendPayload(dst []byte) []byte { return dst }

// SendHeaders asks for headers announcements instead of inv (BIP130, 70012).
type SendHeaders struct{}

// Command implements Message.
func (SendHeaders) Command() string { return CmdSendHeaders }

// AppendPayload implements Message.
func (SendHeaders) AppendPayload(dst []byte) []byte { return dst }

// WtxidRelay announces wtxid-based relay (BIP339); valid only before verack.
type WtxidRelay struct{}

// Command implements Message.
func (WtxidRelay) Command() string { return CmdWtxidRelay }

// AppendPayload implements Message.
func (WtxidRelay) AppendPayload(dst []byte) []byte { return dst }

// SendAddrV2 announces addrv2 support (BIP155); valid only before verack.
type SendAddrV2 struct{}

// Command implements Message.
func (SendAddrV2) Command() string { return CmdSendAddrV2 }

// AppendPayload implements Message.
func (SendAddrV2) AppendPayload(dst []byte) []byte { return dst }

// GetAddr asks for known addresses.
type GetAddr struct{}

// Command implements Message.
func (GetAddr) Command() string { return CmdGetAddr }

// AppendPayload implements Message.
func (GetAddr) AppendPayload(dst []byte) []byte { return dst }

// Ping carries a nonce for peers above BIP31Version; older peers send an
// empty ping, which decodes with NoNonce set.
type Ping struct {
	Nonce   uint64
	NoNonce bool
}

// Command implements Message.
func (Ping) Command() string { return CmdPing }

// AppendPayload implements Message.
func (m Ping) AppendPayload(dst []byte) []byte {
	if m.NoNonce {
		return dst
	}
	return binary.LittleEndian.AppendUint64(dst, m.Nonce)
}

// DecodePayload decodes an empty (pre-BIP31) or 8-byte ping; extra bytes are ignored.
func (m *Ping) DecodePayload(b []byte) error {
	*m = Ping{}
	if len(b) == 0 {
		m.NoNonce = true
		return nil
	}
	if err := need(b, 8, CmdPing, "nonce"); err != nil {
		return err
	}
	m.Nonce = binary.LittleEndian.Uint64(b)
	return nil
}

// Pong answers a ping with its nonce (BIP31).
type Pong struct {
	Nonce uint64
}

// Command implements Message.
func (Pong) Command() string { return CmdPong }

// AppendPayload implements Message.
func (m Pong) AppendPayload(dst []byte) []byte {
	return binary.LittleEndian.AppendUint64(dst, m.Nonce)
}

// DecodePayload decodes the 8-byte nonce; extra bytes are ignored.
func (m *Pong) DecodePayload(b []byte) error {
	if err := need(b, 8, CmdPong, "nonce"); err != nil {
		return err
	}
	m.Nonce = binary.LittleEndian.Uint64(b)
	return nil
}

// SendCmpct announces compact block support (BIP152, 70014).
type SendCmpct struct {
	Announce bool
	Version  uint64
}

// Command implements Message.
func (SendCmpct) Command() string { return CmdSendCmpct }

// AppendPayload implements Message.
func (m SendCmpct) AppendPayload(dst []byte) []byte {
	var a byte
	if m.Announce {
		a = 1
	}
	return binary.LittleEndian.AppendUint64(append(dst, a), m.Version)
}

// DecodePayload decodes the 9-byte payload. Any non-zero announce byte is
// true, as Core reads a bool.
func (m *SendCmpct) DecodePayload(b []byte) error {
	if err := need(b, 9, CmdSendCmpct, "announce+version"); err != nil {
		return err
	}
	m.Announce = b[0] != 0
	m.Version = binary.LittleEndian.Uint64(b[1:])
	return nil
}

// SendTxRcncl announces Erlay transaction reconciliation (BIP330).
type SendTxRcncl struct {
	Version uint32
	Salt    uint64
}

// Command implements Message.
func (SendTxRcncl) Command() string { return CmdSendTxRcncl }

// AppendPayload implements Message.
func (m SendTxRcncl) AppendPayload(dst []byte) []byte {
	return binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint32(dst, m.Version), m.Salt)
}

// DecodePayload decodes the 12-byte payload.
func (m *SendTxRcncl) DecodePayload(b []byte) error {
	if err := need(b, 12, CmdSendTxRcncl, "version+salt"); err != nil {
		return err
	}
	m.Version = binary.LittleEndian.Uint32(b)
	m.Salt = binary.LittleEndian.Uint64(b[4:])
	return nil
}

// FeeFilter sets the minimum fee rate (sat/kvB) for relayed transactions (BIP133).
type FeeFilter struct {
	FeeRate int64
}

// Command implements Message.
func (FeeFilter) Command() string { return CmdFeeFilter }

// AppendPayload implements Message.
func (m FeeFilter) AppendPayload(dst []byte) []byte {
	return binary.LittleEndian.AppendUint64(dst, uint64(m.FeeRate))
}

// DecodePayload decodes the 8-byte fee rate.
func (m *FeeFilter) DecodePayload(b []byte) error {
	if err := need(b, 8, CmdFeeFilter, "feerate"); err != nil {
		return err
	}
	m.FeeRate = int64(binary.LittleEndian.Uint64(b))
	return nil
}

// Raw is any message kept as bytes: commands this package does not decode,
// alert, or anything a mock peer wants to send verbatim.
type Raw struct {
	Cmd     string
	Payload []byte
}

// Command implements Message.
func (m Raw) Command() string { return m.Cmd }

// AppendPayload implements Message.
func (m Raw) AppendPayload(dst []byte) []byte { return append(dst, m.Payload...) }

// String shows the command and payload size.
func (m Raw) String() string { return fmt.Sprintf("%s(%d bytes)", m.Cmd, len(m.Payload)) }
