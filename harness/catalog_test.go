package harness_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// ourClient is our own client as the harness runs it: 1 s handshake timeout.
var ourClient = harness.GoClient(handshake.Config{Timeout: time.Second})

var catalogOpts = harness.Options{ClientTimeout: time.Second, Slack: 500 * time.Millisecond}

func catalogEntries() []TableEntry {
	var entries []TableEntry
	for _, sc := range scenarios.All().Transport("v1") {
		entries = append(entries, Entry(fmt.Sprintf("%s: %s", sc.Name, sc.Expect), sc.Name))
	}
	return entries
}

var _ = Describe("the scenario catalog against our client", func() {
	DescribeTable("each scenario's verdict, quirks required (strict)",
		func(name string) {
			sc, ok := scenarios.All().Get(name)
			Expect(ok).To(BeTrue())
			opts := catalogOpts
			opts.Strict = true
			j := harness.Run(context.Background(), ourClient, opts, sc)[0]
			Expect(j).To(harness.PassVerdict(), "mock notes: %s", strings.Join(j.MockNotes, "\n"))
			// Our client reaches the verdict's first outcome everywhere.
			Expect(j.Behaviour).To(Equal(sc.Expect.Behaviour))
			Expect(j.Witness.Connected).To(BeTrue())
			if sc.Expect.Complete {
				Expect(j).To(harness.CompleteHandshake())
				for _, q := range sc.Expect.Quirks {
					Expect(j).To(harness.HaveQuirk(q))
				}
				Expect(j.Witness.Received).To(ContainElements(wire.CmdVersion, wire.CmdVerack))
			} else {
				Expect(j).To(harness.FailWith(sc.Expect.Kind, handshake.Phase(sc.Expect.Phase)))
			}
		},
		catalogEntries(),
	)
})

var _ = Describe("the scenario catalog against a Core-like client", func() {
	It("passes every scenario, reported core-like wherever correct clients differ", func() {
		js := harness.Run(context.Background(), coreLikeClient(), catalogOpts, scenarios.All().Transport("v1")...)
		Expect(js).To(HaveLen(len(scenarios.All().Transport("v1"))))
		for _, j := range js {
			Expect(j).To(harness.PassVerdict(), "mock notes: %s", strings.Join(j.MockNotes, "\n"))
			Expect(j.Outcome.Quirks).To(BeEmpty())
			if len(j.Expected.Or) > 0 {
				Expect(j.Behaviour).To(Equal(scenarios.CoreLike), j.Scenario)
			}
		}
	})

	It("differs from our client where Core ignores what our client accepts or refuses", func() {
		ours := harness.Run(context.Background(), ourClient, catalogOpts, scenarios.All().Transport("v1")...)
		theirs := harness.Run(context.Background(), coreLikeClient(), catalogOpts, scenarios.All().Transport("v1")...)
		differ := map[string]scenarios.Behaviour{}
		for i := range ours {
			if ours[i].Behaviour != theirs[i].Behaviour {
				differ[ours[i].Scenario] = ours[i].Behaviour
			}
		}
		Expect(differ).To(Equal(map[string]scenarios.Behaviour{
			"verack-before-version": scenarios.Tolerant,
			"truncated-version":     scenarios.Rejecting,
			"user-agent-257-bytes":  scenarios.Rejecting,
			"nonce-echoed":          scenarios.Rejecting,
		}))
	})

	It("fails where --expect tolerant asks for what Core does not do, and passes --expect core", func() {
		sc, _ := scenarios.All().Get("verack-before-version")
		opts := catalogOpts
		opts.Expect = scenarios.Tolerant
		j := harness.Run(context.Background(), coreLikeClient(), opts, sc)[0]
		Expect(j).NotTo(harness.PassVerdict())
		Expect(j.Behaviour).To(Equal(scenarios.CoreLike))
		Expect(strings.Join(j.Reasons, "; ")).To(ContainSubstring("tolerant behaviour was required"))

		opts.Expect = scenarios.CoreLike
		Expect(harness.Run(context.Background(), coreLikeClient(), opts, sc)[0]).To(harness.PassVerdict())
		j = harness.Run(context.Background(), ourClient, opts, sc)[0]
		Expect(j).NotTo(harness.PassVerdict())
		Expect(strings.Join(j.Reasons, "; ")).To(ContainSubstring("the client showed tolerant behaviour"))
	})

	It("fails a strict run for the quirks it never names, and only those", func() {
		opts := catalogOpts
		opts.Strict = true
		scs, _ := scenarios.All().Select("sendcmpct-before-verack", "btcd-v0.26.2-responder")
		js := harness.Run(context.Background(), coreLikeClient(), opts, scs...)
		Expect(js[0]).NotTo(harness.PassVerdict())
		Expect(strings.Join(js[0].Reasons, "; ")).To(ContainSubstring(`expected quirk "sendcmpct-before-verack"`))
		Expect(js[1]).To(harness.PassVerdict())
	})
})

