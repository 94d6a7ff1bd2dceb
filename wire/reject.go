package wire

import "fmt"

// Reject codes (BIP61), as btcd still sends them (btcd wire/msgreject.go).
const (
	RejectMalformed   byte = 0x01
	RejectInvalid     byte = 0x10
	RejectObsolete    byte = 0x11
	RejectDuplicate   byte = 0x12
	RejectNonstandard byte = 0x40
)

// Reject tells a peer why one of its messages was refused (BIP61). Bitcoin
// Core no longer sends it; btcd does. Decode leaves it a Raw, as the
// handshake needs only its command; DecodePayload parses it.
type Reject struct {
	// Message is the command of the message refused.
	Message string
	// Code is one of the Reject codes.
	Code byte
	// Reason is a human-readable reason.
	Reason string
}

// Command implements Message.
func (Reject) Command() string { return CmdReject }

// AppendPayload implements Message.
func (m Reject) AppendPayload(dst []byte) []byte {
	dst = appendVarString(dst, m.Message)
	dst = append(dst, m.Code)
	return appendVarString(dst, m.Reason)
}

// DecodePayload decodes the command, code and reason; bytes after them
// (the hash of a refused block or transaction) are ignored.
func (m *Reject) DecodePayload(b []byte) error {
	*m = Reject{}
	var n int
	var err error
	if m.Message, n, err = readVarString(b, CmdReject, "message"); err != nil {
		return err
	}
	b = b[n:]
	if err := need(b, 1, CmdReject, "code"); err != nil {
		return err
	}
	m.Code, b = b[0], b[1:]
	m.Reason, _, err = readVarString(b, CmdReject, "reason")
	return err
}

func appendVarString(dst []byte, s string) []byte {
	return append(appendCompactSize(dst, uint64(len(s))), s...)
}

// readVarString reads a CompactSize-prefixed string that must fit in b.
func readVarString(b []byte, cmd, field string) (string, int, error) {
	l, n, err := readCompactSize(b)
	if err != nil {
		return "", 0, payloadErr(err, cmd, field)
	}
	if l > uint64(len(b)-n) {
		return "", 0, payloadErr(ErrTruncated, cmd, fmt.Sprintf("%s of %d bytes, %d left", field, l, len(b)-n))
	}
	return string(b[n : n+int(l)]), n + int(l), nil
}
