package handshake_test

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// gate counts the handshakes in progress across many peers. A peer holds
// each handshake until bound of them are in progress at once, then keeps
// them a moment longer so that one too many would be seen, and lets them
// go. A client that keeps to its bound therefore shows exactly bound at
// the peak; one that exceeds it shows more. (If the bound is never
// reached, fallback releases the peers and the peak shows it.)
type gate struct {
	mu       sync.Mutex
	active   int
	peak     int
	bound    int
	full     chan struct{}
	window   time.Duration
	fallback time.Duration
}

func newGate(bound int) *gate {
	return &gate{bound: bound, full: make(chan struct{}), window: 20 * time.Millisecond, fallback: 2 * time.Second}
}

// pass counts one handshake in progress for as long as the gate holds it.
func (g *gate) pass() {
	g.mu.Lock()
	g.active++
	g.peak = max(g.peak, g.active)
	full := g.full
	if g.active == g.bound {
		close(g.full)
		g.full = make(chan struct{})
	}
	g.mu.Unlock()

	fallback := time.NewTimer(g.fallback)
	defer fallback.Stop()
	select {
	case <-full:
		window := time.NewTimer(g.window)
		<-window.C
	case <-fallback.C:
	}

	g.mu.Lock()
	g.active--
	g.mu.Unlock()
}

func (g *gate) max() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}

// collect reads results until the channel is closed.
func collect(results <-chan *handshake.Result) []*handshake.Result {
	GinkgoHelper()
	var all []*handshake.Result
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case r, ok := <-results:
			if !ok {
				return all
			}
			all = append(all, r)
		case <-timeout.C:
			Fail("the survey's channel was not closed")
		}
	}
}

func addrs(rs []*handshake.Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Addr)
	}
	return out
}

var _ = Describe("Survey", func() {
	It("returns each of 20 peers once, never more than 4 at a time", func() {
		const peers, concurrency = 20, 4
		g := newGate(concurrency)
		var targets []string
		for range peers {
			p := startPeer(func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				// Counted from the client's version until before our
				// verack leaves: a span inside the client's connection,
				// so the count can only be below the client's own.
				g.pass()
				if err := pc.send(peerVersion(70016), wire.Verack{}); err != nil {
					return err
				}
				return pc.drain()
			})
			targets = append(targets, p.Addr())
		}
		results := collect(handshake.Survey(context.Background(), targets, handshake.Config{Timeout: generous}, concurrency))
		Expect(addrs(results)).To(ConsistOf(targets))
		for _, r := range results {
			Expect(r.Err).NotTo(HaveOccurred())
			Expect(r.OK()).To(BeTrue())
		}
		Expect(g.max()).To(BeNumerically("<=", concurrency))
		Expect(g.max()).To(Equal(concurrency), "the bound should also be used")
	})

	It("reports every target not finished at cancellation as canceled", func() {
		const peers, concurrency = 20, 2
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var started atomic.Int64
		var all []*testPeer
		var targets []string
		for range peers {
			p := startPeer(func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				if started.Add(1) == concurrency {
					cancel()
				}
				return pc.drain()
			})
			all = append(all, p)
			targets = append(targets, p.Addr())
		}
		results := collect(handshake.Survey(ctx, targets, handshake.Config{Timeout: generous}, concurrency))
		Expect(addrs(results)).To(ConsistOf(targets))
		for _, r := range results {
			Expect(r.OK()).To(BeFalse())
			Expect(r.Err).To(MatchError(handshake.KindCanceled))
			Expect(r.Kind()).To(Equal(handshake.KindCanceled))
		}
		var accepted int64
		for _, p := range all {
			accepted += p.accepted.Load()
		}
		Expect(accepted).To(Equal(int64(concurrency)), "no connection after cancellation")
	})

	It("closes its channel at once for no targets", func() {
		Expect(collect(handshake.Survey(context.Background(), nil, handshake.Config{}, 4))).To(BeEmpty())
	})
})
