package wire

import "encoding/binary"

// RawFrame is a frame spelled out field by field so that any field can be
// wrong on purpose: mock peers use it to send wrong magics, bad checksums,
// lengths that lie, invalid command bytes and truncated payloads. The
// normal encoder (AppendMessage) never produces a broken frame; a broken
// one is always an explicit RawFrame value.
type RawFrame struct {
	Magic    [4]byte
	Command  [CommandSize]byte
	Length   uint32
	Checksum [4]byte
	Payload  []byte
}

// NewRawFrame returns the correct frame for m on net, as a starting point
// for breaking one field.
func NewRawFrame(net Network, m Message) RawFrame {
	payload := m.AppendPayload(nil)
	return RawFrame{
		Magic:    net.Magic(),
		Command:  CommandBytes(m.Command()),
		Length:   uint32(len(payload)),
		Checksum: Checksum(payload),
		Payload:  payload,
	}
}

// WithMagic returns f with another network's magic.
func (f RawFrame) WithMagic(net Network) RawFrame { f.Magic = net.Magic(); return f }

// WithMagicBytes returns f with arbitrary magic bytes.
func (f RawFrame) WithMagicBytes(m [4]byte) RawFrame { f.Magic = m; return f }

// WithCommandBytes returns f with arbitrary command bytes.
func (f RawFrame) WithCommandBytes(c [CommandSize]byte) RawFrame { f.Command = c; return f }

// WithLength returns f with a declared length that need not match the payload.
func (f RawFrame) WithLength(n uint32) RawFrame { f.Length = n; return f }

// WithChecksum returns f with the given checksum.
func (f RawFrame) WithChecksum(c [4]byte) RawFrame { f.Checksum = c; return f }

// WithBadChecksum returns f with its checksum's bits inverted.
func (f RawFrame) WithBadChecksum() RawFrame {
	for i := range f.Checksum {
		f.Checksum[i] ^= 0xff
	}
	return f
}

// WithPayload replaces the payload and nothing else: length and checksum
// keep describing the old one unless Resealed is called.
func (f RawFrame) WithPayload(p []byte) RawFrame { f.Payload = p; return f }

// Resealed returns f with length and checksum recomputed for its payload.
func (f RawFrame) Resealed() RawFrame {
	f.Length = uint32(len(f.Payload))
	f.Checksum = Checksum(f.Payload)
	return f
}

// Truncated returns f with the payload cut to n bytes (a negative n means
// 0) while the header still declares the original length (a frame that
// never completes).
func (f RawFrame) Truncated(n int) RawFrame {
	n = max(n, 0)
	if n < len(f.Payload) {
		f.Payload = f.Payload[:n:n]
	}
	return f
}

// AppendTo appends the frame's bytes, exactly as specified, to dst.
func (f RawFrame) AppendTo(dst []byte) []byte {
	dst = append(dst, f.Magic[:]...)
	dst = append(dst, f.Command[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, f.Length)
	dst = append(dst, f.Checksum[:]...)
	return append(dst, f.Payload...)
}

// Bytes returns the frame's bytes.
func (f RawFrame) Bytes() []byte { return f.AppendTo(make([]byte, 0, HeaderSize+len(f.Payload))) }
