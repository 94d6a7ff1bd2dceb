package handshake

import (
	"context"
	"sync"
	"sync/atomic"
)

// DefaultConcurrency is Survey's bound when none is given.
const DefaultConcurrency = 32

// MaxConcurrency caps Survey's concurrency whatever is asked, so that one
// run cannot exhaust file descriptors.
const MaxConcurrency = 4096

// Survey handshakes with every target, at most concurrency at a time
// (DefaultConcurrency when ≤ 0, capped at MaxConcurrency), and streams the
// results in completion order. The channel is closed when all are done or
// ctx ends; targets not started by then are reported with KindCanceled.
func Survey(ctx context.Context, targets []string, cfg Config, concurrency int) <-chan *Result {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	concurrency = min(concurrency, MaxConcurrency, max(len(targets), 1))
	out := make(chan *Result, concurrency)
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
						Err: &Error{Kind: KindCanceled, Phase: PhaseConnect, Addr: addr, Err: err}}
					continue
				}
				res, _ := Dial(ctx, addr, cfg)
				out <- res
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}
