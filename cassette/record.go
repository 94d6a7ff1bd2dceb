package cassette

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// DefaultMaxConnBytes bounds the bytes a Recorder keeps per connection:
// a handshake is a few hundred bytes, and a flooding peer must not make a
// recording grow without bound. Bytes beyond it are counted (End.Dropped).
const DefaultMaxConnBytes = 4 << 20

// maxRecordedConns bounds the connections a Recorder keeps: a survey of a
// large seed answer is at most a few thousand.
const maxRecordedConns = 1 << 16

// Recorder records live connections into a cassette: wrap each connection
// with Conn (or dial through Dialer, accept through Listener), then take
// the cassette with Cassette. Every Read and Write of a wrapped connection
// becomes an Event with its bytes as read or written; io.EOF, a reset, a
// Close, a CloseWrite or a Close after a read deadline expired end it
// (FIN, RST, or timeout). A v2 connection's bytes are encrypted: give
// each handshake.Result to Annotate to add what the client decrypted.
// A Recorder is safe for concurrent use.
type Recorder struct {
	// MaxConnBytes bounds the bytes kept per connection (default
	// DefaultMaxConnBytes); set it before the first connection.
	MaxConnBytes int

	network wire.Network
	mu      sync.Mutex
	conns   []*recConn
	dropped int // connections beyond maxRecordedConns, not recorded
}

// NewRecorder returns a Recorder for connections on network n.
func NewRecorder(n wire.Network) *Recorder { return &Recorder{network: n} }

// Conn wraps nc, a connection that started at start, so that what
// crosses it is recorded; we is the party this side plays: Client when it
// dialed, Node when it accepted. The wrapper is a plain net.Conn (plus
// CloseWrite and SetLinger when nc has them): fast paths that reach
// around net.Conn to the descriptor would not be recorded, so it offers
// none.
func (r *Recorder) Conn(nc net.Conn, we string, start time.Time) net.Conn {
	return r.wrap(nc, we, start, "")
}

// wrap is Conn; dialed is the address the client dialed, by which
// Annotate finds the connection.
func (r *Recorder) wrap(nc net.Conn, we string, start time.Time, dialed string) net.Conn {
	rc := &recConn{Conn: nc, rec: r, we: we, start: start, dialed: dialed}
	rc.conn = Conn{Start: start.UTC()}
	client, node := nc.LocalAddr(), nc.RemoteAddr()
	if we == Node {
		client, node = node, client
	}
	if client != nil {
		rc.conn.Client = client.String()
	}
	if node != nil {
		rc.conn.Node = node.String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.conns) >= maxRecordedConns {
		r.dropped++
		return nc
	}
	r.conns = append(r.conns, rc)
	rc.conn.ID = len(r.conns)
	return rc
}

