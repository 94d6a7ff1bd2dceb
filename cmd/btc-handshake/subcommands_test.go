package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
	"github.com/onsi/gomega/types"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("btc-handshake scenarios", func() {
	It("lists the whole catalog as a table", func() {
		s := run("scenarios")
		Eventually(s).Should(gexec.Exit(0))
		out := string(s.Out.Contents())
		for _, name := range scenarios.All().Transport("v1").Names() {
			Expect(out).To(ContainSubstring(name))
		}
		Expect(out).To(ContainSubstring("verack-skipped-held"))
		Expect(out).To(MatchRegexp(`sendcmpct-before-verack\s+v1\s+complete \[sendcmpct-before-verack\]`))
		Expect(out).To(MatchRegexp(`v2-decoys-before-version-packet\s+v2\s+complete`))
	})

	It("lists it as NDJSON with origins and verdicts", func() {
		s := run("scenarios", "--json")
		Eventually(s).Should(gexec.Exit(0))
		var n int
		sc := bufio.NewScanner(strings.NewReader(string(s.Out.Contents())))
		for sc.Scan() {
			var m map[string]any
			Expect(json.Unmarshal(sc.Bytes(), &m)).To(Succeed())
			Expect(m["name"]).To(MatchRegexp(`^[a-z0-9]+(-[a-z0-9.]+)*$`))
			Expect(m["origin"]).NotTo(BeEmpty())
			Expect(m["summary"]).NotTo(BeEmpty())
			Expect(m).To(HaveKey("complete"))
			n++
		}
		Expect(n).To(BeNumerically(">=", 40))
	})
})

var _ = Describe("btc-handshake mock serve", func() {
	serve := func(args ...string) (*gexec.Session, string) {
		s := run(append([]string{"mock", "serve"}, args...)...)
		Eventually(s.Out).Should(gbytesSay(`\n`))
		addr := strings.TrimSpace(strings.SplitN(string(s.Out.Contents()), "\n", 2)[0])
		return s, addr
	}

	It("prints its loopback address first, serves the scenario to every connection and exits 0 on SIGINT", func() {
		s, addr := serve("--scenario", "sendcmpct-before-verack", "-n", "testnet4")
		Expect(addr).To(HavePrefix("127.0.0.1:"))
		for range 3 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			res, err := handshake.Dial(ctx, addr, handshake.Config{Network: wire.Testnet4, Timeout: time.Second})
			cancel()
			Expect(err).NotTo(HaveOccurred())
			Expect(res).To(harness.HaveQuirk(handshake.QuirkSendCmpctBeforeVerack))
		}
		s.Signal(syscall.SIGINT)
		Eventually(s).WithTimeout(5 * time.Second).Should(gexec.Exit(0))
	})

	It("exits 0 on SIGTERM too, and serves failing scenarios as scripted", func() {
		s, addr := serve("--scenario", "wrong-magic")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, _ := handshake.Dial(ctx, addr, handshake.Config{Network: wire.Regtest, Timeout: time.Second})
		Expect(res).To(harness.FailWith(handshake.KindBadMagic))
		s.Terminate()
		Eventually(s).WithTimeout(5 * time.Second).Should(gexec.Exit(0))
	})

	It("refuses an unknown scenario with exit 2", func() {
		s := run("mock", "serve", "--scenario", "no-such-peer")
		Eventually(s).Should(gexec.Exit(2))
		Expect(string(s.Err.Contents())).To(ContainSubstring("unknown scenario"))
	})

	It("refuses an address in use with exit 2 and one line naming it", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer l.Close()
		s := run("mock", "serve", "--scenario", "core-v30-responder", "--listen", l.Addr().String())
		Eventually(s).Should(gexec.Exit(2))
		Expect(s.Out.Contents()).To(BeEmpty())
		Expect(string(s.Err.Contents())).To(MatchRegexp(`^btc-handshake: --listen %s: listen tcp .*address already in use\n$`, regexp.QuoteMeta(l.Addr().String())))
	})
})

