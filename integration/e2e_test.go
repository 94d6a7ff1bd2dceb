package integration_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	"github.com/onsi/gomega/gleak"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/integration"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// lane is one way of running a real node for the e2e specs.
type lane struct {
	name string
	node func() integration.Node
	// mockHost is the address on this machine where the node can reach a
	// mock peer that the test starts.
	mockHost func(ctx context.Context) (string, error)
	// probes keeps the lane's probe judgements for the fidelity specs.
	probes harness.ProbeJudgements
}

// cli runs our binary, built before the suite.
func cli(args ...string) *gexec.Session {
	GinkgoHelper()
	if suite.CLI == "" {
		Fail("the CLI was not built (is the e2e label filtered out?)")
	}
	s, err := gexec.Start(exec.Command(suite.CLI, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return s
}

// mockProbeTimeout is the peer timeout of the mock btcd the fidelity specs
// compare with: the slow probes take that long against the mock, and 30 s
// against btcd.
const mockProbeTimeout = 2 * time.Second

// probeMockBtcd runs the probes against mockpeer's btcd profile.
func probeMockBtcd(ctx context.Context) harness.ProbeJudgements {
	srv := mockpeer.NewServer(mockpeer.WithFailHandler(func(string, ...int) {}))
	defer srv.Close()
	srv.SetDefaultScript(mockpeer.BtcdResponder().HandshakeTimeout(mockProbeTimeout).Script())
	return harness.RunProbes(ctx, srv.Addr(), harness.ProbeOptions{
		Network: wire.Regtest, Model: scenarios.ModelBtcd, PeerTimeout: mockProbeTimeout, Parallel: 8,
	})
}

// summaries maps probe names to observation summaries.
func summaries(js harness.ProbeJudgements) map[string]string {
	m := make(map[string]string, len(js))
	for _, j := range js {
		m[j.Probe] = j.Observation.Summary()
	}
	return m
}

func probeTable(js harness.ProbeJudgements) string {
	var b strings.Builder
	_ = js.WriteTable(&b)
	return b.String()
}

// e2eSpecs are the end-to-end specs every lane passes against its btcd: our
// client, our CLI and a mock peer the node connects to, then the probes.
func e2eSpecs(l *lane) {
	e2eClientSpecs(l)
	e2eProbeSpecs(l)
}

// e2eClientSpecs are the specs of our client, our CLI, and a mock peer
// that a lane's btcd connects out to.
func e2eClientSpecs(l *lane) {
	It("completes a handshake with our client, and getpeerinfo lists our user agent and version once it is complete", func(ctx SpecContext) {
		n := l.node()
		ua := fmt.Sprintf("/btc-handshake-e2e:%d/", rand.Uint32())
		ours := And(HaveField("SubVer", ua), HaveField("Inbound", true),
			HaveField("Version", BeEquivalentTo(wire.ProtocolVersion)), HaveField("BytesRecv", BeNumerically(">", 0)))

		// Half a handshake first: our version, no verack. btcd lists a
		// peer only once its handshake is complete.
		var d net.Dialer
		half, err := d.DialContext(ctx, "tcp", n.P2PAddr())
		Expect(err).NotTo(HaveOccurred())
		defer half.Close()
		Expect(half.Write(wire.AppendMessage(nil, wire.Regtest, &wire.Version{ProtocolVersion: wire.ProtocolVersion,
			UserAgent: ua, Nonce: rand.Uint64(), Timestamp: time.Now().Unix(), Relay: true}))).Error().To(Succeed())
		Consistently(n.PeerInfo).WithContext(ctx).WithTimeout(300*time.Millisecond).
			ShouldNot(ContainElement(HaveField("SubVer", ua)), "btcd lists a peer whose handshake is not complete")
		Expect(half.Close()).To(Succeed())

		conn, err := d.DialContext(ctx, "tcp", n.P2PAddr())
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		res, err := handshake.Run(ctx, conn, handshake.Config{Network: wire.Regtest, UserAgent: ua, Timeout: 10 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(harness.CompleteHandshake())
		Expect(res.NegotiatedVersion).To(Equal(wire.ProtocolVersion))
		Expect(res.Peer.UserAgent).To(Equal(mockpeer.BtcdUserAgent))
		Expect(res.Peer.Services).To(Equal(mockpeer.BtcdServices))
		Eventually(n.PeerInfo).WithContext(ctx).Should(ContainElement(ours))

		Expect(conn.Close()).To(Succeed())
		Eventually(n.PeerInfo).WithContext(ctx).ShouldNot(ContainElement(HaveField("SubVer", ua)))
	}, SpecTimeout(time.Minute))

	It("completes a handshake with the CLI (--connect)", func(ctx SpecContext) {
		s := cli("--connect", l.node().P2PAddr(), "-n", "regtest", "-t", "10", "--json")
		Eventually(s).WithContext(ctx).Should(gexec.Exit(0))
		out := string(s.Out.Contents())
		Expect(out).To(ContainSubstring(`"ok":true`))
		Expect(out).To(ContainSubstring(`"user_agent":"` + mockpeer.BtcdUserAgent + `"`))
		Expect(out).To(ContainSubstring(`"negotiated_version":70016`))

		s = cli("--connect", l.node().P2PAddr(), "-n", "regtest", "-t", "10")
		Eventually(s).WithContext(ctx).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("finished with 1 SUCCESS & 0 FAILED"))
	}, SpecTimeout(time.Minute))

	It("connects out to a mock peer (addnode) whose script sees btcd's outbound handshake", func(ctx SpecContext) {
		goroutines := gleak.Goroutines()
		n := l.node()
		host, err := l.mockHost(ctx)
		Expect(err).NotTo(HaveOccurred())
		srv := mockpeer.NewServer(mockpeer.WithAddr(net.JoinHostPort(host, "0")))
		srv.SetDefaultScript(mockpeer.CoreResponder().Script())

		Expect(n.AddNode(ctx, srv.Addr(), "onetry")).To(Succeed())
		// The node's version, our burst, its verack; then our post-verack
		// ping, which btcd answers.
		Eventually(srv.Received).WithContext(ctx).Should(ContainElements(
			HaveField("Command", wire.CmdVersion), HaveField("Command", wire.CmdVerack), HaveField("Command", wire.CmdPong)))
		var theirs *wire.Version
		for _, r := range srv.Received() {
			if r.Command == wire.CmdVersion {
				theirs = new(wire.Version)
				Expect(theirs.DecodePayload(r.Payload)).To(Succeed())
				break
			}
		}
		Expect(theirs.UserAgent).To(Equal(mockpeer.BtcdUserAgent))
		Expect(theirs.ProtocolVersion).To(BeEquivalentTo(wire.ProtocolVersion))
		Expect(srv.Received()[0].Command).To(Equal(wire.CmdVersion), "an outbound btcd speaks first")
		Eventually(n.PeerInfo).WithContext(ctx).Should(ContainElement(And(
			HaveField("Inbound", false), HaveField("SubVer", mockpeer.CoreUserAgent))))

		Expect(srv.Close()).To(Succeed(), "the mock's script reported failures")
		Expect(srv.Failures()).To(BeEmpty())
		expectNoLeakedGoroutines(goroutines)
	}, SpecTimeout(time.Minute))

}

// e2eProbeSpecs are the conformance probes against a lane's btcd, and the
// comparison of its reactions with mockpeer's btcd profile.
func e2eProbeSpecs(l *lane) {
	It("reacts to every conformance probe as the btcd profile expects (slow probes: 30 s)", func(ctx SpecContext) {
		l.probes = harness.RunProbes(ctx, l.node().P2PAddr(), harness.ProbeOptions{Network: wire.Regtest, Model: scenarios.ModelBtcd})
		AddReportEntry("probes against real btcd ("+l.name+")", probeTable(l.probes), ReportEntryVisibilityFailureOrVerbose)
		Expect(l.probes).To(HaveLen(len(scenarios.Probes().Transport("v1"))))
		for _, j := range l.probes {
			Expect(j.Skipped).To(BeEmpty(), j.Probe)
			Expect(j.Passed()).To(BeTrue(), "%s: %s (%s)", j.Probe, strings.Join(j.Reasons, "; "), j.Observation.Note)
		}
	}, SpecTimeout(2*time.Minute))

	It("reacts to every probe as mockpeer's btcd profile does (mock fidelity)", func(ctx SpecContext) {
		if l.probes == nil {
			Fail("the probe run against the node did not happen: this spec compares its results, so run it with the probe spec (same labels, same container)")
		}
		mock := probeMockBtcd(ctx)
		Expect(summaries(mock)).To(Equal(summaries(l.probes)), "real btcd (%s) and mockpeer.BtcdResponder disagree", l.name)
	}, SpecTimeout(time.Minute))

	It("passes `btc-handshake conform --profile btcd`, and fails the core profile", func(ctx SpecContext) {
		s := cli("conform", l.node().P2PAddr(), "-n", "regtest", "--profile", "btcd", "--fast")
		Eventually(s).WithContext(ctx).Should(gexec.Exit(0), string(s.Out.Contents()))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`(?m)^\d+ passed, 0 failed, 2 skipped \(profile btcd\)$`))

		s = cli("conform", l.node().P2PAddr(), "-n", "regtest", "--profile", "core", "--fast", "--json")
		Eventually(s).WithContext(ctx).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`"probe":"verack-before-version"`))
	}, SpecTimeout(time.Minute))
}

