package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// mockTimeout is the peer timeout of the mock nodes the probes run against
// here: the slow probes then take about a second, not 30.
const mockTimeout = time.Second

// serveNode starts a mock node playing profile on every connection.
func serveNode(profile mockpeer.Profile) *mockpeer.Server {
	srv := mockpeer.NewServer(mockpeer.WithFailHandler(func(string, ...int) {}))
	srv.SetDefaultScript(profile.Script())
	DeferCleanup(srv.Close)
	return srv
}

func probeOpts(profile string) harness.ProbeOptions {
	return harness.ProbeOptions{Network: wire.Regtest, Profile: profile, PeerTimeout: mockTimeout, Parallel: 8}
}

func failedProbes(js []harness.ProbeJudgement) map[string]string {
	failed := map[string]string{}
	for _, j := range js {
		if !j.Passed() {
			failed[j.Probe] = strings.Join(j.Reasons, "; ") + " [" + j.Observation.Note + "]"
		}
	}
	return failed
}

var _ = Describe("RunProbes", func() {
	It("finds mockpeer's btcd profile conforming to the btcd expectations of every probe", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder().HandshakeTimeout(mockTimeout))
		js := harness.RunProbesWith(ctx, srv.Addr(), probeOpts(scenarios.ProfileBtcd))
		Expect(js).To(HaveLen(len(scenarios.AllProbes())))
		Expect(failedProbes(js)).To(BeEmpty())
		_, _, errored, skipped := harness.ProbeCounts(js)
		Expect(errored).To(BeZero())
		Expect(skipped).To(BeZero())
	}, SpecTimeout(30*time.Second))

	It("finds mockpeer's Core profile conforming to the core expectations of every probe", func(ctx SpecContext) {
		// A peer timeout of 2 s: self-connection leaves its first
		// connection without a verack for about a second (its own watch,
		// then the harness's), which a 1 s timeout would cut short.
		// ProfileCore is -v2transport=0.
		srv := serveNode(mockpeer.CoreResponder().HandshakeTimeout(2 * mockTimeout).V2Transport(nil))
		opts := probeOpts(scenarios.ProfileCore)
		opts.PeerTimeout = 2 * mockTimeout
		js := harness.RunProbesWith(ctx, srv.Addr(), opts)
		Expect(js).To(HaveLen(len(scenarios.AllProbes())))
		// self-connection included: the probe echoes the nonce the mock
		// sent on that inbound connection, and Core checks only its own
		// unfinished outbound connections' (CConnman::CheckIncomingNonce).
		Expect(failedProbes(js)).To(BeEmpty())
		_, _, errored, skipped := harness.ProbeCounts(js)
		Expect(errored).To(BeZero())
		Expect(skipped).To(BeZero())
	}, SpecTimeout(30*time.Second))

	It("finds mockpeer's Core profile, v2-capable by default, conforming to the core-v2 expectations of every probe", func(ctx SpecContext) {
		srv := serveNode(mockpeer.CoreResponder().HandshakeTimeout(2 * mockTimeout))
		opts := probeOpts(scenarios.ProfileCoreV2)
		opts.PeerTimeout = 2 * mockTimeout
		js := harness.RunProbesWith(ctx, srv.Addr(), opts)
		Expect(js).To(HaveLen(len(scenarios.AllProbes())))
		Expect(failedProbes(js)).To(BeEmpty())
	}, SpecTimeout(30*time.Second))

	It("tells btcd from Core: the btcd profile fails the core expectations and the other way round", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder().HandshakeTimeout(mockTimeout))
		opts := probeOpts(scenarios.ProfileCore)
		opts.SkipSlow = true
		failed := failedProbes(harness.RunProbesWith(ctx, srv.Addr(), opts))
		Expect(failed).To(HaveKey("verack-before-version"))
		Expect(failed).To(HaveKey("ping-before-verack"))
		Expect(failed).To(HaveKey("wtxidrelay-after-verack"))
	}, SpecTimeout(30*time.Second))

	It("skips the slow probes when asked, and runs only the probes given", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder().HandshakeTimeout(mockTimeout))
		opts := probeOpts(scenarios.ProfileBtcd)
		opts.SkipSlow = true
		probes, unknown := scenarios.SelectProbes("silent-peer", "ping-after-verack")
		Expect(unknown).To(BeEmpty())
		js := harness.RunProbesWith(ctx, srv.Addr(), opts, probes...)
		Expect(js).To(HaveLen(2))
		Expect(js[0].Skipped).To(ContainSubstring("slow"))
		Expect(js[1].Skipped).To(BeEmpty())
		Expect(js[1].Observation.Summary()).To(Equal("pong(same nonce) → open"))
		passed, failed, errored, skipped := harness.ProbeCounts(js)
		Expect([]int{passed, failed, errored, skipped}).To(Equal([]int{1, 0, 0, 1}))
	}, SpecTimeout(10*time.Second))

	It("probes from a distinct loopback /24 per probe, never from 127.0.0.1", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder())
		probes, _ := scenarios.SelectProbes("ping-after-verack", "duplicate-verack", "pre-verack-messages")
		js := harness.RunProbes(ctx, srv.Addr(), wire.Regtest, scenarios.ProfileBtcd, probes...)
		seen := map[string]bool{}
		for _, j := range js {
			host, _, err := net.SplitHostPort(j.Observation.LocalAddr)
			Expect(err).NotTo(HaveOccurred())
			Expect(host).To(HavePrefix("127."))
			Expect(host).NotTo(Equal("127.0.0.1"))
			prefix := host[:strings.LastIndexByte(host, '.')]
			Expect(seen).NotTo(HaveKey(prefix))
			seen[prefix] = true
		}
		Expect(harness.DefaultProbeLocalAddr("192.0.2.1:8333")(0)).To(BeEmpty())
		Expect(harness.DefaultProbeLocalAddr("127.0.0.1:18444")(0)).To(Equal("127.0.2.1:0"))
	}, SpecTimeout(10*time.Second))

	It("sees btcd's regtest leniency for malformed messages from 127.0.0.1 itself", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder())
		p, _ := scenarios.GetProbe("bad-checksum-after-verack")
		opts := probeOpts(scenarios.ProfileBtcd)
		opts.LocalAddr = func(int) string { return "127.0.0.1:0" }
		js := harness.RunProbesWith(ctx, srv.Addr(), opts, p)
		Expect(js[0].Observation.Summary()).To(Equal("pong(same nonce) → open"))
		Expect(js[0].Passed()).To(BeFalse())
	}, SpecTimeout(10*time.Second))

	It("reports a node that does not listen as an error of every probe, not a verdict", func(ctx SpecContext) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		probes, _ := scenarios.SelectProbes("ping-after-verack", "wrong-magic", "version-below-minimum")
		js := harness.RunProbes(ctx, addr, wire.Regtest, scenarios.ProfileCore, probes...)
		for _, j := range js {
			Expect(j.Passed()).To(BeFalse(), j.Probe)
			Expect(j.Verdict()).To(Equal(harness.VerdictError), j.Probe)
			Expect(j.Reasons).To(BeEmpty(), j.Probe)
			Expect(j.Observation.Error).To(Equal("cannot connect: connection refused"), j.Probe)
		}
		passed, failed, errored, skipped := harness.ProbeCounts(js)
		Expect([]int{passed, failed, errored, skipped}).To(Equal([]int{0, 0, 3, 0}))
	}, SpecTimeout(10*time.Second))

	It("writes a table and NDJSON", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder())
		probes, _ := scenarios.SelectProbes("ping-after-verack", "wtxidrelay-after-verack")
		js := harness.RunProbes(ctx, srv.Addr(), wire.Regtest, scenarios.ProfileCore, probes...)
		var table bytes.Buffer
		Expect(harness.WriteProbeTable(&table, js)).To(Succeed())
		Expect(table.String()).To(ContainSubstring("PROBE"))
		Expect(table.String()).To(MatchRegexp(`wtxidrelay-after-verack\s+5\s+nothing → closed\s+nothing → open\s+FAIL`))
		Expect(table.String()).To(HaveSuffix("1 passed, 1 failed, 0 skipped (profile core)\n"))

		var nd bytes.Buffer
		Expect(harness.WriteProbeNDJSON(&nd, js, time.Second)).To(Succeed())
		lines := strings.Split(strings.TrimSpace(nd.String()), "\n")
		Expect(lines).To(HaveLen(3))
		var first map[string]any
		Expect(json.Unmarshal([]byte(lines[0]), &first)).To(Succeed())
		Expect(first).To(HaveKeyWithValue("type", "probe"))
		Expect(first).To(HaveKeyWithValue("probe", "ping-after-verack"))
		Expect(first).To(HaveKeyWithValue("passed", true))
		Expect(first).To(HaveKeyWithValue("expected", "pong(same nonce) … → open"))
		Expect(first["observation"]).To(HaveKeyWithValue("summary", "pong(same nonce) → open"))
		Expect(first).To(HaveKeyWithValue("verdict", "pass"))
		Expect(lines[2]).To(MatchJSON(`{"type":"summary","command":"conform","total":2,"passed":1,"failed":1,"errors":0,"skipped":0,"elapsed_ms":1000}`))
	}, SpecTimeout(10*time.Second))

	It("stops starting probes when its context ends", func() {
		srv := serveNode(mockpeer.BtcdResponder())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		js := harness.RunProbes(ctx, srv.Addr(), wire.Regtest, scenarios.ProfileBtcd)
		for _, j := range js {
			Expect(j.Skipped).To(ContainSubstring("canceled"))
		}
	})
})