var _ = Describe("btc-handshake check", func() {
	It("passes the whole catalog with our own binary as the client under test", func() {
		dir := GinkgoT().TempDir()
		junit := filepath.Join(dir, "report.xml")
		// Our binary counts its -t from its own start, which comes after
		// the harness's (the deadline it is judged by: start + 2 s, plus
		// the slack): 32 clients starting at once on a loaded 2-core CI
		// machine took up to a second to start, so -t leaves it 0.5 s.
		s := run("check", "--client-cmd", binPath+" --connect {addr} -n {network} -t 1.5 --json",
			"--client-timeout", "2s", "--parallel", "32", "--junit", junit)
		Eventually(s).WithTimeout(60*time.Second).Should(gexec.Exit(0), string(s.Out.Contents()))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("%d scenarios: %d passed, 0 failed", len(scenarios.All().Transport("v1")), len(scenarios.All().Transport("v1"))))

		raw, err := os.ReadFile(junit)
		Expect(err).NotTo(HaveOccurred())
		var report struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Cases    []struct {
					Name string `xml:"name,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		Expect(xml.Unmarshal(raw, &report)).To(Succeed())
		Expect(report.Suites).To(HaveLen(1))
		Expect(report.Suites[0].Tests).To(Equal(len(scenarios.All().Transport("v1"))))
		Expect(report.Suites[0].Failures).To(BeZero())
	})

	It("passes no scenario for a client that exits 0 without connecting, and says it never connected", func() {
		s := run("check", "--client-cmd", "true {addr}", "--json")
		Eventually(s).WithTimeout(60 * time.Second).Should(gexec.Exit(1))
		failed := map[string]bool{}
		sc := bufio.NewScanner(strings.NewReader(string(s.Out.Contents())))
		for sc.Scan() {
			var m map[string]any
			Expect(json.Unmarshal(sc.Bytes(), &m)).To(Succeed())
			if m["type"] == "scenario" && m["pass"] == false {
				failed[m["scenario"].(string)] = true
				Expect(m["witness"]).To(HaveKeyWithValue("connected", false))
				Expect(m["reasons"]).To(ContainElement(ContainSubstring("never connected")))
			}
		}
		for _, scn := range scenarios.All().Transport("v1") {
			Expect(failed[scn.Name]).To(BeTrue(), scn.Name)
		}
	})

	It("passes no scenario for a client that exits 3 without connecting", func() {
		s := run("check", "--client-cmd", "exit 3 # {addr}", "--scenario", "core-v30-responder",
			"--scenario", "silent-after-accept")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(1))
		out := string(s.Out.Contents())
		Expect(out).To(MatchRegexp(`FAIL\s+core-v30-responder\s.*no connection`))
		Expect(out).To(MatchRegexp(`FAIL\s+silent-after-accept\s.*never connected`))
		Expect(out).To(ContainSubstring("2 scenarios: 0 passed, 2 failed"))
	})

	It("judges details from NDJSON: quirks are diagnostics, required only with --strict", func() {
		// Our client, with the quirks removed from its report.
		noQuirks := binPath + ` --connect {addr} -n {network} -t 2 --json | sed 's/"quirks":\[[^]]*\]/"quirks":[]/'`
		s := run("check", "--client-cmd", noQuirks, "--scenario", "sendcmpct-before-verack")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
		s = run("check", "--client-cmd", noQuirks, "--scenario", "sendcmpct-before-verack", "--strict")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`expected quirk "sendcmpct-before-verack"`))
	})

	DescribeTable("usage errors exit 2",
		func(args ...string) {
			s := run(append([]string{"check"}, args...)...)
			Eventually(s).Should(gexec.Exit(2))
		},
		Entry("no client", "--scenario", "wrong-magic"),
		Entry("no {addr} in the client", "--client-cmd", "true"),
		Entry("unknown scenario", "--client-cmd", "true {addr}", "--scenario", "nope"),
	)
})

var _ = Describe("btc-handshake demo (make run)", func() {
	It("surveys a local seed of catalog peers and finds every one as its scenario predicts", func() {
		s := run("demo", "-t", "1")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring("finished with "))
		all := scenarios.All()
		Expect(out).To(ContainSubstring("%d of %d peers behaved as their scenarios predict", len(all), len(all)))
		Expect(out).To(ContainSubstring("transport=v2"))
		Expect(out).To(ContainSubstring("transport=v1(fallback)"))
		for _, q := range []string{"version-verack-coalesced", "sendcmpct-before-verack", "sendheaders-before-verack", "old-protocol-version"} {
			Expect(out).To(ContainSubstring(q))
		}
	})
})

// gbytesSay is a small matcher for the first line of a session's stdout.
func gbytesSay(pattern string) types.GomegaMatcher { return gbytes.Say(pattern) }
