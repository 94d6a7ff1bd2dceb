package cassette

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Parts of a v2 stream seen without its keys (Message.V2).
const (
	V2Key       = "key"
	V2Encrypted = "encrypted"
)

// maxV2Part bounds the length a v2 part may claim in a cassette: one
// segment, which a line must hold.
const maxV2Part = 1 << 24

// stream decodes one direction of a connection as its segments arrive:
// v1 frames, or the parts of a v2 stream. A frame is reported with the
// segment that completes it.
type stream struct {
	net  wire.Network
	mode string // "", TransportV1 or TransportV2
	buf  []byte // bytes not yet decoded (v1), or the first bytes while undecided
	seen int    // bytes fed so far
	dead bool   // v1 framing lost: the rest is not decoded
}

// decideLen is how many bytes tell a v1 stream from a v2 one: a magic and
// a command.
const decideLen = bip324.DetectSize

// feed decodes b, the next segment, and returns the messages it completed.
func (s *stream) feed(b []byte) []Message {
	s.seen += len(b)
	if s.mode == "" {
		s.buf = append(s.buf, b...)
		if len(s.buf) < decideLen {
			return nil
		}
		s.mode = classify(s.buf)
		b, s.buf = s.buf, nil
	}
	if s.mode == TransportV2 {
		return s.v2Parts(len(b))
	}
	if s.dead {
		return nil
	}
	s.buf = append(s.buf, b...)
	return s.frames()
}

// v2Parts splits n more bytes of a v2 stream into its key and the rest.
func (s *stream) v2Parts(n int) []Message {
	start := s.seen - n
	var out []Message
	if start < bip324.KeyLen {
		k := min(n, bip324.KeyLen-start)
		out = append(out, Message{V2: V2Key, Len: k})
		n -= k
	}
	if n > 0 {
		out = append(out, Message{V2: V2Encrypted, Len: n})
	}
	return out
}

// classify says whether the first bytes of a stream are v1 framing (a
// known network's magic, or a valid command where v1 has it) or not, in
// which case they start a v2 key: without keys nothing more can be known.
func classify(b []byte) string {
	if len(b) >= 4 {
		magic := wire.Network(binary.LittleEndian.Uint32(b))
		if magic.Known() {
			return TransportV1
		}
	} else {
		for _, n := range wire.Networks() {
			m := n.Magic()
			if bytes.HasPrefix(m[:], b) {
				return TransportV1
			}
		}
	}
	if len(b) >= 4+wire.CommandSize && (wire.Header{Command: [wire.CommandSize]byte(b[4:16])}).ValidCommand() {
		return TransportV1
	}
	return TransportV2
}

// frames decodes the whole v1 frames in s.buf.
func (s *stream) frames() []Message {
	var out []Message
	for len(s.buf) >= wire.HeaderSize && !s.dead {
		h, err := wire.ParseHeader(s.buf[:wire.HeaderSize], s.net, 0)
		if err != nil {
			// Out of sync: the rest of the stream is not frames.
			out = append(out, Message{Cmd: cmdText(h.Command), Len: int(min(h.Length, wire.MaxPayload+1)), Err: errText(err)})
			s.dead, s.buf = true, nil
			break
		}
		total := wire.HeaderSize + int(h.Length)
		if len(s.buf) < total {
			break
		}
		out = append(out, decodeFrame(h, s.buf[wire.HeaderSize:total]))
		s.buf = s.buf[total:]
	}
	if len(s.buf) == 0 {
		s.buf = nil
	}
	return out
}

// finish reports what the stream left undecoded when it ended.
func (s *stream) finish() []Message {
	if s.mode == "" && len(s.buf) > 0 {
		s.mode = classify(s.buf)
		b := s.buf
		s.buf = nil
		if s.mode == TransportV2 {
			return s.v2Parts(len(b))
		}
		s.buf = b
		out := s.frames()
		return append(out, s.finish()...)
	}
	if s.mode == TransportV1 && !s.dead && len(s.buf) > 0 {
		m := Message{Len: len(s.buf), Err: fmt.Sprintf("truncated frame: the stream ended after %d bytes of it", len(s.buf))}
		if len(s.buf) >= wire.HeaderSize {
			m.Cmd = cmdText([wire.CommandSize]byte(s.buf[4:16]))
		}
		s.buf = nil
		return []Message{m}
	}
	return nil
}

// decodeFrame describes one whole v1 frame.
func decodeFrame(h wire.Header, payload []byte) Message {
	m := Message{Cmd: cmdText(h.Command), Len: int(h.Length)}
	if sum := wire.Checksum(payload); sum != h.Checksum {
		m.Err = fmt.Sprintf("payload checksum mismatch: got %x, want %x", h.Checksum, sum)
		return m
	}
	if !h.ValidCommand() {
		m.Err = "invalid command bytes"
		return m
	}
	describe(&m, payload)
	return m
}

// describe fills in the decoded fields of a message from its payload.
func describe(m *Message, payload []byte) {
	switch m.Cmd {
	case wire.CmdVersion:
		var v wire.Version
		if err := v.DecodePayload(payload); err != nil {
			m.Err = errText(err)
			return
		}
		m.Version = versionInfo(&v)
	case wire.CmdPing, wire.CmdPong:
		if len(payload) >= 8 {
			n := binary.LittleEndian.Uint64(payload)
			m.Nonce = &n
		}
	}
}

// cmdText is a command without its NUL padding, as valid UTF-8.
func cmdText(c [wire.CommandSize]byte) string {
	return strings.ToValidUTF8(strings.TrimRight(string(c[:]), "\x00"), "\uFFFD")
}

// errText is a wire error without the package prefix.
func errText(err error) string {
	var fe *wire.FrameError
	if errors.As(err, &fe) {
		return strings.TrimPrefix(fe.Error(), "wire: ")
	}
	return err.Error()
}

// Decode recomputes the messages of every segment and each connection's
// transport from the bytes, checking frames against the cassette's
// network: a recorder that wrote only bytes calls it before writing.
// Messages-only events are kept as they are.
func Decode(c *Cassette) {
	net, err := wire.ParseNetwork(c.Header.Network)
	if err != nil {
		net = wire.Mainnet
	}
	for i := range c.Conns {
		decodeConn(&c.Conns[i], net)
	}
}

// decodeConn (re)computes the messages of every segment of cn from its
// bytes, and its transport. Messages-only events (no bytes) are kept as
// they are.
func decodeConn(cn *Conn, net wire.Network) {
	dirs := map[string]*stream{Client: {net: net}, Node: {net: net}}
	last := map[string]int{}
	hasBytes := false
	for i := range cn.Events {
		e := &cn.Events[i]
		if len(e.Bytes) == 0 {
			continue
		}
		hasBytes = true
		e.Msgs = dirs[e.From].feed(e.Bytes)
		last[e.From] = i
	}
	if !hasBytes {
		return
	}
	for _, p := range []string{Client, Node} {
		if rest := dirs[p].finish(); len(rest) > 0 {
			e := &cn.Events[last[p]]
			e.Msgs = append(e.Msgs, rest...)
		}
	}
	cn.Transport = dirs[Client].mode
}