var _ = Describe("e2e: btcd in a Docker container", Label("docker", "e2e"), Ordered, func() {
	var node *integration.Container
	l := &lane{
		name: "docker",
		node: func() integration.Node { return node },
		// The container reaches this machine at its network's gateway.
		mockHost: func(ctx context.Context) (string, error) { return node.HostIP(ctx) },
	}

	BeforeAll(func(ctx SpecContext) {
		requireDocker(ctx)
		var err error
		node, err = runBtcd(ctx, btcdImage())
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(5*time.Minute))

	e2eSpecs(l)
})

var _ = Describe("e2e: btcd as a local process", Label("process", "e2e"), Ordered, func() {
	var node *integration.Process
	l := &lane{
		name:     "process",
		node:     func() integration.Node { return node },
		mockHost: func(context.Context) (string, error) { return "127.0.0.1", nil },
	}

	BeforeAll(func(ctx SpecContext) {
		var err error
		node, err = integration.StartBtcd(ctx, "", integration.WithLogOutput(GinkgoWriter))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	}, NodeTimeout(5*time.Minute))

	e2eSpecs(l)

	It("publishes the fidelity table: FIDELITY.md is what this run observed", func(ctx SpecContext) {
		if l.probes == nil {
			Fail("the probe run against the node did not happen: this spec compares its results, so run it with the probe spec (same labels, same container)")
		}
		checkFidelityTable(ctx, l.probes)
	}, SpecTimeout(time.Minute))
})
