package handshake

import (
	"context"
	"sync"
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
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for addr := range jobs {
				res, _ := Dial(ctx, addr, cfg)
				out <- res
			}
		}()
	}
	go func() {
		defer close(out)
		for i, addr := range targets {
			select {
			case jobs <- addr:
			case <-ctx.Done():
				close(jobs)
				wg.Wait()
				for _, rest := range targets[i:] {
					out <- &Result{Addr: rest, Phase: PhaseConnect,
						Err: &Error{Kind: KindCanceled, Phase: PhaseConnect, Addr: rest, Err: ctx.Err()}}
				}
				return
			}
		}
		close(jobs)
		wg.Wait()
	}()
	return out
}