var _ = Describe("JudgeProbe", func() {
	obs := func(closed bool, after time.Duration, tokens ...string) harness.Observation {
		o := harness.Observation{Closed: closed, ClosedAfter: after, PeerTimeout: 10 * time.Second}
		for _, t := range tokens {
			cmd, _, _ := strings.Cut(t, "(")
			o.Frames = append(o.Frames, harness.ObservedFrame{Command: cmd, Token: t})
		}
		return o
	}

	DescribeTable("compares an observation with a reaction",
		func(r scenarios.Reaction, o harness.Observation, want string) {
			reasons := harness.JudgeProbe(r, o)
			if want == "" {
				Expect(reasons).To(BeEmpty())
			} else {
				Expect(strings.Join(reasons, "; ")).To(ContainSubstring(want))
			}
		},
		Entry("silence kept", scenarios.Ignores(), obs(false, 0), ""),
		Entry("silence broken", scenarios.Ignores(), obs(false, 0, "pong(other nonce)"), "expected no reply"),
		Entry("closed instead of open", scenarios.Ignores(), obs(true, time.Millisecond), "expected the connection open, it was closed"),
		Entry("reject then close", scenarios.RejectsAndDisconnects(), obs(true, time.Millisecond, "reject(verack/0x12)"), ""),
		Entry("close without the reject", scenarios.RejectsAndDisconnects(), obs(true, time.Millisecond), "expected reject"),
		Entry("replies in order", scenarios.Replies("version", "verack"), obs(false, 0, "version", "verack"), ""),
		Entry("replies out of order", scenarios.Replies("version", "verack"), obs(false, 0, "verack", "version"), "in this order"),
		Entry("an extra reply", scenarios.Replies("version", "verack"), obs(false, 0, "version", "verack", "ping"), "unexpected ping"),
		Entry("a pong with our nonce among others", scenarios.Pongs(), obs(false, 0, "sendcmpct", "pong(same nonce)"), ""),
		Entry("a pong with another nonce", scenarios.Pongs(), obs(false, 0, "pong(other nonce)"), "nonce of our ping"),
		Entry("closed at the peer timeout", scenarios.TimesOut(), obs(true, 10*time.Second), ""),
		Entry("closed long before the peer timeout", scenarios.TimesOut(), obs(true, time.Second), "closed at the peer timeout, it was closed"),
		Entry("non-v1 bytes", scenarios.Reaction{NonV1: true, End: scenarios.EndOpen},
			harness.Observation{Frames: []harness.ObservedFrame{{Token: "non-v1 bytes"}}}, ""),
		Entry("v1 instead of non-v1", scenarios.Reaction{NonV1: true, End: scenarios.EndOpen}, obs(false, 0, "version"), "not a v1 frame"),
	)

	It("summarises observations canonically", func() {
		Expect(obs(false, 0).Summary()).To(Equal("nothing → open"))
		Expect(obs(true, time.Millisecond, "reject(version/0x01)").Summary()).To(Equal("reject(version/0x01) → closed"))
		Expect(obs(true, 9*time.Second).Summary()).To(Equal("nothing → closed at the peer timeout"))
		o := harness.Observation{Frames: []harness.ObservedFrame{{Token: "non-v1 bytes"}, {Token: "non-v1 bytes"}}}
		Expect(o.Summary()).To(Equal("non-v1 bytes → open"))
	})
})

