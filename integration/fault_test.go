package integration_test

import (
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/integration"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// faultTimeout is our client's handshake timeout in the fault lane.
const faultTimeout = 2 * time.Second

// toxiproxyStuck are goroutines toxiproxy v2.5.0 itself leaves blocked:
// when a reset_peer toxic has fired (or Stop closes a connection) while
// more data is in the pipeline, the link's reader and the toxic in front of
// the one that ended block on a channel send that nobody will receive
// (toxics.NoopToxic.Pipe, stream.ChanWriter.Write, SlicerToxic.Pipe). They
// are toxiproxy's, a few per faulted connection, and end with the test
// process; every other goroutine is still checked.
var toxiproxyStuck = []any{
	gleak.IgnoringTopFunction("github.com/Shopify/toxiproxy/v2/toxics.(*NoopToxic).Pipe"),
	gleak.IgnoringTopFunction("github.com/Shopify/toxiproxy/v2/toxics.(*SlicerToxic).Pipe"),
	gleak.IgnoringTopFunction("github.com/Shopify/toxiproxy/v2/stream.(*ChanWriter).Write"),
}

var _ = Describe("fault lane: our client through an embedded toxiproxy to a real btcd", Label("fault", "e2e"), Ordered, func() {
	var node *integration.Process

	BeforeAll(func(ctx SpecContext) {
		var err error
		node, err = integration.StartBtcd(ctx, "", integration.WithLogOutput(GinkgoWriter))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	}, NodeTimeout(5*time.Minute))

	DescribeTable("the client's outcome matches the verdict",
		func(ctx SpecContext, addFaults func(*integration.FaultProxy) error, want scenarios.Verdict, check func(*handshake.Result)) {
			goroutines := gleak.Goroutines()
			proxy, err := integration.StartFaultProxy(node.P2PAddr())
			Expect(err).NotTo(HaveOccurred())
			Expect(addFaults(proxy)).To(Succeed())
			res, _ := handshake.Dial(ctx, proxy.Addr(), handshake.Config{Network: wire.Regtest, Timeout: faultTimeout})
			o := harness.FromResult(res)
			// A failure must come within the client's timeout (plus slack).
			Expect(o.Judge(want, faultTimeout+time.Second)).To(BeEmpty(), "outcome: %+v", o)
			if check != nil {
				check(res)
			}
			Expect(proxy.Close()).To(Succeed())
			expectNoLeakedGoroutines(goroutines, toxiproxyStuck...)
		},
		Entry("150 ms of latency each way: completes, after two crossings",
			func(p *integration.FaultProxy) error {
				return errors.Join(p.ToNode().Delay(150*time.Millisecond, 0), p.Delay(150*time.Millisecond, 0))
			},
			scenarios.Completes(), func(res *handshake.Result) {
				Expect(res.Timings.Version).To(BeNumerically(">=", 300*time.Millisecond))
			}),
		Entry("the node's bytes sliced into 1-byte segments: completes",
			func(p *integration.FaultProxy) error { return p.Slice(1, 0, 200*time.Microsecond) },
			scenarios.Completes(), func(res *handshake.Result) {
				Expect(res.Peer.UserAgent).To(ContainSubstring("/btcd:"))
				Expect(res.Quirks).NotTo(ContainElement(handshake.QuirkCoalescedVerack))
			}),
		Entry("our bytes sliced into 3-byte segments: completes",
			func(p *integration.FaultProxy) error { return p.ToNode().Slice(3, 2, 200*time.Microsecond) },
			scenarios.Completes(), nil),
		Entry("1 KB/s each way: completes",
			func(p *integration.FaultProxy) error { return errors.Join(p.ToNode().Throttle(1), p.Throttle(1)) },
			scenarios.Completes(), func(res *handshake.Result) {
				Expect(res.Timings.Verack).To(BeNumerically(">=", 100*time.Millisecond))
			}),
		Entry("a reset as soon as our version passes: connection-reset",
			func(p *integration.FaultProxy) error { return p.ToNode().Reset(0) },
			scenarios.Fails(string(handshake.KindReset), string(handshake.PhaseVersion)), nil),
		Entry("a reset 100 ms after the node's answer: connection-reset",
			func(p *integration.FaultProxy) error { return p.Reset(100 * time.Millisecond) },
			scenarios.Fails(string(handshake.KindReset), string(handshake.PhaseVersion)), nil),
		Entry("the node's answer dropped, the connection held: timeout",
			func(p *integration.FaultProxy) error { return p.Stall(0) },
			scenarios.Fails(string(handshake.KindTimeout), string(handshake.PhaseVersion)), func(res *handshake.Result) {
				Expect(res.Timings.Total).To(BeNumerically(">=", faultTimeout))
			}),
		Entry("the node's answer dropped, the connection closed after 300 ms: peer-closed",
			func(p *integration.FaultProxy) error { return p.Stall(300 * time.Millisecond) },
			scenarios.Fails(string(handshake.KindPeerClosed), string(handshake.PhaseVersion)), func(res *handshake.Result) {
				Expect(res.Timings.Total).To(BeNumerically("<", faultTimeout))
			}),
		Entry("our version dropped: the node never answers, timeout",
			func(p *integration.FaultProxy) error { return p.ToNode().Stall(0) },
			scenarios.Fails(string(handshake.KindTimeout), string(handshake.PhaseVersion)), nil),
	)

	It("forwards faithfully without faults, and can be closed twice, through either direction", func(ctx SpecContext) {
		proxy, err := integration.StartFaultProxy(node.P2PAddr())
		Expect(err).NotTo(HaveOccurred())
		Expect(proxy.Upstream()).To(Equal(node.P2PAddr()))
		res, err := handshake.Dial(ctx, proxy.Addr(), handshake.Config{Network: wire.Regtest, Timeout: faultTimeout})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(harness.CompleteHandshake())
		Expect(proxy.ToNode().Addr()).To(Equal(proxy.Addr()), "a direction is the same proxy")
		Expect(proxy.ToNode().Close()).To(Succeed())
		Expect(proxy.Close()).To(Succeed())
	}, SpecTimeout(30*time.Second))
})
