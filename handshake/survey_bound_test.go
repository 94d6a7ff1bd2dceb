package handshake_test

import (
	"context"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/btc-handshake/btc-handshake/handshake"
)

// slowDialer connects after delay, as a peer far away does: the time
// spent connecting must count against the survey's per-peer bound.
type slowDialer struct{ delay time.Duration }

func (d slowDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	t := time.NewTimer(d.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

var _ = Describe("Survey's bounds", func() {
	It("leaves no goroutine behind when the caller reads one result and cancels", func() {
		good := startPeer(coreReply(70016))
		targets := []string{good.Addr()}
		for range 7 {
			targets = append(targets, startPeer(silent).Addr())
		}
		// The peers' own goroutines end with the spec; what must not
		// outlive the cancellation is the survey's.
		before := gleak.Goroutines()
		ctx, cancel := context.WithCancel(context.Background())
		results := handshake.Survey(ctx, targets, handshake.Config{Timeout: generous}, 2)
		var first *handshake.Result
		Eventually(results).WithTimeout(generous).Should(Receive(&first))
		Expect(first.Addr).To(Equal(good.Addr()), "the only peer that answers comes first")
		cancel()
		// The caller reads nothing more: every worker must still end.
		Eventually(gleak.Goroutines).WithTimeout(3*time.Second).ShouldNot(gleak.HaveLeaked(before),
			"workers left after the caller stopped reading and canceled")
	})

	It("bounds each peer's whole attempt, connecting included, by Timeout", func() {
		p := startPeer(silent)
		const timeout, connect = 400 * time.Millisecond, 300 * time.Millisecond
		cfg := handshake.Config{Timeout: timeout, DialContext: slowDialer{delay: connect}.DialContext}
		start := time.Now()
		var res *handshake.Result
		Eventually(handshake.Survey(context.Background(), []string{p.Addr()}, cfg, 1)).
			WithTimeout(timeout + connect + schedulingMargin).Should(Receive(&res))
		elapsed := time.Since(start)
		Expect(res.Kind()).To(Equal(handshake.KindTimeout))
		Expect(res.Phase).To(Equal(handshake.PhaseVersion), "it connected, then the peer stayed silent")
		Expect(res.Timings.Connect).To(BeNumerically(">=", connect))
		Expect(res.Timings.Total).To(BeNumerically("<", timeout+100*time.Millisecond),
			"Dial alone would take connect + Timeout = %v", connect+timeout)
		Expect(elapsed).To(BeNumerically(">=", timeout))
	})
})
