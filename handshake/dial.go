package handshake

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// defaultDialer dials when Config.DialContext is nil. TCP keep-alive is off: a
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
	err := dialRun(ctx, addr, cfg, b)
	if b.retryV1 && cfg.Transport == TransportAuto {
		// Core's v1 fallback (session.v2Failed): a new connection, a
		// new handshake with its own Timeout, the same Result.
		started := b.res.Started
		*b = resultBlock{}
		b.res = Result{Addr: addr, Started: started, Transcript: b.events[:0], Quirks: b.quirks[:0], Fallback: true}
		cfg.Transport = TransportV1
		err = dialRun(ctx, addr, cfg, b)
	}
	return &b.res, err
}

// dialRun connects and runs one handshake into b.
func dialRun(ctx context.Context, addr string, cfg Config, b *resultBlock) error {
	res := &b.res
	res.Phase = PhaseConnect
	conn, err := dial(ctx, cfg.DialContext, addr, cfg.DialTimeout)
	if err != nil {
		kind := KindDial
		switch {
		case ctx.Err() != nil:
			kind = ctxKind(ctx)
		case errors.Is(err, context.DeadlineExceeded) || classify(err) == KindTimeout:
			kind = KindTimeout
		}
		res.Err = &failure{Kind: kind, Phase: PhaseConnect, Addr: addr, Err: err}
		res.Timings.Total = cfg.Now().Sub(res.Started)
		return res.Err
	}
	defer conn.Close()
	now := cfg.Now()
	res.Timings.Connect = now.Sub(res.Started)
	return run(ctx, conn, cfg, b, now, false)
}

// dial connects to addr within timeout, with d or (nil) defaultDialer.
func dial(ctx context.Context, d func(context.Context, string, string) (net.Conn, error), addr string, timeout time.Duration) (net.Conn, error) {
	if d == nil {
		d = defaultDialer.DialContext
		if _, err := netip.ParseAddrPort(addr); err == nil {
			// net.Dialer's own connect honours the deadline: no timer
			// (connectCtx).
			return defaultDialer.DialContext(boundedCtx(ctx, time.Now().Add(timeout)), "tcp", addr)
		}
	}
	deadline := time.Now().Add(timeout)
	if parent, ok := ctx.Deadline(); ok && !deadline.Before(parent) {
		return d(ctx, "tcp", addr) // ctx's own deadline comes first
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return d(ctx, "tcp", addr)
}

// boundedCtx is ctx bounded by deadline: ctx itself when its own deadline
// comes first, else a connectCtx.
func boundedCtx(ctx context.Context, deadline time.Time) context.Context {
	if parent, ok := ctx.Deadline(); ok && !deadline.Before(parent) {
		return ctx
	}
	return &connectCtx{Context: ctx, deadline: deadline}
}

// connectCtx bounds the dial of an IP address by a deadline without a
// timer. A net.Dialer dialing an IP address waits only in connect, and
// connect enforces the context's deadline itself, as the socket's write
// deadline, whenever Done is not nil (net/fd_unix.go). A context from
// context.WithDeadline would also start a runtime timer and give the
// parent a child map for the dial's cancellation hook, allocations a
// survey makes per peer (BENCHMARKS.md, 4dad065). Done is the parent's, or a channel that never closes; the spec
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
