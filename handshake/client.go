package handshake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// defaultDialer dials when Config.Dialer is nil. TCP keep-alive is off: a
// handshake is over long before the first probe would go out (15 s), and
// turning it on costs four system calls per connection.
var defaultDialer = &net.Dialer{KeepAlive: -1}

// Dial connects to addr (host:port) and performs the handshake, then
// closes the connection. When the peer's verack comes with its version
// (as Core sends them), our verack completes the handshake and, on Linux,
// leaves with the FIN in one segment (lastWriter). The returned Result is
// never nil; its Err is the returned error.
func Dial(ctx context.Context, addr string, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	b := newResult(addr, cfg.Now())
	res := &b.res
	res.Phase = PhaseConnect
	dialer := cfg.Dialer
	if dialer == nil {
		dialer = defaultDialer
	}
	conn, err := dial(ctx, dialer, addr, cfg.DialTimeout)
	if err != nil {
		kind := KindDial
		switch {
		case ctx.Err() != nil:
			kind = ctxKind(ctx)
		case errors.Is(err, context.DeadlineExceeded) || classify(err) == KindTimeout:
			kind = KindTimeout
		}
		res.Err = &Error{Kind: kind, Phase: PhaseConnect, Addr: addr, Err: err}
		res.Timings.Total = cfg.Now().Sub(res.Started)
		return res, res.Err
	}
	defer conn.Close()
	now := cfg.Now()
	res.Timings.Connect = now.Sub(res.Started)
	err = run(ctx, conn, cfg, b, now, false)
	return res, err
}

