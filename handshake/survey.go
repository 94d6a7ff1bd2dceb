package handshake

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// defaultConcurrency is Survey's bound when none is given.
const defaultConcurrency = 32

// maxConcurrency caps Survey's concurrency whatever is asked, so that one
// run cannot exhaust file descriptors.
const maxConcurrency = 4096

// Survey handshakes with every target, at most concurrency at a time
// (32 when ≤ 0, capped at 4096 so that one survey cannot exhaust file
// descriptors), and streams the
// results in completion order, one per target. The channel is closed when
// all are done; once ctx ends, handshakes in progress end as canceled and
// targets not started are reported with KindCanceled at once.
//
// Each peer's whole attempt, connecting included, takes at most
// cfg.Timeout (5 s when ≤ 0) plus cfg.Linger: a survey's time
// per peer is what the caller asked for, however it splits between
// connecting and the handshake (Dial alone allows DialTimeout for
// connecting on top of Timeout).
//
// The workers never wait for the caller: a caller that stops reading and
// cancels ctx leaves no goroutine behind, and one that stops reading
// without canceling leaves them only until the remaining handshakes end.
func Survey(ctx context.Context, targets []string, cfg Config, concurrency int) <-chan *Result {
	if concurrency <= 0 {
		concurrency = defaultConcurrency
	}
	concurrency = min(concurrency, maxConcurrency, max(len(targets), 1))
	perPeer := cfg.Timeout
	if perPeer <= 0 {
		perPeer = defaultTimeout
	}
	perPeer += max(cfg.Linger, 0)
	// Room for every result: a worker that had to wait for the caller to
	// read would be stuck for good once the caller stops reading, and
	// canceling ctx could not free it. A pointer per target is little
	// next to the Result it points at.
	out := make(chan *Result, len(targets))
	// Workers take targets by index: no feeding goroutine for each target
	// to hand over, and no goroutine switch per handshake for it.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(targets) {
					return
				}
				addr := targets[i]
				if err := ctx.Err(); err != nil {
					out <- &Result{Addr: addr, Phase: PhaseConnect,
						Err: &failure{Kind: KindCanceled, Phase: PhaseConnect, Addr: addr, Err: err}}
					continue
				}
				out <- dialWithin(ctx, addr, cfg, perPeer)
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// dialWithin dials addr with the whole attempt bounded by limit. An IP
// address is bounded without a timer (connectCtx: every wait in Dial is a
// socket deadline taken from the context's); a host name needs a real
// deadline, since the resolver waits on Done.
func dialWithin(ctx context.Context, addr string, cfg Config, limit time.Duration) *Result {
	deadline := time.Now().Add(limit)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		res, _ := Dial(ctx, addr, cfg)
		return res
	}
	if _, err := netip.ParseAddrPort(addr); err == nil {
		res, _ := Dial(&connectCtx{Context: ctx, deadline: deadline}, addr, cfg)
		return res
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	res, _ := Dial(ctx, addr, cfg)
	return res
}
