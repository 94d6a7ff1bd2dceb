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
	"github.com/btc-handshake/btc-handshake/internal/loopback"
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

func probeOpts(profile scenarios.Model) harness.ProbeOptions {
	return harness.ProbeOptions{Network: wire.Regtest, Model: profile, PeerTimeout: mockTimeout, Parallel: 8}
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
		js := harness.RunProbes(ctx, srv.Addr(), probeOpts(scenarios.ModelBtcd))
		Expect(js).To(HaveLen(len(scenarios.Probes().Transport("v1"))))
		Expect(failedProbes(js)).To(BeEmpty())
		_, _, errored, skipped := js.Counts()
		Expect(errored).To(BeZero())
		Expect(skipped).To(BeZero())
	}, SpecTimeout(30*time.Second))

	It("finds mockpeer's Core profile conforming to the core expectations of every probe", func(ctx SpecContext) {
		// A peer timeout of 2 s: self-connection leaves its first
		// connection without a verack for about a second (its own watch,
		// then the harness's), which a 1 s timeout would cut short.
		// ModelCore is -v2transport=0.
		srv := serveNode(mockpeer.CoreResponder().HandshakeTimeout(2 * mockTimeout).V2Transport(nil))
		opts := probeOpts(scenarios.ModelCore)
		opts.PeerTimeout = 2 * mockTimeout
		js := harness.RunProbes(ctx, srv.Addr(), opts)
		Expect(js).To(HaveLen(len(scenarios.Probes().Transport("v1"))))
		// self-connection included: the probe echoes the nonce the mock
		// sent on that inbound connection, and Core checks only its own
		// unfinished outbound connections' (CConnman::CheckIncomingNonce).
		Expect(failedProbes(js)).To(BeEmpty())
		_, _, errored, skipped := js.Counts()
		Expect(errored).To(BeZero())
		Expect(skipped).To(BeZero())
	}, SpecTimeout(30*time.Second))

	It("finds mockpeer's Core profile, v2-capable by default, conforming to the core-v2 expectations of every probe", func(ctx SpecContext) {
		srv := serveNode(mockpeer.CoreResponder().HandshakeTimeout(2 * mockTimeout))
		opts := probeOpts(scenarios.ModelCoreV2)
		opts.PeerTimeout = 2 * mockTimeout
		js := harness.RunProbes(ctx, srv.Addr(), opts, scenarios.Probes().Transport("v1")...)
		Expect(js).To(HaveLen(len(scenarios.Probes().Transport("v1"))))
		Expect(failedProbes(js)).To(BeEmpty())
	}, SpecTimeout(30*time.Second))

	It("tells btcd from Core: the btcd profile fails the core expectations and the other way round", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder().HandshakeTimeout(mockTimeout))
		opts := probeOpts(scenarios.ModelCore)
		opts.SkipSlow = true
		failed := failedProbes(harness.RunProbes(ctx, srv.Addr(), opts))
		Expect(failed).To(HaveKey("verack-before-version"))
		Expect(failed).To(HaveKey("ping-before-verack"))
		Expect(failed).To(HaveKey("wtxidrelay-after-verack"))
	}, SpecTimeout(30*time.Second))

	It("skips the slow probes when asked, and runs only the probes given", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder().HandshakeTimeout(mockTimeout))
		opts := probeOpts(scenarios.ModelBtcd)
		opts.SkipSlow = true
		probes, unknown := scenarios.Probes().Select("silent-peer", "ping-after-verack")
		Expect(unknown).To(BeEmpty())
		js := harness.RunProbes(ctx, srv.Addr(), opts, probes...)
		Expect(js).To(HaveLen(2))
		Expect(js[0].Skipped).To(ContainSubstring("slow"))
		Expect(js[1].Skipped).To(BeEmpty())
		Expect(js[1].Observation.Summary()).To(Equal("pong(same nonce) → open"))
		passed, failed, errored, skipped := js.Counts()
		Expect([]int{passed, failed, errored, skipped}).To(Equal([]int{1, 0, 0, 1}))
	}, SpecTimeout(10*time.Second))

	It("probes from a distinct loopback /24 per probe, never from 127.0.0.1", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder())
		probes, _ := scenarios.Probes().Select("ping-after-verack", "duplicate-verack", "pre-verack-messages")
		js := harness.RunProbes(ctx, srv.Addr(), harness.ProbeOptions{Network: wire.Regtest, Model: scenarios.ModelBtcd}, probes...)
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
		Expect(loopback.Sources("192.0.2.1:8333")(0)).To(BeEmpty())
		Expect(loopback.Sources("127.0.0.1:18444")(0)).To(Equal("127.0.2.1:0"))
	}, SpecTimeout(10*time.Second))

	It("sees btcd's regtest leniency for malformed messages from 127.0.0.1 itself", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder())
		p, _ := scenarios.Probes().Get("bad-checksum-after-verack")
		opts := probeOpts(scenarios.ModelBtcd)
		opts.LocalAddr = func(int) string { return "127.0.0.1:0" }
		js := harness.RunProbes(ctx, srv.Addr(), opts, p)
		Expect(js[0].Observation.Summary()).To(Equal("pong(same nonce) → open"))
		Expect(js[0].Passed()).To(BeFalse())
	}, SpecTimeout(10*time.Second))

	It("reports a node that does not listen as an error of every probe, not a verdict", func(ctx SpecContext) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		probes, _ := scenarios.Probes().Select("ping-after-verack", "wrong-magic", "version-below-minimum")
		js := harness.RunProbes(ctx, addr, harness.ProbeOptions{Network: wire.Regtest, Model: scenarios.ModelCore}, probes...)
		for _, j := range js {
			Expect(j.Passed()).To(BeFalse(), j.Probe)
			Expect(j.Verdict()).To(Equal("error"), j.Probe)
			Expect(j.Reasons).To(BeEmpty(), j.Probe)
			Expect(j.Observation.Error).To(Equal("cannot connect: connection refused"), j.Probe)
		}
		passed, failed, errored, skipped := js.Counts()
		Expect([]int{passed, failed, errored, skipped}).To(Equal([]int{0, 0, 3, 0}))
	}, SpecTimeout(10*time.Second))

	It("writes a table and NDJSON", func(ctx SpecContext) {
		srv := serveNode(mockpeer.BtcdResponder())
		probes, _ := scenarios.Probes().Select("ping-after-verack", "wtxidrelay-after-verack")
		js := harness.RunProbes(ctx, srv.Addr(), harness.ProbeOptions{Network: wire.Regtest, Model: scenarios.ModelCore}, probes...)
		var table bytes.Buffer
		Expect(js.WriteTable(&table)).To(Succeed())
		Expect(table.String()).To(ContainSubstring("PROBE"))
		Expect(table.String()).To(MatchRegexp(`wtxidrelay-after-verack\s+5\s+nothing → closed\s+nothing → open\s+FAIL`))
		Expect(table.String()).To(HaveSuffix("1 passed, 1 failed, 0 skipped (profile core)\n"))

		var nd bytes.Buffer
		Expect(js.WriteNDJSON(&nd, time.Second)).To(Succeed())
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
		js := harness.RunProbes(ctx, srv.Addr(), harness.ProbeOptions{Network: wire.Regtest, Model: scenarios.ModelBtcd})
		for _, j := range js {
			Expect(j.Skipped).To(ContainSubstring("canceled"))
		}
	})
})

