package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/btc-handshake/btc-handshake/internal/seeddns"
	"github.com/btc-handshake/btc-handshake/wire"
)

// quietListener is a listener the CLI must never reach: after the CLI
// exits, an Accept with a past deadline shows whether it connected.
func quietListener() net.Listener {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(l.Close)
	return l
}

func expectNoConnection(l net.Listener) {
	GinkgoHelper()
	Expect(l.(*net.TCPListener).SetDeadline(time.Now())).To(Succeed())
	c, err := l.Accept()
	if c != nil {
		_ = c.Close()
	}
	Expect(errors.Is(err, os.ErrDeadlineExceeded)).To(BeTrue(), "the CLI connected before refusing its arguments")
}

// oneLine is the whole of stderr, which must be a single line.
func oneLine(s *gexec.Session) string {
	GinkgoHelper()
	text := string(s.Err.Contents())
	Expect(text).To(HaveSuffix("\n"))
	Expect(strings.Count(text, "\n")).To(Equal(1), "want one line on stderr, got %q", text)
	return strings.TrimSuffix(text, "\n")
}

var _ = Describe("CLI usage errors: one line, exit 2, no network work", func() {
	DescribeTable("refuses",
		func(want string, args ...string) {
			l := quietListener()
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "{peer}", l.Addr().String())
			}
			s := run(args...)
			Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(2))
			Expect(oneLine(s)).To(MatchRegexp(want))
			Expect(s.Out.Contents()).To(BeEmpty())
			expectNoConnection(l)
		},
		Entry(nil, `^btc-handshake: --connect "127\.0\.0\.1": want host:port`, "--connect", "127.0.0.1"),
		Entry(nil, `^btc-handshake: --connect "": want host:port`, "--connect", ""),
		Entry(nil, `^btc-handshake: --connect ":8333": the host is missing$`, "--connect", ":8333"),
		Entry(nil, `^btc-handshake: --connect "127\.0\.0\.1:0": the port must be a number from 1 to 65535$`, "--connect", "127.0.0.1:0"),
		Entry(nil, `^btc-handshake: --connect "127\.0\.0\.1:x": the port`, "--connect", "{peer}", "--connect", "127.0.0.1:x"),
		Entry(nil, `^btc-handshake: invalid argument "NaN" for "-t, --timeout" flag: not a duration`, "--connect", "{peer}", "-t", "NaN"),
		Entry(nil, `^btc-handshake: invalid argument "Inf" for "-t, --timeout" flag: not a duration`, "--connect", "{peer}", "-t", "Inf"),
		Entry(nil, `^btc-handshake: invalid argument "1e10" for "-t, --timeout" flag: over the limit of 24h0m0s$`, "--connect", "{peer}", "-t", "1e10"),
		Entry(nil, `^btc-handshake: invalid argument "0" for "-t, --timeout" flag: must be more than zero$`, "--connect", "{peer}", "-t", "0"),
		Entry(nil, `^btc-handshake: invalid argument "-1" for "-t, --timeout" flag: must not be negative$`, "--connect", "{peer}", "-t", "-1"),
		Entry(nil, `^btc-handshake: invalid argument "2x" for "-t, --timeout" flag: not a duration`, "--connect", "{peer}", "-t", "2x"),
		Entry(nil, `^btc-handshake: invalid argument "-1s" for "--linger" flag: must not be negative$`, "--connect", "{peer}", "--linger", "-1s"),
		Entry(nil, `^btc-handshake: --concurrency must be between 1 and 4096, not 0$`, "--connect", "{peer}", "--concurrency", "0"),
		Entry(nil, `^btc-handshake: --concurrency must be between 1 and 4096, not -1$`, "--connect", "{peer}", "--concurrency", "-1"),
		Entry(nil, `^btc-handshake: --max-addrs must be between 1 and \d+, not 0$`, "--max-addrs", "0", "seed.example."),
		Entry(nil, `^btc-handshake: --dns-server "127\.0\.0\.1": want host:port`, "--dns-server", "127.0.0.1", "seed.example."),
		Entry(nil, `^btc-handshake: unknown command "scenario" — did you mean "scenarios"\?`, "scenario"),
		Entry(nil, `^btc-handshake: unknown command "dmeo" — did you mean "demo"\?`, "dmeo"),
		Entry(nil, `^btc-handshake: unknown command "conform-" — did you mean "conform"\?`, "conform-"),
		Entry(nil, `^btc-handshake: unknown flag: --frobnicate$`, "--frobnicate", "seed.example."),
		Entry(nil, `^btc-handshake: invalid argument "0" for "-t, --timeout" flag: must be more than zero$`, "demo", "-t", "0"),
		Entry(nil, `^btc-handshake: invalid argument "NaN" for "-t, --timeout" flag: not a duration`, "demo", "-t", "NaN"),
	)

	It("takes a dotless argument far from every subcommand as a seed (here one that does not resolve)", func() {
		dns := startDNS(map[string][]netip.Addr{})
		s := run("--dns-server", dns.Addr(), "-t", "1", "localseed")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(2))
		Expect(oneLine(s)).To(Equal(fmt.Sprintf("btc-handshake: resolve localseed: no such host (asked %s)", dns.Addr())))
	})

	DescribeTable("accepts durations with units, and bare numbers as seconds",
		func(args ...string) {
			p := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/Satoshi:27.0.0/"))
			DeferCleanup(p.Close)
			s := run(append([]string{"--connect", p.Addr(), "-n", "regtest"}, args...)...)
			Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
			Expect(string(s.Out.Contents())).To(ContainSubstring("SUCCESS"))
		},
		Entry("-t 2s", "-t", "2s"),
		Entry("-t 500ms", "-t", "500ms"),
		Entry("-t 2", "-t", "2"),
		Entry("-t 0.5", "-t", "0.5"),
		Entry("--linger 0", "--linger", "0"),
	)

	It("reads a bare --linger as seconds", func() {
		p := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/Satoshi:27.0.0/"))
		DeferCleanup(p.Close)
		s := run("--connect", p.Addr(), "-n", "regtest", "--linger", "0.3", "--json")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
		total := ndjson(s.Out.Contents())[0]["timings"].(map[string]any)["total_ms"].(float64)
		Expect(total).To(BeNumerically(">=", 300), "lingered 0.3 s, not 0.3 ns")
	})

	It("prints its version with --version", func() {
		s := run("--version")
		Eventually(s).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`^btc-handshake (v\S+|devel( [0-9a-f]{12}(-dirty)?)?) go\S+\n$`))
	})
})

