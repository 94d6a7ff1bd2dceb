package main_test

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/btc-handshake/btc-handshake/internal/hostile"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

// rawNode serves handle on a loopback port until the spec ends (a
// hostile node: see internal/hostile).
func rawNode(handle func(c net.Conn)) string {
	addr, stop, err := hostile.Serve(handle)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(stop)
	return addr
}

// watchPeakRSS follows the high-water mark of a running session's resident
// set (VmHWM in /proc/PID/status), in MB, until the process exits, and
// returns a function giving the last value read. The exited process's
// rusage cannot serve: Go starts a child with a vfork-style clone that
// shares the parent's memory until exec, so ru_maxrss counts the (large,
// race-enabled) test process itself.
func watchPeakRSS(s *gexec.Session) func() int64 {
	var peak atomic.Int64
	path := fmt.Sprintf("/proc/%d/status", s.Command.Process.Pid)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				return // exited
			}
			for _, line := range strings.Split(string(b), "\n") {
				var kb int64
				if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil && kb>>10 > peak.Load() {
					peak.Store(kb >> 10)
				}
			}
			select {
			case <-s.Exited:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		<-done
		return peak.Load()
	}
}

var _ = Describe("btc-handshake conform", func() {
	// node starts a mock node playing profile on every connection.
	node := func(profile mockpeer.Profile) string {
		srv := mockpeer.NewServer(mockpeer.WithFailHandler(func(string, ...int) {}))
		srv.SetDefaultScript(profile.Script())
		DeferCleanup(srv.Close)
		return srv.Addr()
	}

	It("exits 0 when the node reacts as its profile expects, slow probes included", func() {
		addr := node(mockpeer.BtcdResponder().HandshakeTimeout(time.Second))
		s := run("conform", addr, "-n", "regtest", "--profile", "btcd", "--peer-timeout", "1s")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
		out := string(s.Out.Contents())
		for _, name := range scenarios.Probes().Transport("v1").Names() {
			Expect(out).To(MatchRegexp(`(?m)^` + name + `\s.*\spass$`))
		}
		Expect(out).To(ContainSubstring("silent-peer"))
		Expect(out).To(MatchRegexp(`(?m)^\d+ passed, 0 failed, 0 skipped \(profile btcd\)$`))
	})

	It("exits 1 and names the probes where the node is not what the profile says", func() {
		addr := node(mockpeer.BtcdResponder())
		s := run("conform", addr, "--profile", "core", "--fast")
		Eventually(s).WithTimeout(20 * time.Second).Should(gexec.Exit(1))
		out := string(s.Out.Contents())
		Expect(out).To(MatchRegexp(`(?m)^verack-before-version\s+3\s+nothing → open\s+reject\(version/0x01\) → closed\s+FAIL$`))
		Expect(out).To(MatchRegexp(`(?m)^no-verack\s.*\sskip$`))
		Expect(out).To(ContainSubstring("verack-before-version: expected no reply"))
		Expect(s.Err).To(gbytesSay("does not react as core does"))
	})

	It("prints NDJSON with --json and runs only the probes named", func() {
		addr := node(mockpeer.CoreResponder())
		s := run("conform", addr, "--json", "--probe", "ping-before-verack", "--probe", "pre-verack-messages-70012")
		Eventually(s).WithTimeout(20 * time.Second).Should(gexec.Exit(0))
		objs := ndjson(s.Out.Contents())
		Expect(objs).To(HaveLen(3))
		Expect(objs[0]).To(HaveKeyWithValue("probe", "ping-before-verack"))
		Expect(objs[0]).To(HaveKeyWithValue("passed", true))
		Expect(objs[1]).To(HaveKeyWithValue("expected", "version verack alert → open"))
		Expect(objs[1]["observation"]).To(HaveKeyWithValue("summary", "version verack alert → open"))
		Expect(objs[2]).To(HaveKeyWithValue("elapsed_ms", BeNumerically(">", 0)))
		delete(objs[2], "elapsed_ms")
		Expect(objs[2]).To(Equal(map[string]any{"type": "summary", "command": "conform", "total": float64(2),
			"passed": float64(2), "failed": float64(0), "errors": float64(0), "skipped": float64(0)}))
	})

	It("lists the probes with each profile's reaction", func() {
		s := run("conform", "--list")
		Eventually(s).Should(gexec.Exit(0))
		for _, name := range scenarios.Probes().Transport("v1").Names() {
			Expect(string(s.Out.Contents())).To(ContainSubstring(name))
		}
		Expect(string(s.Out.Contents())).To(ContainSubstring("core-v2: non-v1 bytes"))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`then, if the node sent nothing and kept the connection: Send(verack), Send(ping), Expect("pong")`))

		s = run("conform", "--list", "--json")
		Eventually(s).Should(gexec.Exit(0))
		objs := ndjson(s.Out.Contents())
		Expect(objs).To(HaveLen(len(scenarios.Probes().Transport("v1")) + len(scenarios.Probes().Transport("v2"))))
		Expect(objs[0]).To(HaveKey("expect"))
		Expect(objs[0]).To(HaveKeyWithValue("transport", "v1"))
	})

	It("exits 2 with one line, and no score, when the node cannot be reached", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		for _, a := range []string{"127.0.0.1:1", addr} {
			s := run("conform", a)
			Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(2))
			Expect(string(s.Err.Contents())).To(Equal("btc-handshake: cannot connect to " + a + ": connection refused\n"))
			Expect(s.Out.Contents()).To(BeEmpty())
		}
	})

	It("passes no probe against a mute node (accepts, never sends, never closes) and exits 1", func() {
		addr := rawNode(hostile.Mute)
		// The probes that passed against a mute node before: they expect
		// nothing → open, or nothing at first; the rest could not even
		// finish their setup.
		s := run("conform", addr, "--profile", "core", "--observe", "200ms",
			"--probe", "verack-before-version", "--probe", "truncated-version", "--probe", "ping-before-verack")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(1))
		out := string(s.Out.Contents())
		Expect(out).NotTo(MatchRegexp(`(?m)\spass$`))
		Expect(out).To(MatchRegexp(`(?m)^verack-before-version\s.*nothing → open, no answer to the follow-up\s+FAIL$`))
		Expect(out).To(MatchRegexp(`(?m)^ping-before-verack\s.*\sERROR$`))
		Expect(out).To(ContainSubstring(`ping-before-verack: error: setup failed`))
		Expect(out).To(MatchRegexp(`(?m)^0 passed, 2 failed, 1 errors, 0 skipped \(profile core\)$`))
		Expect(s.Err).To(gbytesSay("1 of 3 probes could not observe a reaction"))
		Expect(string(s.Err.Contents())).NotTo(ContainSubstring("probe 1 of"), "no progress when stderr is not a terminal")
	})

	It("keeps its memory and output bounded against a node that floods inv messages", func() {
		addr := rawNode(hostile.Flood(nil))
		s := run("conform", addr, "--observe", "3s", "--probe", "verack-before-version", "--probe", "v2-key")
		peak := watchPeakRSS(s)
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(1))
		rss := peak()
		Expect(rss).To(BeNumerically(">", 0), "no reading of the process's peak")
		GinkgoWriter.Printf("conform against a flooding node: peak RSS %d MB\n", rss)
		Expect(rss).To(BeNumerically("<", 64))
		out := string(s.Out.Contents())
		Expect(len(out)).To(BeNumerically("<", 4<<10))
		Expect(out).To(MatchRegexp(`(?m)^v2-key\s.*(inv ){64}… and [0-9,]+ more frames \([0-9.]+ [kMG]B\) → open\s+FAIL$`))
	})

	It("escapes node-chosen escape sequences and control bytes in the table", func() {
		addr := rawNode(hostile.Escapes)
		s := run("conform", addr, "--probe", "verack-before-version", "--probe", "ping-before-verack")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(1))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring(`reject(\x1b[2J/0x01) in\x1b[2J(broken) → open`))
		Expect(strings.ContainsAny(out, "\x1b\x07\r")).To(BeFalse(), "raw control bytes in %q", out)
		Expect(strings.ContainsAny(string(s.Err.Contents()), "\x1b\x07\r")).To(BeFalse())

		s = run("conform", addr, "--json", "--probe", "verack-before-version")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring("\x1b"))
		objs := ndjson(s.Out.Contents())
		Expect(objs[0]["observation"]).To(HaveKeyWithValue("summary", "reject(\x1b[2J/0x01) in\x1b[2J(broken) → open"))
		Expect(objs[0]).To(HaveKeyWithValue("verdict", "fail"))
	})

	DescribeTable("exits 2 on usage errors",
		func(args ...string) {
			s := run(append([]string{"conform"}, args...)...)
			Eventually(s).Should(gexec.Exit(2))
			// Before any network work: 127.0.0.1:1 would say "cannot connect".
			Expect(string(s.Err.Contents())).NotTo(ContainSubstring("cannot connect"))
			Expect(s.Out.Contents()).To(BeEmpty())
		},
		Entry("no node"),
		Entry("not host:port", "localhost"),
		Entry("unknown profile", "127.0.0.1:1", "--profile", "bitcoin-xt"),
		Entry("unknown probe", "127.0.0.1:1", "--probe", "nope"),
		Entry("unknown network", "127.0.0.1:1", "-n", "moonnet"),
		Entry("too parallel for btcd", "127.0.0.1:1", "--parallel", "9"),
		Entry("no parallelism", "127.0.0.1:1", "--parallel", "0"),
		Entry("negative parallelism", "127.0.0.1:1", "--parallel", "-1"),
		Entry("zero observation", "127.0.0.1:1", "--observe", "0s"),
		Entry("negative observation", "127.0.0.1:1", "--observe", "-1s"),
		Entry("zero peer timeout", "127.0.0.1:1", "--peer-timeout", "0s"),
		Entry("negative peer timeout", "127.0.0.1:1", "--peer-timeout", "-5s"),
		Entry("unknown probe transport", "127.0.0.1:1", "--transport", "v3"),
		Entry("--probe with --transport", "127.0.0.1:1", "--probe", "v2-rekey", "--transport", "v2"),
	)

	Describe("the v2 probes", func() {
		btcdV2 := func() string {
			return node(mockpeer.BtcdResponder().HandshakeTimeout(2 * time.Second).V2Transport(&mockpeer.V2{RandomGarbage: true}))
		}

		It("runs the v1 and the v2 probes for --profile btcd-v2, and the btcd v2 mock passes them all", func() {
			s := run("conform", btcdV2(), "--profile", "btcd-v2", "--peer-timeout", "2s", "--parallel", "8")
			Eventually(s).WithTimeout(60 * time.Second).Should(gexec.Exit(0))
			out := string(s.Out.Contents())
			names := append(scenarios.Probes().Transport("v1").Names(), "v2-garbage-4095", "v2-wrong-terminator", "v2-rekey", "v2-oversized-packet")
			for _, p := range scenarios.Probes().Transport("v2") {
				names = append(names, p.Name)
			}
			for _, name := range names {
				Expect(out).To(MatchRegexp(`(?m)^` + name + `\s.*\spass$`))
			}
			Expect(out).To(MatchRegexp(`(?m)^v2-garbage-4095\s+garbage\s+nothing → closed\s+nothing → closed\s+pass$`))
			Expect(out).To(MatchRegexp(fmt.Sprintf(`(?m)^%d passed, 0 failed, 0 skipped \(profile btcd-v2\)$`,
				len(scenarios.Probes().Transport("v1"))+len(scenarios.Probes().Transport("v2")))))
		})

		It("tells the btcd v2 mock from Core v2: --profile core-v2 fails the 4095-garbage probe, exit 1", func() {
			s := run("conform", btcdV2(), "--profile", "core-v2", "--transport", "v2", "--fast")
			Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(1))
			out := string(s.Out.Contents())
			Expect(out).To(MatchRegexp(`(?m)^v2-garbage-4095\s+garbage\s+version wtxidrelay sendaddrv2 verack → open\s+nothing → closed\s+FAIL$`))
			Expect(out).NotTo(MatchRegexp(`(?m)^version-below-minimum\s`), "--transport v2 runs only the v2 probes")
			Expect(out).To(MatchRegexp(`(?m)^v2-wrong-terminator\s.*\sskip$`))
			Expect(s.Err).To(gbytesSay("does not react as core-v2 does"))
		})

		It("judges a v1-only node with --transport v2 by what it does with a key, skipping what needs a v2 handshake", func() {
			addr := node(mockpeer.CoreResponder().V2Transport(nil))
			s := run("conform", addr, "--profile", "core", "--transport", "v2", "--fast", "--json")
			Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
			objs := ndjson(s.Out.Contents())
			Expect(objs).To(HaveLen(len(scenarios.Probes().Transport("v2")) + 1))
			Expect(objs[0]).To(HaveKeyWithValue("probe", "v2-garbage-0"))
			Expect(objs[0]["observation"]).To(HaveKeyWithValue("summary", "nothing → closed"))
			Expect(objs[len(objs)-1]).To(HaveKeyWithValue("skipped", float64(4))) // wrong-terminator (slow), oversized-packet, unknown-short-id, rekey
		})

		It("lists the v2 probes with their origin and each v2 profile's reaction", func() {
			s := run("conform", "--list")
			Eventually(s).Should(gexec.Exit(0))
			out := string(s.Out.Contents())
			Expect(out).To(ContainSubstring("v2 probes"))
			Expect(out).To(ContainSubstring("btcd-v2: nothing → closed"))
			Expect(out).To(ContainSubstring("p2p_v2_misbehaving.py EXCESS_GARBAGE"))
			Expect(out).To(ContainSubstring("btcd-v2: non-v1 bytes (BIP324 key) → open"), "a v1 probe's btcd-v2 reaction")

			s = run("conform", "--list", "--json")
			Eventually(s).Should(gexec.Exit(0))
			objs := ndjson(s.Out.Contents())
			Expect(objs).To(HaveLen(len(scenarios.Probes().Transport("v1")) + len(scenarios.Probes().Transport("v2"))))
			last := objs[len(objs)-1]
			Expect(last).To(HaveKeyWithValue("transport", "v2"))
			Expect(last["expect"]).To(HaveKey("btcd-v2"))
		})
	})
})
