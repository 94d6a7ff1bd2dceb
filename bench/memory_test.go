package bench_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"
)

// heldPairs is how many pairs BenchmarkHeldPairs holds open at once.
const heldPairs = 1000

// BenchmarkHeldPairs holds 1,000 established pairs (a client that has
// completed its handshake and a responder connection waiting for more)
// per implementation, both ends in this process, and reports memory per
// pair: RSS (VmRSS delta, after a GC that returns free memory to the
// OS, so it counts live memory), Go heap, goroutine stacks, goroutines.
// Kernel socket buffers are not in RSS and not counted. One op
// establishes the 1,000 pairs.
func BenchmarkHeldPairs(b *testing.B) {
	for _, im := range impls() {
		b.Run(im.name, func(b *testing.B) {
			if err := benchHeldPairs(b, im, heldPairs); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// pairMemory is the memory of n pairs, per pair.
type pairMemory struct {
	rss, heap, stack, goroutines float64
}

func benchHeldPairs(b *testing.B, im impl, n int) error {
	if _, err := raiseFDLimit(uint64(4*n + 256)); err != nil {
		return err
	}
	srv, err := im.serve(loopbackAddr)
	if err != nil {
		return err
	}
	defer srv.Close()
	var sum pairMemory
	rounds := 0
	for b.Loop() {
		b.StopTimer()
		m, closers, err := holdPairs(b, im, srv.Addr(), n)
		for _, c := range closers {
			_ = c.Close()
		}
		srv.quiesce()
		if err != nil {
			return err
		}
		sum.rss += m.rss
		sum.heap += m.heap
		sum.stack += m.stack
		sum.goroutines += m.goroutines
		rounds++
		b.StartTimer()
	}
	r := float64(rounds)
	b.ReportMetric(sum.rss/r, "rss-B/pair")
	b.ReportMetric(sum.heap/r, "heap-B/pair")
	b.ReportMetric(sum.stack/r, "stack-B/pair")
	b.ReportMetric(sum.goroutines/r, "goroutines/pair")
	return nil
}

// holdPairs establishes n pairs with a few workers (the timer runs only
// while they connect) and measures them; the caller closes what it gets.
func holdPairs(b *testing.B, im impl, addr string, n int) (pairMemory, []io.Closer, error) {
	settle()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g0, rss0 := runtime.NumGoroutine(), rss()
	closers := make([]io.Closer, n)
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	const workers = 8
	b.StartTimer()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				c, err := im.hold(context.Background(), addr)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("%s pair %d: %w", im.name, i, err) })
					return
				}
				closers[i] = c
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	held := closers[:0]
	for _, c := range closers {
		if c != nil {
			held = append(held, c)
		}
	}
	if firstErr != nil {
		return pairMemory{}, held, firstErr
	}
	settle()
	runtime.ReadMemStats(&after)
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return pairMemory{
		rss:        float64(rss()-rss0) / float64(n),
		heap:       per(after.HeapAlloc, before.HeapAlloc),
		stack:      per(after.StackInuse, before.StackInuse),
		goroutines: float64(runtime.NumGoroutine()-g0) / float64(n),
	}, held, nil
}
