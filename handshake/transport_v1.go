package handshake

import (
	"errors"
	"net"

	"github.com/btc-handshake/btc-handshake/wire"
)

// v1Transport is the original framing: wire's 24-byte headers, read with
// a wire.Reader. It lives in the pooled session (session.go), so a v1
// handshake reuses its read buffer and output buffer.
type v1Transport struct {
	r   *wire.Reader
	net wire.Network
	out []byte
}

func (t *v1Transport) reset(conn net.Conn, cfg *Config) {
	t.r.Reset(conn, cfg.Network, cfg.MaxPayload)
	t.net, t.out = cfg.Network, t.out[:0]
}

func (t *v1Transport) queue(m wire.Message) int {
	n := len(t.out)
	t.out = wire.AppendMessage(t.out, t.net, m)
	return len(t.out) - n - wire.HeaderSize
}

func (t *v1Transport) output() []byte { return t.out }
func (t *v1Transport) written()       { t.out = t.out[:0] }
func (t *v1Transport) ready() bool    { return t.r.Ready() }
func (t *v1Transport) buffered() int  { return t.r.Buffered() }

func (t *v1Transport) next() (message, error) {
	before := t.r.Buffered()
	f, err := t.r.Next()
	m := message{cmd: f.Command(), payload: f.Payload, size: wire.HeaderSize + len(f.Payload)}
	m.fresh = m.size > before
	if err != nil {
		if fe, ok := errors.AsType[*wire.FrameError](err); !ok || !fe.Recoverable {
			return message{fresh: true}, describe(err, f, t.net)
		}
		// Core drops such a frame and keeps the connection.
		m.dropped, m.quirk = err, QuirkBadCommand
		if errors.Is(err, wire.ErrBadChecksum) {
			m.quirk = QuirkBadChecksum
		}
	}
	return m, nil
}

// verackCommand is the command field of a verack header.
var verackCommand = [wire.CommandSize]byte{'v', 'e', 'r', 'a', 'c', 'k'}

// verackBuffered reports whether a whole verack is buffered behind
// frames that are whole and well-formed, which handle can only record
// (a version there is a duplicate): reading up to it cannot fail.
func (t *v1Transport) verackBuffered() bool {
	for h := range t.r.Pending() {
		if h.Command == verackCommand {
			return true
		}
	}
	return false
}