var _ = Describe("Observation.Judge", func() {
	obs := func(closed bool, after time.Duration, tokens ...string) harness.Observation {
		o := harness.Observation{Closed: closed, ClosedAfter: after, PeerTimeout: 10 * time.Second}
		for _, t := range tokens {
			cmd, _, _ := strings.Cut(t, "(")
			o.Frames = append(o.Frames, harness.ObservedFrame{Command: cmd, Token: t})
		}
		return o
	}

	DescribeTable("compares an observation with a reaction",
		func(r scenarios.Expectation, o harness.Observation, want string) {
			reasons := o.Judge(r)
			if want == "" {
				Expect(reasons).To(BeEmpty())
			} else {
				Expect(strings.Join(reasons, "; ")).To(ContainSubstring(want))
			}
		},
		Entry("silence kept", scenarios.Expectation{Silent: true, End: scenarios.EndOpen}, obs(false, 0), ""),
		Entry("silence broken", scenarios.Expectation{Silent: true, End: scenarios.EndOpen}, obs(false, 0, "pong(other nonce)"), "expected no reply"),
		Entry("closed instead of open", scenarios.Expectation{Silent: true, End: scenarios.EndOpen}, obs(true, time.Millisecond), "expected the connection open, it was closed"),
		Entry("reject then close", scenarios.Expectation{Sends: []string{wire.CmdReject}, Only: []string{}, End: scenarios.EndClosed}, obs(true, time.Millisecond, "reject(verack/0x12)"), ""),
		Entry("close without the reject", scenarios.Expectation{Sends: []string{wire.CmdReject}, Only: []string{}, End: scenarios.EndClosed}, obs(true, time.Millisecond), "expected reject"),
		Entry("replies in order", replies("version", "verack"), obs(false, 0, "version", "verack"), ""),
		Entry("replies out of order", replies("version", "verack"), obs(false, 0, "verack", "version"), "in this order"),
		Entry("an extra reply", replies("version", "verack"), obs(false, 0, "version", "verack", "ping"), "unexpected ping"),
		Entry("a pong with our nonce among others", scenarios.Expectation{Sends: []string{wire.CmdPong}, EchoNonce: true, End: scenarios.EndOpen}, obs(false, 0, "sendcmpct", "pong(same nonce)"), ""),
		Entry("a pong with another nonce", scenarios.Expectation{Sends: []string{wire.CmdPong}, EchoNonce: true, End: scenarios.EndOpen}, obs(false, 0, "pong(other nonce)"), "nonce of our ping"),
		Entry("closed at the peer timeout", scenarios.Expectation{End: scenarios.EndTimeout}, obs(true, 10*time.Second), ""),
		Entry("closed long before the peer timeout", scenarios.Expectation{End: scenarios.EndTimeout}, obs(true, time.Second), "closed at the peer timeout, it was closed"),
		Entry("non-v1 bytes", scenarios.Expectation{NonV1: true, End: scenarios.EndOpen},
			harness.Observation{Frames: []harness.ObservedFrame{{Token: "non-v1 bytes"}}}, ""),
		Entry("v1 instead of non-v1", scenarios.Expectation{NonV1: true, End: scenarios.EndOpen}, obs(false, 0, "version"), "not a v1 frame"),
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
	v2Opts := func(profile scenarios.Model) harness.ProbeOptions {
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
		probes := scenarios.ModelBtcdV2.Probes()
		Expect(len(probes)).To(Equal(len(scenarios.Probes().Transport("v1")) + len(scenarios.Probes().Transport("v2"))))
		js := harness.RunProbes(ctx, srv.Addr(), v2Opts(scenarios.ModelBtcdV2), probes...)
		Expect(failedProbes(js)).To(BeEmpty())
		_, _, errored, skipped := js.Counts()
		Expect([]int{errored, skipped}).To(Equal([]int{0, 0}))
	}, SpecTimeout(60*time.Second))

	It("finds mockpeer's default Core profile (v2-capable) conforming to the core-v2 expectations of every probe, v1 and v2", func(ctx SpecContext) {
		srv := serveNode(mockpeer.CoreResponder().HandshakeTimeout(v2MockTimeout))
		js := harness.RunProbes(ctx, srv.Addr(), v2Opts(scenarios.ModelCoreV2), scenarios.ModelCoreV2.Probes()...)
		Expect(failedProbes(js)).To(BeEmpty())
		_, _, errored, skipped := js.Counts()
		Expect([]int{errored, skipped}).To(Equal([]int{0, 0}))
	}, SpecTimeout(60*time.Second))

	It("tells btcd --v2transport from Core v2: the core-v2 expectations fail against mockpeer's btcd v2 profile, first the 4095-garbage probe", func(ctx SpecContext) {
		srv := serveNode(btcdV2())
		js := harness.RunProbes(ctx, srv.Addr(), v2Opts(scenarios.ModelCoreV2), scenarios.Probes().Transport("v2")...)
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
			profile scenarios.Model
			mock    mockpeer.Profile
		}{
			{scenarios.ModelCore, mockpeer.CoreResponder().HandshakeTimeout(v2MockTimeout).V2Transport(nil)},
			{scenarios.ModelBtcd, mockpeer.BtcdResponder().HandshakeTimeout(v2MockTimeout)},
		} {
			srv := serveNode(node.mock)
			js := harness.RunProbes(ctx, srv.Addr(), v2Opts(node.profile), scenarios.Probes().Transport("v2")...)
			Expect(failedProbes(js)).To(BeEmpty(), node.profile)
			passed, _, errored, skipped := js.Counts()
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

// replies is the reaction "sends exactly these commands, in order, and
// keeps the connection".
func replies(cmds ...string) scenarios.Expectation {
	return scenarios.Expectation{Sends: cmds, Only: []string{}, End: scenarios.EndOpen}
}