// dial connects to addr within timeout.
func dial(ctx context.Context, d ContextDialer, addr string, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	if parent, ok := ctx.Deadline(); ok && !deadline.Before(parent) {
		return d.DialContext(ctx, "tcp", addr) // ctx's own deadline comes first
	}
	if _, ok := d.(*net.Dialer); ok {
		if _, err := netip.ParseAddrPort(addr); err == nil {
			return d.DialContext(&connectCtx{Context: ctx, deadline: deadline}, "tcp", addr)
		}
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return d.DialContext(ctx, "tcp", addr)
}

// connectCtx bounds the dial of an IP address by a deadline without a
// timer. A net.Dialer dialing an IP address waits only in connect, and
// connect enforces the context's deadline itself, as the socket's write
// deadline, whenever Done is not nil (net/fd_unix.go). A context from
// context.WithDeadline would also start a runtime timer and give the
// parent a child map for the dial's cancellation hook: per loopback
// handshake (both ends) 4 allocations and 500 bytes more, 3.8 instead of
// 3.3 KB. Done is the parent's, or a channel that never closes; the spec
// "a connect the peer never completes" shows the deadline holds, with and
// without a cancelable parent. Not for host names: a resolver waits on
// Done.
type connectCtx struct {
	context.Context
	deadline time.Time
}

// neverDone is the Done of a connectCtx whose parent can never be canceled.
var neverDone = make(chan struct{})

func (c *connectCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *connectCtx) Done() <-chan struct{} {
	if d := c.Context.Done(); d != nil {
		return d
	}
	return neverDone
}

func (c *connectCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// AfterFunc lets context.AfterFunc (which net's connect calls) watch the
// parent directly, instead of starting a goroutine to watch Done.
func (c *connectCtx) AfterFunc(f func()) (stop func() bool) {
	if c.Context.Done() == nil {
		return func() bool { return true }
	}
	return context.AfterFunc(c.Context, f)
}

// Run performs the handshake on an established connection, which it does
// not close. On return the connection's deadlines are cleared (unless ctx
// ended), so the caller can go on using it. Bytes the peer sent right
// after its verack may already be in Run's read buffer and are not handed
// back; Linger records them in the transcript. The returned Result is
// never nil; its Err is the returned error.
func Run(ctx context.Context, conn net.Conn, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	b := newResult(conn.RemoteAddr().String(), cfg.Now())
	err := run(ctx, conn, cfg, b, b.res.Started, true)
	return &b.res, err
}

func ctxKind(ctx context.Context) Kind {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return KindTimeout
	}
	return KindCanceled
}

// resultBlock is a Result with room for what a handshake fills in (its
// transcript, its quirks, the peer's version), allocated in one piece.
type resultBlock struct {
	res    Result
	events [transcriptRoom]Event
	quirks [quirkRoom]Quirk
	peer   wire.Version
}

// transcriptRoom is the transcript a handshake fills without regrowing:
// a Core peer's handshake is eight messages, both ways.
const transcriptRoom = 8

// quirkRoom is how many quirks fit before Quirks regrows: a Core peer
// shows one (its verack comes with its version).
const quirkRoom = 2

func newResult(addr string, started time.Time) *resultBlock {
	b := new(resultBlock)
	b.res = Result{Addr: addr, Started: started, Transcript: b.events[:0], Quirks: b.quirks[:0]}
	return b
}

// session is the state of one handshake. Sessions are pooled, with their
// read buffer and output buffer: a handshake needs them only while it
// runs, and a fresh 1 KB buffer per handshake is most of what a survey
// allocates.
type session struct {
	cfg   Config
	conn  net.Conn
	r     *wire.Reader
	res   *Result
	peer  *wire.Version // where the peer's version is decoded: in the Result's block
	nonce uint64
	last  lastWriter
	out   []byte
	ver   wire.Version // ours

	gotVersion, gotVerack, earlyVerack bool
	// closeAfter: the connection is closed right after the handshake
	// (Dial without Linger), so the last write can carry the FIN.
	closeAfter bool

	// Coalescing detection: bytes already buffered when the peer's version
	// was returned, and bytes consumed since.
	bufferedAfterVersion, consumedSinceVersion int

	handshakeDeadline time.Time
	phaseDeadline     time.Time

	// The deadlines set on conn, so that each is set only when it
	// changes: setting one reads the clock twice, and a clock read costs
	// hundreds of nanoseconds on some virtual machines.
	readDeadline, writeDeadline time.Time
	// lastRead is when the last read from conn returned; frames parsed
	// from bytes that were already buffered arrived then too.
	lastRead time.Time
}

var sessions = sync.Pool{New: func() any {
	return &session{
		r:   wire.NewReaderSize(nil, 0, wire.DefaultReaderSize, 0),
		out: make([]byte, 0, 256),
	}
}}

// maxPooledOut is the largest output buffer a pooled session keeps.
const maxPooledOut = 4 << 10

func getSession(conn net.Conn, cfg Config, b *resultBlock) *session {
	s := sessions.Get().(*session)
	r, out := s.r, s.out[:0]
	r.Reset(conn, cfg.Network, cfg.MaxPayload)
	*s = session{cfg: cfg, conn: conn, r: r, res: &b.res, peer: &b.peer, nonce: cfg.Nonce(), out: out, last: s.last}
	return s
}

// release returns s to the pool, holding on to nothing of its handshake:
// the Reader gives up the connection (and a buffer a large frame grew).
func (s *session) release() {
	r, out := s.r, s.out[:0]
	if cap(out) > maxPooledOut {
		out = make([]byte, 0, 256)
	}
	r.Reset(nil, 0, 0)
	*s = session{r: r, out: out, last: s.last}
	sessions.Put(s)
}

// run performs the handshake on conn; start is the current time. handBack
// says the caller goes on using conn (Run), so the deadlines are cleared
// at the end; Dial closes conn, which clears them anyway.
func run(ctx context.Context, conn net.Conn, cfg Config, b *resultBlock, start time.Time, handBack bool) error {
	res := &b.res
	// Cancelling the context unblocks any read or write at once, without
	// a goroutine per connection. Every later deadline is set through
	// setReadDeadline/flush, which check the context afterwards, so a
	// cancellation cannot be overwritten by a phase deadline. A context
	// that can never end needs no hook.
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	}
	s := getSession(conn, cfg, b)
	s.closeAfter = !handBack && cfg.Linger <= 0
	defer func() {
		// Run hands the connection back: clear our deadlines so that the
		// caller's reads do not time out at the handshake's deadline. If
		// the context ended, leave the past deadline in place.
		if stop() && handBack && !(s.readDeadline.IsZero() && s.writeDeadline.IsZero()) {
			_ = conn.SetDeadline(time.Time{})
		}
		s.release()
	}()
	s.lastRead = start
	s.handshakeDeadline = start.Add(cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(s.handshakeDeadline) {
		s.handshakeDeadline = d
	}
	s.enterPhase(PhaseVersion, start)
	err := s.handshake(ctx, start)
	if err == nil && cfg.Linger > 0 {
		s.linger(ctx)
	}
	res.Timings.Total = cfg.Now().Sub(res.Started)
	if cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "handshake finished", slog.String("peer", res.Addr),
			slog.String("network", cfg.Network.String()), slog.String("phase", string(res.Phase)),
			slog.Any("err", err))
	}
	return err
}

