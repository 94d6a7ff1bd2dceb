package main_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

// Issue 11, item 6: the mock's node scenarios keep their node's peer
// timeout, so that conform passes every probe against them, the two that
// wait for the peer timeout included (no --fast).
var _ = Describe("btc-handshake mock serve --peer-timeout", func() {
	// A short peer timeout keeps the run quick; 2 s rather than 1 s because
	// self-connection and pre-verack-messages leave their connection
	// without a verack for about a second on purpose (their own watch,
	// then the harness's).
	const peerTimeout = "2s"

	serve := func(args ...string) string {
		s := run(append([]string{"mock", "serve"}, args...)...)
		DeferCleanup(func() {
			s.Interrupt()
			Eventually(s).WithTimeout(5 * time.Second).Should(gexec.Exit(0))
		})
		Eventually(s.Out).WithTimeout(5 * time.Second).Should(gbytesSay(`\n`))
		return strings.TrimSpace(strings.SplitN(string(s.Out.Contents()), "\n", 2)[0])
	}

	DescribeTable("conform passes every probe against the node scenario, the slow ones included",
		func(scenario, profile string) {
			addr := serve("--scenario", scenario, "--peer-timeout", peerTimeout)
			start := time.Now()
			s := run("conform", addr, "-n", "regtest", "--profile", profile, "--peer-timeout", peerTimeout, "--json")
			Eventually(s).WithTimeout(60 * time.Second).Should(gexec.Exit(0))
			AddReportEntry("conform wall time", time.Since(start).Round(time.Millisecond))
			objs := ndjson(s.Out.Contents())
			Expect(objs).To(HaveLen(len(scenarios.Probes().Transport("v1")) + 1))
			for _, o := range objs[:len(objs)-1] {
				Expect(o).To(HaveKeyWithValue("passed", true), "%v", o)
				Expect(o).NotTo(HaveKey("skipped"), "%v", o)
			}
			slow := map[string]bool{"silent-peer": true, "no-verack": true}
			for _, o := range objs[:len(objs)-1] {
				if !slow[o["probe"].(string)] {
					continue
				}
				obs := o["observation"].(map[string]any)
				Expect(obs).To(HaveKeyWithValue("end", "closed at the peer timeout"), "%v", o)
				// The mock drops the peer at its timeout, counted from the
				// accept: a little less than 2 s after the probe's version.
				AddReportEntry(o["probe"].(string)+" closed after (ms)", obs["closed_after_ms"])
				Expect(obs["closed_after_ms"]).To(BeNumerically("~", 2000, 300))
			}
			sum := objs[len(objs)-1]
			Expect(sum).To(HaveKeyWithValue("type", "summary"))
			Expect(sum).To(HaveKeyWithValue("command", "conform"))
			Expect(sum).To(HaveKeyWithValue("passed", float64(len(objs)-1)))
			Expect(sum).To(HaveKeyWithValue("failed", float64(0)))
			Expect(sum).To(HaveKeyWithValue("errors", float64(0)))
			Expect(sum).To(HaveKeyWithValue("skipped", float64(0)))
		},
		Entry("Bitcoin Core", "core-v30-responder", string(scenarios.ModelCore)),
		Entry("btcd", "btcd-v0.26.2-responder", string(scenarios.ModelBtcd)),
	)

	DescribeTable("refuses a peer timeout it cannot keep, with exit 2",
		func(args ...string) {
			s := run(append([]string{"mock", "serve"}, args...)...)
			Eventually(s).Should(gexec.Exit(2))
			Expect(s.Out.Contents()).To(BeEmpty(), "no address: nothing was served")
			Expect(string(s.Err.Contents())).To(ContainSubstring("--peer-timeout"))
		},
		Entry("a scenario that plays no node", "--scenario", "verack-skipped-held", "--peer-timeout", "5s"),
		Entry("a negative duration", "--scenario", "core-v30-responder", "--peer-timeout", "-1s"),
	)
})