// v2MockTimeout is the peer timeout of the mocks the v2 probes run
// against: room for a 1.5 s observation (see v2Opts).
const v2MockTimeout = 4 * mockTimeout

var _ = Describe("RunProbes with the v2 probes", func() {
	// v2Opts judges by profile against a mock with v2MockTimeout as its
	// peer timeout.
	v2Opts := func(profile string) harness.ProbeOptions {
		o := probeOpts(profile)
		o.PeerTimeout = v2MockTimeout
		// The mock makes its key (ElligatorSwift) before it answers: under
		// -race on a loaded machine that has taken over 500 ms. The
		// observation stays well within the mock's peer timeout.
		o.Observe = 1500 * time.Millisecond
		return o
	}
	btcdV2 := func() mockpeer.Profile {
		return mockpeer.BtcdResponder().HandshakeTimeout(v2MockTimeout).V2Transport(&mockpeer.V2{RandomGarbage: true})
	}

	It("finds mockpeer's btcd --v2transport profile conforming to the btcd-v2 expectations of every probe, v1 and v2", func(ctx SpecContext) {
		srv := serveNode(btcdV2())
		probes := scenarios.ProbesFor(scenarios.ProfileBtcdV2)
		Expect(len(probes)).To(Equal(len(scenarios.AllProbes()) + len(scenarios.V2Probes())))
		js := harness.RunProbesWith(ctx, srv.Addr(), v2Opts(scenarios.ProfileBtcdV2), probes...)
		Expect(failedProbes(js)).To(BeEmpty())
		_, _, errored, skipped := harness.ProbeCounts(js)
		Expect([]int{errored, skipped}).To(Equal([]int{0, 0}))
	}, SpecTimeout(60*time.Second))

	It("finds mockpeer's default Core profile (v2-capable) conforming to the core-v2 expectations of every probe, v1 and v2", func(ctx SpecContext) {
		srv := serveNode(mockpeer.CoreResponder().HandshakeTimeout(v2MockTimeout))
		js := harness.RunProbesWith(ctx, srv.Addr(), v2Opts(scenarios.ProfileCoreV2), scenarios.ProbesFor(scenarios.ProfileCoreV2)...)
		Expect(failedProbes(js)).To(BeEmpty())
		_, _, errored, skipped := harness.ProbeCounts(js)
		Expect([]int{errored, skipped}).To(Equal([]int{0, 0}))
	}, SpecTimeout(60*time.Second))

	It("tells btcd --v2transport from Core v2: the core-v2 expectations fail against mockpeer's btcd v2 profile, first the 4095-garbage probe", func(ctx SpecContext) {
		srv := serveNode(btcdV2())
		js := harness.RunProbesWith(ctx, srv.Addr(), v2Opts(scenarios.ProfileCoreV2), scenarios.V2Probes()...)
		failed := failedProbes(js)
		Expect(failed).To(HaveKey("v2-garbage-4095"))
		Expect(failed).To(HaveKey("v2-oversized-packet"))
		Expect(failed).To(HaveKey("v2-wrong-network-v1-header"))
		for _, j := range js {
			if j.Probe == "v2-garbage-4095" {
				Expect(j.Observation.Summary()).To(Equal("nothing → closed"))
			}
		}
	}, SpecTimeout(60*time.Second))

	It("judges v1-only nodes by what they do with a key, and skips the probes that need a finished v2 handshake", func(ctx SpecContext) {
		for _, node := range []struct {
			profile string
			mock    mockpeer.Profile
		}{
			{scenarios.ProfileCore, mockpeer.CoreResponder().HandshakeTimeout(v2MockTimeout).V2Transport(nil)},
			{scenarios.ProfileBtcd, mockpeer.BtcdResponder().HandshakeTimeout(v2MockTimeout)},
		} {
			srv := serveNode(node.mock)
			js := harness.RunProbesWith(ctx, srv.Addr(), v2Opts(node.profile), scenarios.V2Probes()...)
			Expect(failedProbes(js)).To(BeEmpty(), node.profile)
			passed, _, errored, skipped := harness.ProbeCounts(js)
			Expect(errored).To(BeZero(), node.profile)
			Expect(skipped).To(Equal(3), node.profile) // oversized-packet, unknown-short-id, rekey
			Expect(passed).To(Equal(len(js) - 3))
			for _, j := range js {
				if j.Probe == "v2-garbage-0" {
					Expect(j.Observation.Summary()).To(Equal("nothing → closed"), node.profile)
				}
			}
		}
	}, SpecTimeout(60*time.Second))
})