func (s *session) enterPhase(p Phase, now time.Time) {
	s.res.Phase = p
	s.phaseDeadline = s.handshakeDeadline
	var limit time.Duration
	switch p {
	case PhaseVersion:
		limit = s.cfg.VersionTimeout
	case PhaseVerack:
		limit = s.cfg.VerackTimeout
	}
	if limit > 0 && now.Add(limit).Before(s.phaseDeadline) {
		s.phaseDeadline = now.Add(limit)
	}
}

func (s *session) fail(ctx context.Context, kind Kind, err error) error {
	if ctx.Err() != nil && (kind == KindTimeout || kind == KindIO || kind == KindPeerClosed) {
		// The context, not the peer, ended the read.
		kind = ctxKind(ctx)
		if kind == KindCanceled {
			err = ctx.Err()
		}
	}
	err = hangUpHint(kind, s.res, s.cfg.Network, err)
	e := &Error{Kind: kind, Phase: s.res.Phase, Addr: s.res.Addr, Err: err}
	s.res.Err = e
	return e
}

// record adds an event at time at: when the frame was received (the
// read that brought its last byte returned), or when we queued it.
func (s *session) record(dir Direction, cmd string, size int, errText string, at time.Time) {
	if len(s.res.Transcript) >= s.cfg.MaxTranscript {
		s.res.TranscriptDropped++
		return
	}
	s.res.Transcript = append(s.res.Transcript, Event{
		Dir: dir, Command: cmd, Size: size, At: at.Sub(s.res.Started), Err: errText,
	})
}

// next reads the next frame and notes when it arrived: now if reading it
// took a read from conn, else when the last read returned.
func (s *session) next() (wire.Frame, time.Time, error) {
	buffered := s.r.Buffered()
	f, err := s.r.Next()
	if wire.HeaderSize+len(f.Payload) > buffered {
		s.lastRead = s.cfg.Now()
	}
	return f, s.lastRead, err
}

// flush writes s.out in one Write call, so that messages we send together
// arrive together, as Core sends them.
func (s *session) flush(ctx context.Context, deadline time.Time) error {
	return s.write(ctx, deadline, false)
}

// write sends the queued output; last says nothing follows but the close
// (see lastWriter).
func (s *session) write(ctx context.Context, deadline time.Time, last bool) error {
	if !deadline.Equal(s.writeDeadline) {
		read := s.readDeadline
		if read.IsZero() {
			// The first write: the read that follows it gets its
			// deadline in the same call.
			read = s.phaseDeadline
		}
		if err := s.setDeadlines(deadline, read); err != nil {
			return err
		}
	}
	// Checked after setting the deadline: a cancellation that fired
	// before it has had its past deadline overwritten.
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if last {
		err = s.last.write(s.conn, s.out)
	} else {
		_, err = s.conn.Write(s.out)
	}
	s.out = s.out[:0]
	return err
}

