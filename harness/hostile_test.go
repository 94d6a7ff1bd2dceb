package harness_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/internal/hostile"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// serveRaw serves handle on a loopback port until the spec ends: the
// hostile nodes of these specs are not mock peers, they are whatever bytes
// a node may send (internal/hostile).
func serveRaw(handle func(c net.Conn)) string {
	addr, stop, err := hostile.Serve(handle)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(stop)
	return addr
}

// quickOpts are probe options for hostile nodes: short waits everywhere.
func quickOpts(profile scenarios.Model) harness.ProbeOptions {
	return harness.ProbeOptions{Network: wire.Regtest, Model: profile, Observe: 200 * time.Millisecond,
		PeerTimeout: 500 * time.Millisecond, TimeoutSlack: 200 * time.Millisecond,
		StepTimeout: 300 * time.Millisecond, Parallel: 8}
}

var _ = Describe("probes against hostile nodes", func() {
	It("passes no probe of any profile against a mute node (accepts, never sends, never closes)", func(ctx SpecContext) {
		addr := serveRaw(hostile.Mute)
		for _, profile := range scenarios.Models() {
			js := harness.RunProbes(ctx, addr, quickOpts(profile), scenarios.Probes().Transport("v1")...)
			Expect(js).To(HaveLen(len(scenarios.Probes().Transport("v1"))))
			for _, j := range js {
				Expect(j.Passed()).To(BeFalse(), "%s/%s passed against a mute node: %s", profile, j.Probe, j.Observation.Summary())
				Expect(j.Verdict()).To(BeElementOf("fail", "error"), j.Probe)
			}
			passed, _, errored, skipped := js.Counts()
			Expect(passed).To(BeZero())
			Expect(skipped).To(BeZero())
			Expect(errored).To(BeNumerically(">", 0), "probes that need the node's verack could not observe anything")
		}
		p, _ := scenarios.Probes().Get("verack-before-version")
		js := harness.RunProbes(ctx, addr, quickOpts(scenarios.ModelCore), p)
		Expect(js[0].Observation.FollowUp).To(HavePrefix("no answer: "))
		Expect(js[0].Observation.Summary()).To(Equal("nothing → open, no answer to the follow-up"))
		Expect(strings.Join(js[0].Reasons, "; ")).To(ContainSubstring("did not answer the probe's follow-up"))

		p, _ = scenarios.Probes().Get("ping-after-verack")
		js = harness.RunProbes(ctx, addr, quickOpts(scenarios.ModelCore), p)
		Expect(js[0].Verdict()).To(Equal("error"))
		Expect(js[0].Observation.Error).To(ContainSubstring(`Expect("verack")`))
	}, SpecTimeout(60*time.Second))

	It("keeps a bounded observation and bounded memory against a node that floods inv messages", func(ctx SpecContext) {
		var sent atomic.Int64
		addr := serveRaw(hostile.Flood(&sent))
		probes, _ := scenarios.Probes().Select("verack-before-version", "v2-key", "ping-after-verack")
		opts := quickOpts(scenarios.ModelCore)
		opts.Observe = 2 * time.Second
		opts.StepTimeout = 2 * time.Second

		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		stop := make(chan struct{})
		var sampler sync.WaitGroup
		sampler.Go(func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		})
		js := harness.RunProbes(ctx, addr, opts, probes...)
		close(stop)
		sampler.Wait()

		Expect(sent.Load()).To(BeNumerically(">", 64<<20), "the node must flood for the spec to mean anything")
		GinkgoWriter.Printf("flood: the node sent %d MB; peak heap in use %d MB (%d MB before)\n",
			sent.Load()>>20, peak.Load()>>20, base.HeapInuse>>20)
		Expect(peak.Load()).To(BeNumerically("<", base.HeapInuse+96<<20), "peak heap in use")

		for _, j := range js[:2] {
			o := j.Observation
			Expect(o.Error).To(BeEmpty(), j.Probe)
			Expect(o.Frames).To(HaveLen(64), j.Probe)
			Expect(o.MoreFrames).To(BeNumerically(">", 100), j.Probe)
			Expect(o.Summary()).To(MatchRegexp(`^(inv ){64}… and [0-9,]+ more frames \([0-9.]+ [kMG]B\) → open$`), j.Probe)
			Expect(j.Passed()).To(BeFalse())
		}
		// The setup of ping-after-verack reads through the flood for its
		// verack, in vain: an error, not a verdict.
		Expect(js[2].Verdict()).To(Equal("error"))

		var table, nd bytes.Buffer
		Expect(js.WriteTable(&table)).To(Succeed())
		Expect(js.WriteNDJSON(&nd, time.Second)).To(Succeed())
		Expect(table.Len()).To(BeNumerically("<", 8<<10))
		Expect(nd.Len()).To(BeNumerically("<", 32<<10))
	}, SpecTimeout(60*time.Second))

	It("escapes what the node chose (reject text, command bytes) in the table; NDJSON stays valid JSON", func(ctx SpecContext) {
		addr := serveRaw(hostile.Escapes)
		probes, _ := scenarios.Probes().Select("verack-before-version", "wrong-magic")
		js := harness.RunProbes(ctx, addr, quickOpts(scenarios.ModelCore), probes...)
		Expect(js[0].Observation.Frames).NotTo(BeEmpty())
		Expect(js[0].Observation.Frames[0].Token).To(ContainSubstring("\x1b[2J"), "the observation keeps the node's bytes; only output escapes them")

		var table bytes.Buffer
		Expect(js.WriteTable(&table)).To(Succeed())
		Expect(table.String()).NotTo(ContainSubstring("\x1b"))
		Expect(table.String()).NotTo(ContainSubstring("\x07"))
		Expect(table.String()).To(ContainSubstring(`reject(\x1b[2J/0x01)`))
		Expect(table.String()).To(ContainSubstring(`in\x1b[2J(broken)`))

		var nd bytes.Buffer
		Expect(js.WriteNDJSON(&nd, time.Second)).To(Succeed())
		Expect(nd.String()).NotTo(ContainSubstring("\x1b"))
		for line := range strings.Lines(nd.String()) {
			var v map[string]any
			Expect(json.Unmarshal([]byte(line), &v)).To(Succeed(), line)
		}
		Expect(nd.String()).To(ContainSubstring(`reject(\u001b[2J/0x01)`))
	}, SpecTimeout(20*time.Second))

	It("gives every probe that can expect silence and an open connection a follow-up", func() {
		for _, p := range scenarios.Probes().Transport("v1") {
			for _, profile := range scenarios.Models() {
				if r, ok := p.ExpectFor(profile); ok && r.Silent && r.End == scenarios.EndOpen {
					Expect(p.Alive).NotTo(BeEmpty(), "%s expects nothing → open of %s without a follow-up", p.Name, profile)
				}
			}
		}
	})
})

var _ = Describe("an unanswered follow-up", func() {
	It("fails an expected open connection, and only when the follow-up was played", func() {
		o := harness.Observation{FollowUp: "answered"}
		Expect(o.Judge(scenarios.Expectation{Silent: true, End: scenarios.EndOpen})).To(BeEmpty())
		o.FollowUp = "no answer: Expect(\"version\"): deadline exceeded"
		Expect(o.Judge(scenarios.Expectation{Silent: true, End: scenarios.EndOpen})).To(ContainElement(ContainSubstring("did not answer")))
		Expect((harness.Observation{}).Judge(scenarios.Expectation{Silent: true, End: scenarios.EndOpen})).To(BeEmpty())
		Expect(errors.New(o.Summary())).To(MatchError("nothing → open, no answer to the follow-up"))
	})
})