func startDNS(records map[string][]netip.Addr) *seeddns.Server {
	GinkgoHelper()
	dns, err := seeddns.Start("127.0.0.1:0", records)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(dns.Close)
	return dns
}

// rawPeer answers whatever the client sends (it does not parse it) with
// b, then waits for the client to hang up.
func rawPeer(b []byte) string {
	GinkgoHelper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, wire.HeaderSize)); err != nil {
			return
		}
		_, _ = c.Write(b)
		_, _ = io.Copy(io.Discard, c)
	}()
	DeferCleanup(func() { _ = l.Close(); <-done })
	return l.Addr().String()
}

var _ = Describe("CLI failure reports", func() {
	It("names the network of a peer that answers with another network's magic", func() {
		addr := rawPeer(wire.AppendMessage(nil, wire.Mainnet, version(70016, "/Satoshi:30.0.0/")))
		// v1: a peer that answers a v2 key instead of hanging up leaves
		// auto waiting for a terminator (a v2 timeout).
		s := run("--connect", addr, "-n", "regtest", "-t", "2", "--transport", "v1")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`FAILED .*error=".*bad-magic: peer speaks mainnet, we asked for regtest`))

		addr = rawPeer(wire.AppendMessage(nil, wire.Mainnet, version(70016, "/Satoshi:30.0.0/")))
		s = run("--connect", addr, "-n", "regtest", "-t", "2", "--json", "--transport", "v1")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		e := ndjson(s.Out.Contents())[0]["error"].(map[string]any)
		Expect(e).To(HaveKeyWithValue("kind", "bad-magic"))
		Expect(e).To(HaveKeyWithValue("peer_network", "mainnet"))
	})

	It("hints at the network when the peer hangs up right after our version", func() {
		// A mainnet peer reads our regtest header as garbage and hangs up,
		// as Core and btcd do.
		p := startPeer("127.0.0.1:0", wire.Mainnet, coalesced("/x:1/"))
		DeferCleanup(p.Close)
		s := run("--connect", p.Addr(), "-n", "regtest", "-t", "2")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring(
			`peer-closed: the peer closed right after our version: is it on another network? we asked for regtest`))
	})

	It("shows the version received even when it is below --min-peer-version", func() {
		p := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/Satoshi:27.0.0/"))
		DeferCleanup(p.Close)
		s := run("--connect", p.Addr(), "-n", "regtest", "-t", "2", "--min-peer-version", "70017")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`FAILED\s+version=70016\s+ua="/Satoshi:27\.0\.0/" .*version-too-low: peer version 70016 below minimum 70017`))

		s = run("--connect", p.Addr(), "-n", "regtest", "-t", "2", "--min-peer-version", "70017", "--json")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		peer := ndjson(s.Out.Contents())[0]
		Expect(peer).To(HaveKeyWithValue("version", BeNumerically("==", 70016)))
		Expect(peer).To(HaveKeyWithValue("ok", false))
	})
})

