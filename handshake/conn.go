package handshake

import (
	"context"
	"net"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Conn is a connection after a completed handshake, at the level of
// messages: Run returns it in Result.Conn. It goes on where the handshake
// stopped, for either transport: it holds the bytes Run had already read
// past the peer's verack (a peer often sends its first messages in the
// same write as its verack) and, over v2, the BIP324 session's ciphers.
// One goroutine may read while another writes.
type Conn struct {
	conn       net.Conn
	net        wire.Network
	maxPayload uint32
	t          transport // &v1, or the handshake's v2Transport
	v1         v1Transport
}

// adopt takes over s's connection and transport at the end of a completed
// Run. A v1 read buffer holding bytes moves here, out of the session pool
// (release then leaves it alone); an empty one stays pooled, and
// ReadMessage makes one when first called, so a Run whose caller never
// reads on costs no buffer.
func (c *Conn) adopt(s *session) {
	*c = Conn{conn: s.conn, net: s.cfg.Network, maxPayload: s.cfg.MaxPayload, t: s.t}
	if s.t != &s.v1 {
		s.t.(*v2Transport).res = nil // the Result is the caller's now
		return
	}
	c.v1.net = s.cfg.Network
	c.t = &c.v1
	if s.v1.r.Buffered() > 0 {
		c.v1.r = s.v1.r
		s.v1.r = nil
	}
}

// ReadMessage reads the peer's next message, decoded by wire.Decode (a
// command wire does not know comes back as a wire.Raw). ctx bounds the
// read: its deadline, and its cancellation, which ends the read at once.
//
// A message Bitcoin Core would drop while keeping the peer (a bad
// checksum, invalid command bytes, an unknown v2 short id, a payload that
// does not decode) is returned as an error, and the connection stays
// usable: call again for the next message. Any other error (the peer
// closed, a wrong magic, a packet that fails authentication, ctx ended
// in the middle of a message) leaves the stream where it failed; a
// message cut by ctx is read on by the next call.
func (c *Conn) ReadMessage(ctx context.Context) (wire.Message, error) {
	if c.t == &c.v1 && c.v1.r == nil {
		c.v1.r = wire.NewReaderSize(c.conn, c.net, 0, c.maxPayload)
	}
	stop, err := bound(ctx, c.conn.SetReadDeadline)
	if err != nil {
		return nil, err
	}
	m, err := c.t.next()
	if !stop() && err != nil {
		return nil, context.Cause(ctx) // the past deadline set by bound ended the read
	}
	if err != nil {
		return nil, err
	}
	if m.dropped != nil {
		return nil, m.dropped
	}
	return wire.Decode(m.cmd, m.payload)
}

// WriteMessage sends m to the peer in one write, framed or encrypted as
// the transport requires. ctx bounds the write as it does ReadMessage's.
func (c *Conn) WriteMessage(ctx context.Context, m wire.Message) error {
	stop, err := bound(ctx, c.conn.SetWriteDeadline)
	if err != nil {
		return err
	}
	c.t.queue(m)
	_, err = c.conn.Write(c.t.output())
	c.t.written()
	if !stop() && err != nil {
		return context.Cause(ctx)
	}
	return err
}

// NetConn returns the connection underneath, for its addresses and
// socket options. Reading or writing it directly skips what Conn holds:
// the buffered bytes and, over v2, the ciphers.
func (c *Conn) NetConn() net.Conn { return c.conn }

// Close closes the connection.
func (c *Conn) Close() error { return c.conn.Close() }

// bound sets the deadline of ctx with set (none without one) and makes
// ctx's end set a past deadline, ending a blocked read or write at once.
// stop reports false when ctx ended meanwhile.
func bound(ctx context.Context, set func(time.Time) error) (stop func() bool, err error) {
	d, _ := ctx.Deadline()
	if err := set(d); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	if ctx.Done() == nil {
		return func() bool { return true }, nil
	}
	return context.AfterFunc(ctx, func() { _ = set(time.Unix(1, 0)) }), nil
}