var _ = Describe("clients that never connect", func() {
	DescribeTable("pass no scenario, and the reason says so",
		func(o harness.Outcome) {
			client := harness.Client(func(context.Context, string, wire.Network) harness.Outcome { return o })
			js := harness.Run(context.Background(), client, harness.Options{ClientTimeout: 100 * time.Millisecond, Slack: 100 * time.Millisecond}, scenarios.All().Transport("v1")...)
			passed, failed := js.Counts()
			Expect(passed).To(BeZero())
			Expect(failed).To(Equal(len(scenarios.All().Transport("v1"))))
			for _, j := range js {
				Expect(j.Witness.Connected).To(BeFalse())
				Expect(j.Reasons).To(ConsistOf(ContainSubstring("the client never connected")), j.Scenario)
			}
		},
		Entry("one that claims success", harness.Outcome{Completed: true}),
		Entry("one that reports a failure", harness.Outcome{Message: "exit status 3"}),
		Entry("one that reports our NDJSON's failure", harness.Outcome{Kind: "timeout", Phase: "version", Detailed: true}),
	)
})

var _ = Describe("the timeout contract", func() {
	timing := func() []scenarios.Scenario {
		var out []scenarios.Scenario
		for _, sc := range scenarios.All().Transport("v1") {
			if sc.HasTag("timing") {
				out = append(out, sc)
			}
		}
		return out
	}

	It("hands the client a context whose deadline is its own: start + ClientTimeout", func() {
		sc, _ := scenarios.All().Get("core-v30-responder")
		var left time.Duration
		client := harness.Client(func(ctx context.Context, addr string, n wire.Network) harness.Outcome {
			dl, ok := ctx.Deadline()
			Expect(ok).To(BeTrue())
			left = time.Until(dl)
			return ourClient(ctx, addr, n)
		})
		Expect(harness.Run(context.Background(), client, harness.Options{ClientTimeout: 700 * time.Millisecond, Slack: 5 * time.Second}, sc)[0]).
			To(harness.PassVerdict())
		Expect(left).To(BeNumerically("~", 700*time.Millisecond, 100*time.Millisecond))
	})

	It("passes the timing scenarios with a client that knows no timeout but its context's deadline", func() {
		scs := timing()
		Expect(len(scs)).To(BeNumerically(">=", 4))
		// Our client with a timeout far beyond the run's: only ctx ends it.
		ctxOnly := harness.GoClient(handshake.Config{Timeout: time.Hour})
		opts := harness.Options{ClientTimeout: 400 * time.Millisecond, Slack: time.Second}
		for _, client := range []harness.Client{ctxOnly, coreLikeClient()} {
			for _, j := range harness.Run(context.Background(), client, opts, scs...) {
				Expect(j).To(harness.PassVerdict(), j.Scenario)
				Expect(j.Witness.Elapsed).To(BeNumerically("<", opts.ClientTimeout+opts.Slack), j.Scenario)
			}
		}
	})

	It("judges a failure after the deadline plus Slack too slow", func() {
		sc, _ := scenarios.All().Get("silent-after-accept")
		late := harness.Client(func(ctx context.Context, addr string, n wire.Network) harness.Outcome {
			o := ourClient(context.WithoutCancel(ctx), addr, n) // waits its own 1 s
			return o
		})
		j := harness.Run(context.Background(), late, harness.Options{ClientTimeout: 200 * time.Millisecond, Slack: 200 * time.Millisecond}, sc)[0]
		Expect(j).NotTo(harness.PassVerdict())
		Expect(strings.Join(j.Reasons, "; ")).To(ContainSubstring("more than the bound 400ms"))
	})
})