var _ = Describe("CLI summaries", func() {
	summaryKeys := []string{"type", "command", "total", "passed", "failed", "skipped", "elapsed_ms"}

	It("ends a seed survey with one summary object counting by user agent, version, transport, quirk and error", func() {
		good := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/Satoshi:27.0.0/"))
		DeferCleanup(good.Close)
		_, port, _ := net.SplitHostPort(good.Addr())
		stuck := startPeer("127.0.0.2:"+port, wire.Regtest, noVerack)
		DeferCleanup(stuck.Close)
		dns := startDNS(map[string][]netip.Addr{
			"seed.example.": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")},
		})
		s := run("--dns-server", dns.Addr(), "-n", "regtest", "-p", port, "-t", "0.5", "--json", "seed.example.")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		objs := ndjson(s.Out.Contents())
		Expect(objs).To(HaveLen(3))
		sum := objs[2]
		for _, k := range summaryKeys {
			Expect(sum).To(HaveKey(k))
		}
		Expect(sum).To(HaveKeyWithValue("type", "summary"))
		Expect(sum).To(HaveKeyWithValue("command", "survey"))
		Expect(sum).To(HaveKeyWithValue("total", BeNumerically("==", 2)))
		Expect(sum).To(HaveKeyWithValue("passed", BeNumerically("==", 1)))
		Expect(sum).To(HaveKeyWithValue("failed", BeNumerically("==", 1)))
		counts := sum["counts"].(map[string]any)
		Expect(counts["user_agent"]).To(Equal(map[string]any{"/Satoshi:27.0.0/": 1.0, "/Satoshi:0.21.0/": 1.0}))
		Expect(counts["version"]).To(Equal(map[string]any{"70016": 2.0}))
		Expect(counts["transport"]).To(Equal(map[string]any{"v1": 2.0}))
		Expect(counts["quirk"]).To(Equal(map[string]any{"version-verack-coalesced": 1.0}))
		Expect(counts["error"]).To(Equal(map[string]any{"timeout": 1.0}))

		s = run("--dns-server", dns.Addr(), "-n", "regtest", "-p", port, "-t", "0.5", "seed.example.")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("finished with 1 SUCCESS & 1 FAILED\n" +
			"  user agents: \"/Satoshi:0.21.0/\" 1, \"/Satoshi:27.0.0/\" 1\n" +
			"  versions:    70016 2\n" +
			"  transports:  v1 2\n" +
			"  quirks:      version-verack-coalesced 1\n" +
			"  errors:      timeout 1\n"))
		Expect(s.Err.Contents()).NotTo(ContainSubstring("\r"), "no progress line when stderr is not a terminal")
	})

	It("gives --connect the same summary shape", func() {
		p := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/Satoshi:27.0.0/"))
		DeferCleanup(p.Close)
		s := run("--connect", p.Addr(), "-n", "regtest", "-t", "2", "--json")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
		sum := ndjson(s.Out.Contents())[1]
		for _, k := range summaryKeys {
			Expect(sum).To(HaveKey(k))
		}
		Expect(sum).To(HaveKeyWithValue("command", "connect"))
		Expect(sum).To(HaveKeyWithValue("passed", BeNumerically("==", 1)))
	})

	It("makes demo --json pure NDJSON: peers, a verdict per scenario, one summary", func() {
		s := run("demo", "-t", "1s", "--json")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
		objs := ndjson(s.Out.Contents()) // fails on any line that is not JSON
		types := map[string]int{}
		for _, o := range objs {
			types[o["type"].(string)]++
		}
		n := types["peer"]
		Expect(n).To(BeNumerically(">=", 40))
		Expect(types).To(Equal(map[string]int{"peer": n, "verdict": n, "summary": 1}))
		sum := objs[len(objs)-1]
		for _, k := range summaryKeys {
			Expect(sum).To(HaveKey(k))
		}
		Expect(sum).To(HaveKeyWithValue("command", "demo"))
		Expect(sum).To(HaveKeyWithValue("total", BeNumerically("==", n)))
		Expect(sum).To(HaveKeyWithValue("passed", BeNumerically("==", n)))
		Expect(sum["counts"]).To(HaveKey("quirk"))
		Expect(bytes.Count(s.Out.Contents(), []byte("\n"))).To(Equal(len(objs)))
		Expect(regexp.MustCompile(`(?m)^[^{]`).Match(s.Out.Contents())).To(BeFalse())
	})
})