// setReadDeadline sets the read deadline, then checks the context, for the
// same reason as flush.
func (s *session) setReadDeadline(ctx context.Context, deadline time.Time) error {
	if !deadline.Equal(s.readDeadline) {
		if err := s.setDeadlines(s.writeDeadline, deadline); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// setDeadlines sets the write and read deadlines that changed, both in
// one call when they are the same (as they are unless a phase timeout is
// configured).
func (s *session) setDeadlines(write, read time.Time) error {
	var err error
	switch {
	case write.Equal(s.writeDeadline):
		if !read.Equal(s.readDeadline) {
			err = s.conn.SetReadDeadline(read)
		}
	case read.Equal(s.readDeadline):
		err = s.conn.SetWriteDeadline(write)
	case write.Equal(read):
		err = s.conn.SetDeadline(write)
	default:
		err = s.conn.SetWriteDeadline(write)
		if err == nil {
			err = s.conn.SetReadDeadline(read)
		}
	}
	if err != nil {
		return err
	}
	s.writeDeadline, s.readDeadline = write, read
	return nil
}

func (s *session) ourVersion(now time.Time) *wire.Version {
	relay := !s.cfg.NoRelay
	v := &s.ver
	*v = wire.Version{
		ProtocolVersion: s.cfg.ProtocolVersion,
		Services:        s.cfg.Services,
		Timestamp:       now.Unix(),
		Nonce:           s.nonce,
		UserAgent:       s.cfg.UserAgent,
		StartHeight:     s.cfg.StartHeight,
		Relay:           relay,
	}
	// addr_recv is the peer's address, as Core fills it; addr_from stays
	// zeroed so we never reveal a local address (Core does the same).
	switch a := s.conn.RemoteAddr().(type) {
	case *net.TCPAddr:
		v.AddrRecv = wire.NewNetAddress(a.AddrPort(), 0)
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			v.AddrRecv = wire.NewNetAddress(ap, 0)
		}
	}
	return v
}

func (s *session) handshake(ctx context.Context, now time.Time) error {
	v := s.ourVersion(now)
	s.out = wire.AppendMessage(s.out, s.cfg.Network, v)
	s.record(Sent, wire.CmdVersion, len(s.out)-wire.HeaderSize, "", now)
	if err := s.flush(ctx, s.handshakeDeadline); err != nil {
		return s.fail(ctx, classify(err), err)
	}
	for {
		if len(s.out) > 0 && !s.r.Ready() {
			// Output held back for a verack that was buffered but did
			// not complete the handshake (a bad checksum): send it
			// before waiting on the peer.
			if err := s.flush(ctx, s.handshakeDeadline); err != nil {
				return s.fail(ctx, classify(err), err)
			}
		}
		if err := s.setReadDeadline(ctx, s.phaseDeadline); err != nil {
			return s.fail(ctx, classify(err), err)
		}
		f, at, err := s.next()
		if err != nil {
			if wire.IsRecoverable(err) {
				// Core drops such a frame and keeps the connection.
				s.consumedSinceVersion += wire.HeaderSize + len(f.Payload)
				s.record(Received, f.Command(), len(f.Payload), err.Error(), at)
				if errors.Is(err, wire.ErrBadChecksum) {
					s.res.addQuirk(QuirkBadChecksum)
				} else {
					s.res.addQuirk(QuirkBadCommand)
				}
				continue
			}
			return s.fail(ctx, classify(err), describe(err, f, s.cfg.Network))
		}
		s.consumedSinceVersion += wire.HeaderSize + len(f.Payload)
		cmd := f.Command()
		s.record(Received, cmd, len(f.Payload), "", at)
		done, err := s.handle(ctx, cmd, f.Payload, at)
		if err != nil {
			return err
		}
		if done {
			return s.finish(ctx)
		}
	}
}

// finish sends what the completed handshake still holds: our verack when
// the peer's was already here (onVersion). The handshake counts as
// complete only once it is sent.
func (s *session) finish(ctx context.Context) error {
	if len(s.out) == 0 {
		return nil
	}
	if err := s.write(ctx, s.handshakeDeadline, s.closeAfter); err != nil {
		s.res.Phase = PhaseVerack
		return s.fail(ctx, classify(err), err)
	}
	return nil
}

// handle reacts to one received message during the handshake and reports
// whether the handshake is complete.
func (s *session) handle(ctx context.Context, cmd string, payload []byte, at time.Time) (bool, error) {
	if !s.gotVersion && cmd != wire.CmdVersion && cmd != wire.CmdVerack {
		s.res.addQuirk(QuirkMessageBeforeVersion)
	}
	switch cmd {
	case wire.CmdVersion:
		return s.onVersion(ctx, payload, at)
	case wire.CmdVerack:
		if !s.gotVersion {
			// Core ignores it; we remember it so that a peer which
			// merely ordered its messages oddly still completes.
			s.res.addQuirk(QuirkVerackBeforeVersion)
			s.earlyVerack = true
			return false, nil
		}
		if s.consumedSinceVersion <= s.bufferedAfterVersion {
			s.res.addQuirk(QuirkCoalescedVerack)
		}
		return s.complete(at), nil
	case wire.CmdSendCmpct:
		s.res.addQuirk(QuirkSendCmpctBeforeVerack)
		var m wire.SendCmpct
		s.checkDecodes(m.DecodePayload(payload))
	case wire.CmdSendHeaders:
		s.res.addQuirk(QuirkSendHeadersBeforeVerack)
	case wire.CmdPing:
		// Core does not answer a ping before verack (NP); neither do we.
		s.res.addQuirk(QuirkPingBeforeVerack)
		var m wire.Ping
		s.checkDecodes(m.DecodePayload(payload))
	case wire.CmdAlert:
		s.res.addQuirk(QuirkAlert)
	case wire.CmdSendTxRcncl:
		var m wire.SendTxRcncl
		s.checkDecodes(m.DecodePayload(payload))
	case wire.CmdWtxidRelay, wire.CmdSendAddrV2:
		// Feature negotiation belongs between version and verack.
	default:
		s.res.addQuirk(QuirkUnexpectedBeforeVerack)
	}
	return false, nil
}

// checkDecodes records a message that did not decode: Core catches the
// deserialization error, drops the message and keeps the peer
// (ProcessMessages in src/net_processing.cpp), and so do we.
func (s *session) checkDecodes(err error) {
	if err != nil {
		s.res.addQuirk(QuirkMalformedIgnored)
	}
}

func (s *session) onVersion(ctx context.Context, payload []byte, now time.Time) (bool, error) {
	if s.gotVersion {
		s.res.addQuirk(QuirkDuplicateVersion)
		return false, nil
	}
	v := s.peer // in the Result's block
	if err := v.DecodePayload(payload); err != nil {
		return false, s.fail(ctx, KindMalformed, err)
	}
	if v.ProtocolVersion < s.cfg.MinPeerVersion {
		return false, s.fail(ctx, KindVersionTooLow, &versionTooLowError{peer: v, min: s.cfg.MinPeerVersion})
	}
	if v.Tail <= wire.TailNoUserAgent && v.Nonce == s.nonce {
		return false, s.fail(ctx, KindSelfConnection, fmt.Errorf("peer's version carries our nonce %016x", s.nonce))
	}
	s.gotVersion = true
	s.res.Peer = v
	s.res.Timings.Version = now.Sub(s.res.Started)
	s.res.NegotiatedVersion = min(v.ProtocolVersion, s.cfg.ProtocolVersion)
	s.versionQuirks(v)
	s.bufferedAfterVersion, s.consumedSinceVersion = s.r.Buffered(), 0
	if s.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		// The user agent is the peer's to choose, control characters
		// included: it goes out as an attribute value, which slog's text
		// and JSON handlers escape (Config.Logger).
		s.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "peer version", slog.String("peer", s.res.Addr),
			slog.Int("protocol_version", int(v.ProtocolVersion)), slog.String("user_agent", v.UserAgent),
			slog.Uint64("services", v.Services), slog.Int("start_height", int(v.StartHeight)))
	}

	// Core sends wtxidrelay and sendaddrv2 before verack when both sides
	// are at 70016 (NP, VERSION branch), all in one burst.
	if s.res.NegotiatedVersion >= wire.WtxidRelayVersion {
		s.out = wire.AppendMessage(s.out, s.cfg.Network, wire.WtxidRelay{})
		s.record(Sent, wire.CmdWtxidRelay, 0, "", now)
		s.out = wire.AppendMessage(s.out, s.cfg.Network, wire.SendAddrV2{})
		s.record(Sent, wire.CmdSendAddrV2, 0, "", now)
	}
	s.out = wire.AppendMessage(s.out, s.cfg.Network, wire.Verack{})
	s.record(Sent, wire.CmdVerack, 0, "", now)
	// The peer's version is in: whatever fails from here, sending our
	// verack included, fails in the verack phase, with Result.Peer set.
	s.enterPhase(PhaseVerack, now)
	if s.earlyVerack {
		return s.complete(now), nil // finish sends it
	}
	if s.closeAfter && s.verackBuffered() {
		// The peer sent its verack with its version: ours completes
		// the handshake, and Dial closes right after. finish sends it
		// once that verack is read, with the FIN (lastWriter).
		return false, nil
	}
	if err := s.flush(ctx, s.handshakeDeadline); err != nil {
		return false, s.fail(ctx, classify(err), err)
	}
	return false, nil
}