// Dialer returns a dial function that dials with d (a net.Dialer's when
// nil) and records every connection it makes as the client: give it to
// handshake.Config.DialContext (or to a harness.GoClient's Config) to
// record each run.
func (r *Recorder) Dialer(d func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if d == nil {
		d = (&net.Dialer{KeepAlive: -1}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		start := time.Now()
		nc, err := d(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return r.wrap(nc, Client, start, addr), nil
	}
}

// Listener returns l with every accepted connection recorded as the node:
// give it to a mockpeer.Server as its Listener to record what
// the mock and its clients said.
func (r *Recorder) Listener(l net.Listener) net.Listener { return recListener{Listener: l, r: r} }

type recListener struct {
	net.Listener
	r *Recorder
}

func (l recListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.r.Conn(nc, Node, time.Now()), nil
}

// Cassette returns what was recorded so far, decoded (Decode), not
// redacted (see Redact): connections still open end as EndOpen at the
// time of the call. The Recorder goes on recording.
func (r *Recorder) Cassette() *Cassette {
	r.mu.Lock()
	conns := append([]*recConn(nil), r.conns...)
	r.mu.Unlock()
	c := &Cassette{Header: Header{Format: FormatVersion, Network: r.network.String(), Source: SourceRecorded,
		Tool: "btc-handshake"}}
	for _, rc := range conns {
		c.Conns = append(c.Conns, rc.snapshot())
	}
	Decode(c)
	return c
}

// recConn is a recorded connection. Its own mutex orders the events of
// concurrent Read and Write calls.
type recConn struct {
	net.Conn
	rec    *Recorder
	we     string
	start  time.Time
	dialed string // the address dialed (Dialer), "" otherwise

	mu       sync.Mutex
	conn     Conn
	kept     int
	dropped  int64
	timedOut bool // our last read hit its deadline
	linger0  bool // SetLinger(0): Close resets
	// decrypted are the v2 messages Annotate added, kept apart from the
	// byte events until a snapshot merges them in.
	decrypted []Event
}

func (c *recConn) they() string { return other(c.we) }

func (c *recConn) limit() int {
	if c.rec.MaxConnBytes > 0 {
		return c.rec.MaxConnBytes
	}
	return DefaultMaxConnBytes
}

// add appends a segment of from's bytes, within the bound.
func (c *recConn) add(from string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at := time.Since(c.start).Microseconds()
	if room := c.limit() - c.kept; room < len(b) {
		c.dropped += int64(len(b) - max(room, 0))
		b = b[:max(room, 0)]
	}
	if len(b) == 0 {
		return
	}
	c.kept += len(b)
	c.conn.Events = append(c.conn.Events, Event{From: from, At: at, Bytes: append([]byte(nil), b...)})
}

// closed records a close by party by (how: EndFIN, EndRST), and the
// connection's end if it is the first; end is what End.How says, which
// is EndTimeout when we close after a read deadline expired.
func (c *recConn) closed(by, how, end string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at := time.Since(c.start).Microseconds()
	for _, e := range c.conn.Events {
		if e.Close != "" && e.From == by {
			return // a party closes once
		}
	}
	c.conn.Events = append(c.conn.Events, Event{From: by, At: at, Close: how})
	if c.conn.End.How == "" {
		c.conn.End = End{How: end, By: by, At: at}
	}
}

func (c *recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.add(c.they(), p[:n])
		c.mu.Lock()
		c.timedOut = false
		c.mu.Unlock()
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		c.closed(c.they(), EndFIN, EndFIN)
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.mu.Lock()
		c.timedOut = true
		c.mu.Unlock()
	case errors.Is(err, syscall.ECONNRESET):
		c.closed(c.they(), EndRST, EndRST)
	}
	return n, err
}

func (c *recConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.add(c.we, p[:n])
	}
	if err != nil && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
		c.closed(c.they(), EndRST, EndRST)
	}
	return n, err
}

func (c *recConn) Close() error {
	c.mu.Lock()
	how, end := EndFIN, EndFIN
	if c.linger0 {
		how, end = EndRST, EndRST
	} else if c.timedOut {
		end = EndTimeout
	}
	c.mu.Unlock()
	c.closed(c.we, how, end)
	return c.Conn.Close()
}

// CloseWrite half-closes (a FIN) when the wrapped connection can.
func (c *recConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return errors.ErrUnsupported
	}
	err := cw.CloseWrite()
	if err == nil {
		c.closed(c.we, EndFIN, EndFIN)
	}
	return err
}

// SetLinger sets SO_LINGER when the wrapped connection can; 0 makes
// Close a reset, recorded as such.
func (c *recConn) SetLinger(sec int) error {
	l, ok := c.Conn.(interface{ SetLinger(int) error })
	if !ok {
		return errors.ErrUnsupported
	}
	err := l.SetLinger(sec)
	if err == nil {
		c.mu.Lock()
		c.linger0 = sec == 0
		c.mu.Unlock()
	}
	return err
}

// snapshot copies the connection as recorded so far.
func (c *recConn) snapshot() Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	cn := c.conn
	// Deep copies: Redact rewrites bytes and messages in place, and what
	// the Recorder keeps must stay as recorded.
	cn.Events = make([]Event, len(c.conn.Events))
	for i, e := range c.conn.Events {
		e.Bytes = append([]byte(nil), e.Bytes...)
		cn.Events[i] = e
	}
	cn.Events = mergeDecrypted(cn.Events, c.decrypted)
	if cn.V2 != nil {
		v := *cn.V2
		cn.V2 = &v
	}
	if cn.End.How == "" {
		cn.End = End{How: EndOpen, At: time.Since(c.start).Microseconds()}
	}
	cn.End.Dropped = c.dropped
	return cn
}
