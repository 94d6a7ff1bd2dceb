package mockpeer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// errClosing ends a step because the Server is closing (or the Dial
// context is done); the runner reports the script as cut off if it had
// more to do.
var errClosing = errors.New("mockpeer: closing")

// Incoming is one frame read from the other side.
type Incoming struct {
	// Command is the frame's command (the raw command bytes, NULs
	// stripped, when they are invalid).
	Command string
	// Message is the decoded message: *wire.Version, wire.Verack,
	// wire.Ping, ... or wire.Raw for commands wire does not decode, whose
	// Payload aliases the read buffer as Payload does. Nil when Err is set.
	Message wire.Message
	// Payload is the frame's payload. It aliases the read buffer and is
	// valid only until the next read; copy it to keep it.
	Payload []byte
	// Err is set for a broken frame (bad checksum, invalid command bytes,
	// wrong magic, declared length over the limit) or a payload that
	// does not decode.
	Err error
	// Fatal reports that the stream is out of sync after this frame (wrong
	// magic, oversized length): nothing more can be read from it.
	Fatal bool
	// Declared is the payload length the frame's header declared, which
	// for a fatal frame differs from len(Payload): a peer that keeps
	// reading the declared payload before it gives up (btcd, on a wrong
	// magic) needs it.
	Declared uint32
	// Time is when the frame was read.
	Time time.Time
}

// Version returns the message as *wire.Version, or nil.
func (in Incoming) Version() *wire.Version {
	v, _ := in.Message.(*wire.Version)
	return v
}

// State is a connection's handshake state as profiles see and update it.
// Reactions read and write it through Conn.State.
type State struct {
	// PeerVersion is the version the profile accepted from the other side.
	PeerVersion *wire.Version
	// OurVersion is the version the profile sent.
	OurVersion *wire.Version
	// Common is the negotiated protocol version (the smaller of both).
	Common int32
	// VerackReceived: the other side's verack arrived after its version.
	VerackReceived bool
	// Established: the profile considers the handshake complete, so its
	// handshake timeout no longer applies.
	Established bool
}

// Conn is one connection as steps and reactions see it. It belongs to the
// connection's goroutine: use it only from steps, reactions and Do.
type Conn struct {
	env   *env
	nc    net.Conn
	r     *wire.Reader
	index int
	slot  int // in Server.live
	start time.Time
	log   *slog.Logger

	state       State
	peerVersion *wire.Version

	writes int
	// stepWithin is the current step's deadline (Within's, or the step
	// timeout): writes and ExpectClosed wait that long.
	stepWithin   time.Duration
	readDeadline time.Time
	// lastRead is when the last read from nc returned: the arrival time
	// of every frame that was already buffered by then. Reading the clock
	// once per read, not per frame, matters where a clock read costs
	// hundreds of nanoseconds (some virtual machines).
	lastRead time.Time
	fatal    error // reads can no longer succeed
	closed   bool
	// pending is a reset that peerLeft's read took, for Next to report.
	pending error
	raw     rawIO
	// v2 is the BIP324 session once the connection switched to v2; nil
	// for v1, whose path it does not touch.
	v2  *v2State
	pre byteSrc // the bytes v1 detection read, for the v1 reader
	// wbuf is the connection's buffer for what it writes (and for v1
	// detection's first bytes), kept between writes unless a burst grew
	// it past 64 KiB (keepBuf).
	wbuf []byte
	// framed: a frame (or packet) has been received.
	framed bool
	// replies is room for a profile's replies to one message (Core's
	// longest is five), so that answering allocates no slice.
	replies [5]wire.Message
	// w is how the current step writes (Step.Coalesced, Split, Dribble).
	w writing
	// dialed: the mock initiated the connection (Dial), which makes it
	// the initiator of a v2 handshake.
	dialed bool
	// prof is the configuration of the responder playing on the
	// connection (CoreResponder, BtcdResponder), for its reactions.
	prof *Profile
}

func newConn(e *env, nc net.Conn, index int) *Conn {
	now := time.Now()
	return &Conn{
		env:        e,
		nc:         nc,
		r:          wire.NewReaderSize(nc, e.network(), readerSize, 0),
		index:      index,
		start:      now,
		lastRead:   now,
		stepWithin: e.cfg.stepTimeout,
	}
}

// Index is the connection's index: accept order on a Server, 0 for Dial.
func (c *Conn) Index() int { return c.index }

// NetConn is the underlying connection (a *net.TCPConn), for what steps
// do not cover. Reads from it bypass recording and routes.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Network is the network whose magic frames carry.
func (c *Conn) Network() wire.Network { return c.env.network() }