// verackCommand is the command field of a verack header.
var verackCommand = [wire.CommandSize]byte{'v', 'e', 'r', 'a', 'c', 'k'}

// verackBuffered reports whether a whole verack is buffered behind
// frames that are whole and well-formed, which handle can only record
// (a version there is a duplicate): reading up to it cannot fail.
func (s *session) verackBuffered() bool {
	for h := range s.r.Pending() {
		if h.Command == verackCommand {
			return true
		}
	}
	return false
}

func (s *session) versionQuirks(v *wire.Version) {
	switch {
	case v.ProtocolVersion < wire.ProtocolVersion:
		s.res.addQuirk(QuirkOldProtocol)
	case v.ProtocolVersion > wire.ProtocolVersion:
		s.res.addQuirk(QuirkNewerProtocol)
	}
	switch v.Tail {
	case wire.TailFull:
	case wire.TailNoRelay:
		s.res.addQuirk(QuirkVersionNoRelay)
	default:
		s.res.addQuirk(QuirkVersionShort)
	}
	if v.TrailingBytes > 0 {
		s.res.addQuirk(QuirkVersionTrailingBytes)
	}
	if v.Timestamp < 0 {
		s.res.addQuirk(QuirkNegativeTimestamp)
	}
}

func (s *session) complete(at time.Time) bool {
	s.gotVerack = true
	s.res.Phase = PhaseDone
	s.res.Timings.Verack = at.Sub(s.res.Started)
	return true
}

