//go:build linux

package harness_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// liveInGroup lists the processes of group pgid that are not zombies
// (a killed orphan stays a zombie until whatever adopted it reaps it,
// which this machine's init may never do).
func liveInGroup(pgid int) []string {
	var live []string
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // gone meanwhile
		}
		s := string(b)
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			live = append(live, strings.TrimSpace(s[:strings.LastIndexByte(s, ')')+1]))
		}
	}
	return live
}

// groupOf reads the process group id a client wrote ($$ of its `sh -c`,
// the group's leader).
func groupOf(file string) int {
	var pgid int
	Eventually(func() error {
		b, err := os.ReadFile(file)
		if err == nil {
			pgid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		return err
	}).WithTimeout(5 * time.Second).Should(Succeed())
	return pgid
}

const failingReport = `{"type":"peer","ok":false,"error":{"kind":"timeout","message":"m"},"phase":"verack","quirks":[]}`

var _ = Describe("CommandClient", func() {
	var dir, pgidFile string
	BeforeEach(func() {
		dir = GinkgoT().TempDir()
		pgidFile = filepath.Join(dir, "pgid")
	})
	handshakeWith := func(ctx context.Context, cmdline string) harness.Outcome {
		return harness.CommandClient(cmdline)(ctx, "127.0.0.1:1", wire.Regtest)
	}

	Describe("the process group", func() {
		It("is killed, grandchildren included, when the client outlives its deadline plus slack", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			o := handshakeWith(ctx, "echo $$ > "+pgidFile+"; sleep 1000 & sleep 1000 # {addr}")
			Expect(o).NotTo(harness.CompleteHandshake())
			Expect(o.Interrupted).To(BeFalse())
			Expect(o.Message).To(ContainSubstring("killed"))
			// Stopped at its deadline plus the default slack, not before.
			Expect(o.Duration).To(BeNumerically(">=", 200*time.Millisecond+harness.DefaultSlack-20*time.Millisecond))
			Expect(o.Duration).To(BeNumerically("<", 3*time.Second))
			pgid := groupOf(pgidFile)
			Eventually(func() []string { return liveInGroup(pgid) }).WithTimeout(2 * time.Second).Should(BeEmpty())
		})

		It("is killed at once when ctx is canceled, and the run is marked interrupted", func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			outcome := make(chan harness.Outcome, 1)
			go func() { outcome <- handshakeWith(ctx, "echo $$ > "+pgidFile+"; sleep 1000 & sleep 1000 # {addr}") }()
			pgid := groupOf(pgidFile)
			Expect(liveInGroup(pgid)).NotTo(BeEmpty())
			cancel()
			var o harness.Outcome
			Eventually(outcome).WithTimeout(2 * time.Second).Should(Receive(&o))
			Expect(o.Interrupted).To(BeTrue())
			Expect(o).NotTo(harness.CompleteHandshake())
			Expect(o.Judge(scenarios.Verdict{Kind: string(handshake.KindTimeout)}, time.Minute)).To(ContainElement(ContainSubstring("interrupted")))
			Expect(o.Judge(scenarios.Verdict{Complete: true}, time.Minute)).NotTo(BeEmpty())
			Eventually(func() []string { return liveInGroup(pgid) }).WithTimeout(2 * time.Second).Should(BeEmpty())
		})

		It("is not waited for when a background child holds stdout: the client is judged on its exit status", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			o := handshakeWith(ctx, "echo $$ > "+pgidFile+"; sleep 1000 & exit 0 # {addr}")
			Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))
			Expect(o).To(harness.CompleteHandshake())
			Expect(o.Message).To(ContainSubstring("stayed open"))
			Expect(o.Duration).To(BeNumerically("<", time.Second))
			pgid := groupOf(pgidFile)
			Eventually(func() []string { return liveInGroup(pgid) }).WithTimeout(2 * time.Second).Should(BeEmpty())
		})

		It("keeps the report of a client whose background child holds stdout, and its failing exit status", func() {
			o := handshakeWith(context.Background(), "sleep 1000 & echo '"+failingReport+"'; exit 1 # {addr}")
			Expect(o.Detailed).To(BeTrue())
			Expect(o).To(harness.FailWith(handshake.KindTimeout))
			Expect(o.Duration).To(BeNumerically("<", time.Second))
		})

		It("leaves nothing behind when the client exits at once, even a child that closed its output", func() {
			o := handshakeWith(context.Background(), "echo $$ > "+pgidFile+"; sleep 1000 >/dev/null 2>&1 & exit 3 # {addr}")
			Expect(o).NotTo(harness.CompleteHandshake())
			Expect(o.Message).To(ContainSubstring("exit status 3"))
			pgid := groupOf(pgidFile)
			Eventually(func() []string { return liveInGroup(pgid) }).WithTimeout(2 * time.Second).Should(BeEmpty())
		})
	})

	Describe("the timeout contract", func() {
		It("tells the client ctx's deadline as {timeout}, {timeout_ms} and BTC_HANDSHAKE_TIMEOUT", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
			defer cancel()
			o := harness.CommandClient(`echo {timeout} {timeout_ms} "$BTC_HANDSHAKE_TIMEOUT" {addr} {host} {port} {network}; exit 0`)(
				ctx, "127.0.0.9:1234", wire.Testnet4)
			Expect(o.Output).To(Equal("2.5 2500 2.5s 127.0.0.9:1234 127.0.0.9 1234 testnet4\n"))
		})

		It("gives a client without a deadline the default timeout", func() {
			o := handshakeWith(context.Background(), `echo {timeout} {timeout_ms} "$BTC_HANDSHAKE_TIMEOUT" # {addr}`)
			Expect(o.Output).To(Equal("2 2000 2s\n"))
		})
	})

	Describe("output", func() {
		DescribeTable("is kept within a fixed bound, head and tail, whatever the client prints",
			func(cmdline string) {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				o := handshakeWith(ctx, cmdline)
				runtime.ReadMemStats(&after)
				Expect(o).To(harness.CompleteHandshake())
				// 200 MB went through; what was allocated meanwhile is a
				// few buffers (read buffer, capture, one report line).
				Expect(after.TotalAlloc - before.TotalAlloc).To(BeNumerically("<", 8<<20))
				Expect(len(o.Output)).To(BeNumerically("<=", 64<<10+200))
				Expect(o.Output).To(HavePrefix("BEGIN"))
				Expect(o.Output).To(HaveSuffix("END\n"))
				Expect(o.Output).To(MatchRegexp(`\n… \d+ bytes dropped …\n`))
			},
			Entry("200 MB of short lines", "echo BEGIN; yes | head -c 200000000; echo END; exit 0 # {addr}"),
			Entry("one 200 MB line", "printf BEGIN; head -c 200000000 /dev/zero; echo END; exit 0 # {addr}"),
			Entry("one 200 MB line that starts like JSON", "printf 'BEGIN\n{'; head -c 200000000 /dev/zero; echo END; exit 0 # {addr}"),
			Entry("200 MB on stderr", "echo BEGIN; yes | head -c 200000000 >&2; echo END >&2; exit 0 # {addr}"),
		)

		It("says how many bytes it dropped, per stream", func() {
			o := handshakeWith(context.Background(), "head -c 100000 /dev/zero | tr '\\0' o; head -c 50000 /dev/zero | tr '\\0' e >&2; exit 0 # {addr}")
			Expect(o.Output).To(ContainSubstring("… 67232 bytes dropped …"))
			Expect(o.Output).To(ContainSubstring("--- stderr ---\n"))
			Expect(o.Output).To(ContainSubstring("… 17232 bytes dropped …"))
		})
	})

	Describe("the peer report", func() {
		It("is found after a 5 MB line, and a failing report fails the run though the client exits 0", func() {
			o := handshakeWith(context.Background(), "head -c 5000000 /dev/zero | tr '\\0' x; echo; echo '"+failingReport+"'; exit 0 # {addr}")
			Expect(o.Detailed).To(BeTrue())
			Expect(o).To(harness.FailWith(handshake.KindTimeout, handshake.PhaseVerack))
			Expect(o.Judge(scenarios.Verdict{Complete: true}, time.Minute)).NotTo(BeEmpty())
		})

		DescribeTable("is found line by line, whatever surrounds it",
			func(cmdline string) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				o := handshakeWith(ctx, strings.ReplaceAll(cmdline, "REPORT", "'"+failingReport+"'")+"; exit 0 # {addr}")
				Expect(o.Detailed).To(BeTrue(), o.Output)
				Expect(o).To(harness.FailWith(handshake.KindTimeout))
			},
			Entry("indented", `printf '  \t'; echo REPORT`),
			Entry("after a line with a brace inside", `echo 'log {x}'; echo ' x {'; echo REPORT`),
			Entry("after JSON that is not a peer report", `echo '{"type":"summary"}'; echo REPORT`),
			Entry("written in two parts", `printf '%s' REPORT | head -c 20; sleep 0.1; printf '%s\n' REPORT | tail -c +21`),
			Entry("on a last line without a newline", `printf '%s' REPORT`),
			Entry("after 100,000 short lines", `yes | head -n 100000; echo REPORT`),
			Entry("after CRLF lines", `printf 'a\r\n\r\n'; printf '%s\r\n' REPORT`),
		)

		It("is found after a 5 MB JSON line that is not a report", func() {
			o := handshakeWith(context.Background(), `printf '{"type":"log","x":"'; head -c 5000000 /dev/zero | tr '\0' x; echo '"}'; echo '`+failingReport+`'; exit 0 # {addr}`)
			Expect(o.Detailed).To(BeTrue())
			Expect(o).To(harness.FailWith(handshake.KindTimeout))
		})

		It("over 1 MiB long is an explicit error, never a fall-back to the exit status", func() {
			o := handshakeWith(context.Background(), `printf '{"type":"peer","ok":true,"user_agent":"'; head -c 2000000 /dev/zero | tr '\0' a; echo '"}'; exit 0 # {addr}`)
			Expect(o).NotTo(harness.CompleteHandshake())
			Expect(o.Invalid).To(ContainSubstring("over the 1048576-byte bound"))
			Expect(o.Judge(scenarios.Verdict{Complete: true}, time.Minute)).To(ConsistOf(ContainSubstring("could not read")))
			Expect(o.Judge(scenarios.Verdict{}, time.Minute)).To(ConsistOf(ContainSubstring("could not read")))
		})

		It("has its client-chosen text bounded", func() {
			long := strings.Repeat("m", 100_000)
			quirks := `"q"` + strings.Repeat(`,"q"`, 999)
			report := `{"type":"peer","ok":false,"error":{"kind":"` + long + `","message":"` + long + `"},"phase":"` + long + `","quirks":[` + quirks + `]}`
			Expect(os.WriteFile(filepath.Join(dir, "report"), []byte(report+"\n"), 0o600)).To(Succeed())
			o := handshakeWith(context.Background(), "cat "+filepath.Join(dir, "report")+"; exit 1 # {addr}")
			Expect(o.Detailed).To(BeTrue())
			Expect(len(o.Message)).To(BeNumerically("<", 1100))
			Expect(o.Message).To(HaveSuffix("…(98976 bytes dropped)"))
			Expect(len(o.Kind)).To(BeNumerically("<", 100))
			Expect(len(o.Phase)).To(BeNumerically("<", 100))
			Expect(len(o.Quirks)).To(Equal(65))
			Expect(o.Quirks[64]).To(Equal("(936 more)"))
		})
	})
})