// RemoteAddr is the other side's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// LocalAddr is the mock's address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Started is when the connection was accepted or dialled.
func (c *Conn) Started() time.Time { return c.start }

// Logger is the server's logger with the connection's attributes.
func (c *Conn) Logger() *slog.Logger {
	if c.log == nil {
		// Built on first use: most connections never log.
		c.log = c.env.cfg.logger.With("conn", c.index, "peer", c.nc.RemoteAddr().String())
	}
	return c.log
}

// remoteAddrPort is the other side's address without allocating.
func (c *Conn) remoteAddrPort() (netip.AddrPort, bool) {
	if a, ok := c.nc.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort(), true
	}
	ap, err := netip.ParseAddrPort(c.nc.RemoteAddr().String())
	return ap, err == nil
}

// Done is closed when the Server closes (or the Dial context is done).
func (c *Conn) Done() <-chan struct{} { return c.env.done }

// State is the connection's handshake state, for profiles and reactions.
func (c *Conn) State() *State { return &c.state }

// PeerVersion is the last version received that decoded, or nil.
func (c *Conn) PeerVersion() *wire.Version { return c.peerVersion }

// StepTimeout is the server's default step deadline.
func (c *Conn) StepTimeout() time.Duration { return c.env.cfg.stepTimeout }

// Next reads the next frame, records it and applies the always-on routes.
// A zero deadline waits without limit. A broken frame is returned as an
// Incoming with Err set and a nil error; the error is for the stream:
// os.ErrDeadlineExceeded on timeout (Next can be called again), io.EOF or
// a reset when the other side left, the frame error again after a fatal
// frame, or an error wrapping the closing of the Server.
func (c *Conn) Next(deadline time.Time) (Incoming, error) {
	if c.fatal != nil {
		return Incoming{}, c.fatal
	}
	if c.pending != nil {
		err := c.pending
		c.pending = nil
		return Incoming{}, c.readEnded(err, c.lastRead)
	}
	if c.v2 != nil {
		return c.nextV2(deadline)
	}
	if !c.r.Ready() { // a Next that reads nothing needs no deadline
		if err := c.setReadDeadline(deadline); err != nil {
			return Incoming{}, c.readEnded(err, time.Now())
		}
	}
	buffered := c.r.Buffered()
	f, err := c.r.Next()
	if err != nil || wire.HeaderSize+len(f.Payload) > buffered {
		c.lastRead = time.Now()
	}
	return c.received(f, err)
}

// received records and routes what Next read. It is kept out of Next so
// that the frame on the stack of a goroutine blocked in a read stays small
// (a connection's stack is most of its memory).
func (c *Conn) received(f wire.Frame, err error) (Incoming, error) {
	now := c.lastRead
	if err != nil {
		fe, ok := errors.AsType[*wire.FrameError](err) // no escaping target: every connection ends here
		if !ok {
			return Incoming{}, c.readEnded(err, now)
		}
		in := Incoming{Command: f.Command(), Payload: f.Payload, Err: err, Fatal: !fe.Recoverable,
			Declared: f.Header.Length, Time: now}
		if in.Fatal {
			c.fatal = err
			if !c.framed {
				c.keyInstead(f.Header)
			}
		}
		c.recordIn(in, wire.HeaderSize+len(f.Payload))
		return in, nil
	}
	cmd := f.Command()
	in := Incoming{Command: cmd, Payload: f.Payload, Declared: f.Header.Length, Time: now}
	if typed(cmd) {
		in.Message, in.Err = wire.Decode(cmd, f.Payload)
	} else {
		// wire.Decode would copy the payload into its Raw: a peer
		// flooding inv frames would then cost one allocation of each
		// frame's size (600 MB/s seen against conform's flood spec).
		in.Message = wire.Raw{Cmd: cmd, Payload: f.Payload}
	}
	if v, ok := in.Message.(*wire.Version); ok {
		c.peerVersion = v
	}
	c.recordIn(in, wire.HeaderSize+len(f.Payload))
	if in.Err == nil {
		if routes := c.env.routes.Load(); routes != nil {
			if r, ok := (*routes)[cmd]; ok {
				c.applyRoute(cmd, r, in)
			}
		}
	}
	return in, nil
}

// typed reports whether wire.Decode decodes cmd to a message of its own
// rather than to a wire.Raw (a spec keeps this list and wire's in step).
func typed(cmd string) bool {
	switch cmd {
	case wire.CmdVersion, wire.CmdVerack, wire.CmdSendHeaders, wire.CmdWtxidRelay, wire.CmdSendAddrV2,
		wire.CmdGetAddr, wire.CmdPing, wire.CmdPong, wire.CmdSendCmpct, wire.CmdSendTxRcncl, wire.CmdFeeFilter:
		return true
	}
	return false
}

