package handshake

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Run performs the handshake on a connection you already have, which it
// does not close, and hands it back: once the handshake completes,
// Result.Conn goes on with it at the level of messages, holding whatever
// the peer sent after its verack that Run had already read and, over v2,
// the session's ciphers. Read and write through Result.Conn from then on,
// not through conn. On return conn's deadlines are cleared (unless ctx
// ended). Run cannot reconnect: Config.Transport auto is v2 here. The
// returned Result is never nil; its Err is the returned error.
func Run(ctx context.Context, conn net.Conn, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	b := newResult(conn.RemoteAddr().String(), cfg.Now())
	err := run(ctx, conn, cfg, b, b.res.Started, true)
	if err == nil {
		b.res.Conn = &b.conn
	}
	return &b.res, err
}

func ctxKind(ctx context.Context) Kind {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return KindTimeout
	}
	return KindCanceled
}

// resultBlock is a Result with room for what a handshake fills in (its
// transcript, its quirks, the peer's version, the Conn Run hands back),
// allocated in one piece.
type resultBlock struct {
	res    Result
	events [transcriptRoom]Event
	quirks [quirkRoom]Quirk
	peer   wire.Version
	conn   Conn
	// retryV1: a v2 attempt met Core's condition for a v1 reconnection
	// (session.v2Failed).
	retryV1 bool
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

// run performs the handshake on conn; start is the current time. handBack
// says the caller goes on using conn (Run), so the deadlines are cleared
// at the end; Dial closes conn, which clears them anyway.
func run(ctx context.Context, conn net.Conn, cfg Config, b *resultBlock, start time.Time, handBack bool) (err error) {
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
		if handBack && err == nil {
			b.conn.adopt(s)
		}
		s.release()
	}()
	s.lastRead = start
	s.handshakeDeadline = start.Add(cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(s.handshakeDeadline) {
		s.handshakeDeadline = d
	}
	res.Transport = TransportV1
	err = s.handshake(ctx, start)
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