// linger keeps reading after completion to record what the peer sends
// next; pings are answered. Nothing here can fail the handshake.
func (s *session) linger(ctx context.Context) {
	deadline := s.cfg.Now().Add(s.cfg.Linger)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if s.setReadDeadline(ctx, deadline) != nil {
		return
	}
	for {
		f, at, err := s.next()
		if err != nil {
			if wire.IsRecoverable(err) {
				s.record(Received, f.Command(), len(f.Payload), err.Error(), at)
				continue
			}
			return
		}
		cmd := f.Command()
		s.record(Received, cmd, len(f.Payload), "", at)
		switch cmd {
		case wire.CmdVerack:
			s.res.addQuirk(QuirkDuplicateVerack)
		case wire.CmdVersion:
			s.res.addQuirk(QuirkDuplicateVersion)
		case wire.CmdWtxidRelay, wire.CmdSendAddrV2:
			s.res.addQuirk(QuirkNegotiationAfterVerack)
		case wire.CmdAlert:
			s.res.addQuirk(QuirkAlert)
		case wire.CmdPing:
			var p wire.Ping
			if err := p.DecodePayload(f.Payload); err != nil {
				s.checkDecodes(err)
				continue
			}
			if p.NoNonce || s.res.NegotiatedVersion <= wire.BIP31Version {
				continue
			}
			s.out = wire.AppendMessage(s.out, s.cfg.Network, wire.Pong{Nonce: p.Nonce})
			s.record(Sent, wire.CmdPong, 8, "", at)
			if s.flush(ctx, deadline) != nil {
				return
			}
		}
	}
}
