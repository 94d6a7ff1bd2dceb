package main_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("btc-handshake check --expect", func() {
	ours := func() string { return binPath + " --connect {addr} -n {network} -t 2 --json" }

	It("reports the behaviour seen, and fails a client that shows another than the one required", func() {
		s := run("check", "--client-cmd", ours(), "--client-timeout", "2s", "--scenario", "verack-before-version")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`PASS\s+verack-before-version\s.*\stolerant\s`))

		s = run("check", "--client-cmd", ours(), "--client-timeout", "2s", "--scenario", "verack-before-version", "--expect", "core")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring("but core-like behaviour was required"))

		s = run("check", "--client-cmd", ours(), "--client-timeout", "2s", "--scenario", "verack-before-version", "--expect", "tolerant")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
	})

	DescribeTable("refuses what it cannot use, before any run",
		func(args ...string) {
			s := run(append([]string{"check", "--client-cmd", "true {addr}"}, args...)...)
			Eventually(s).Should(gexec.Exit(2))
			Expect(strings.Count(strings.TrimSpace(string(s.Err.Contents())), "\n")).To(BeZero(), "one line")
			Expect(s.Out.Contents()).To(BeEmpty())
		},
		Entry("an unknown behaviour", "--expect", "lenient"),
		Entry("a zero client timeout", "--client-timeout", "0s"),
		Entry("a negative slack", "--slack", "-1s"),
	)

	It("documents the timeout contract and the witness in its help", func() {
		s := run("check", "--help")
		Eventually(s).Should(gexec.Exit(0))
		help := string(s.Out.Contents())
		for _, want := range []string{"{timeout}", "{timeout_ms}", "BTC_HANDSHAKE_TIMEOUT", "--slack", "witness", "core-like", "tolerant", "--strict", "interrupted"} {
			Expect(help).To(ContainSubstring(want))
		}
	})
})
