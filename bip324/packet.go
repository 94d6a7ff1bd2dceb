package bip324

// Packet is a v2 packet spelled out, broken on purpose or not: the v2
// counterpart of wire.RawFrame, for mock peers. It has the methods of
// wire.Message, so that a mock peer sends it where it sends messages
// (mockpeer's Send, on a connection in v2), though its bytes depend on
// the cipher: AppendTo makes them.
type Packet struct {
	// Contents are the packet's contents: a message type (a short id, or
	// 0 and 12 command bytes) and a payload, or anything at all.
	Contents []byte
	// Ignore sets the ignore bit (a decoy).
	Ignore bool
	// Declared, when positive, is the length the length field declares in
	// place of len(Contents); only the 3-byte field and Contents as they
	// are (unencrypted, the rest of a lie) are sent then.
	Declared int
}

// Command is empty: a packet spelled out has no command of its own.
func (Packet) Command() string { return "" }

// AppendPayload appends the contents as they are, unencrypted.
func (p Packet) AppendPayload(dst []byte) []byte { return append(dst, p.Contents...) }

// AppendTo appends the packet as c sends it: encrypted, or, when Declared
// is set, the lie of a length field followed by the contents as they are.
func (p Packet) AppendTo(dst []byte, c *Cipher) ([]byte, error) {
	if p.Declared <= 0 {
		return c.Encrypt(dst, p.Contents, nil, p.Ignore)
	}
	// The length field's keystream is what a packet with empty contents
	// shows in its field: XOR the declared length into it, without
	// encrypting (and allocating) that many bytes.
	start := len(dst)
	dst, err := c.Encrypt(dst, nil, nil, false)
	if err != nil {
		return dst, err
	}
	n, f := p.Declared, dst[start:]
	dst = append(dst[:start], f[0]^byte(n), f[1]^byte(n>>8), f[2]^byte(n>>16))
	return append(dst, p.Contents...), nil
}