func (c *Conn) applyRoute(cmd string, r route, in Incoming) {
	msgs, err := r.react(c, in)
	if len(msgs) > 0 {
		if werr := c.send(writing{mode: writeCoalesced}, msgs); werr != nil && err == nil {
			err = werr
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrDisconnect):
		_ = c.Close()
	case c.closed || c.env.closing():
	default:
		c.env.report(&Failure{Conn: c.index, Remote: c.nc.RemoteAddr().String(), Script: "routes",
			Step: fmt.Sprintf("Route(%q)", cmd), StepIndex: 1, Steps: 1, At: r.at.String(), Err: err})
	}
}

func (c *Conn) setReadDeadline(t time.Time) error {
	if t.Equal(c.readDeadline) {
		return nil
	}
	c.readDeadline = t
	return c.nc.SetReadDeadline(t)
}

// clearDeadlines removes deadlines between steps, so that no runtime timer
// stays armed for an idle connection.
func (c *Conn) clearDeadlines() {
	if !c.readDeadline.IsZero() {
		c.readDeadline = time.Time{}
		_ = c.nc.SetReadDeadline(time.Time{})
	}
}

// readEnded classifies the end of a read, which returned at time at, and
// records the event.
func (c *Conn) readEnded(err error, at time.Time) error {
	if errors.Is(err, os.ErrDeadlineExceeded) && !c.closed && !c.env.closing() {
		return err
	}
	if c.closed || c.env.closing() {
		if c.env.closing() {
			c.fatal = errClosing
		} else {
			c.fatal = net.ErrClosed
		}
		return c.fatal
	}
	c.fatal = err
	ev := EventError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		ev = EventEOF
	case errors.Is(err, syscall.ECONNRESET):
		ev = EventReset
	}
	c.env.record(Record{Time: at, Conn: c.index, Event: ev, Err: err})
	return err
}

// Close closes the connection (a TCP FIN). Closing twice is harmless.
// As a step: Do((*Conn).Close).
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.nc.Close()
	c.recordEvent(EventClose, "", nil)
	return err
}

// Reset closes the connection with SO_LINGER 0, so the other side gets a
// TCP RST (ECONNRESET) instead of a FIN. As a step: Do((*Conn).Reset).
func (c *Conn) Reset() error {
	if c.closed {
		return net.ErrClosed
	}
	if l, ok := c.nc.(interface{ SetLinger(int) error }); ok {
		if err := l.SetLinger(0); err != nil {
			return err
		}
	}
	c.closed = true
	err := c.nc.Close()
	c.recordEvent(EventReset, "", err)
	return err
}

// CloseWrite closes the write half (a TCP FIN); reading goes on. As a
// step: Do((*Conn).CloseWrite).
func (c *Conn) CloseWrite() error {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok {
		return fmt.Errorf("mockpeer: %T cannot half-close", c.nc)
	}
	err := cw.CloseWrite()
	c.recordEvent(EventHalfClose, "", err)
	return err
}

// VersionFor completes a version to send on this connection: timestamp now
// when zero, addr_recv the other side's address when zero, a random nonce
// different from the other side's when zero, protocol version 70016 when
// zero. tmpl is not modified; nil means the version ReplyVersion(nil) sends.
func (c *Conn) VersionFor(tmpl *wire.Version) *wire.Version {
	if tmpl == nil {
		tmpl = defaultVersion()
	}
	v := *tmpl
	if v.ProtocolVersion == 0 {
		v.ProtocolVersion = wire.ProtocolVersion
	}
	if v.Timestamp == 0 {
		v.Timestamp = time.Now().Unix()
	}
	if v.AddrRecv.IsZero() {
		if ap, ok := c.remoteAddrPort(); ok {
			v.AddrRecv = wire.NetAddress{IP: ap.Addr().As16(), Port: ap.Port()}
		}
	}
	if v.Nonce == 0 {
		v.Nonce = c.newNonce()
	}
	return &v
}

// newNonce returns a random non-zero nonce that differs from the other
// side's, so a client does not mistake the mock for itself.
func (c *Conn) newNonce() uint64 {
	for {
		n := rand.Uint64()
		if n != 0 && (c.peerVersion == nil || n != c.peerVersion.Nonce) {
			return n
		}
	}
}

// defaultVersion is the version ReplyVersion sends when given nil: 70016,
// NETWORK|WITNESS, user agent /mockpeer:0.1.0/, relay.
func defaultVersion() *wire.Version {
	return &wire.Version{
		ProtocolVersion: wire.ProtocolVersion,
		Services:        wire.NodeNetwork | wire.NodeWitness,
		UserAgent:       "/mockpeer:0.1.0/",
		Relay:           true,
	}
}
