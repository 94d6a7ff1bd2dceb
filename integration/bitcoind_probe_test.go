package integration_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/integration"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// coreProbeTimeout is the -peertimeout of the bitcoind nodes the probes run
// against: the two slow probes then take seconds, not a minute.
const coreProbeTimeout = 5 * time.Second

// corePeerTimeout is bitcoind's -peertimeout flag for coreProbeTimeout.
var corePeerTimeout = fmt.Sprintf("-peertimeout=%d", int(coreProbeTimeout/time.Second))

// realCoreDir holds the real-Core column of FIDELITY.md: one conform
// --json run per profile (core against -v2transport=0, core-v2 against
// -v2transport=1). The bitcoind lanes rewrite it when
// BTC_HANDSHAKE_UPDATE_FIDELITY is set; the process lane renders it.
const realCoreDir = "testdata/real-core"

// realCoreFile is the run of profile in realCoreDir.
func realCoreFile(profile scenarios.Model) string {
	return filepath.Join(realCoreDir, string(profile)+".ndjson")
}

// coreV2Profiles pairs each Core profile with the -v2transport it judges.
var coreV2Profiles = []struct {
	profile scenarios.Model
	v2      bool
}{{scenarios.ModelCore, false}, {scenarios.ModelCoreV2, true}}

// bitcoindLaneSkip is why a bitcoind lane cannot run here. Bitcoin Core
// cannot be installed on our build machines: these lanes run only where a
// user supplies a bitcoind, they are not CI lanes.
func bitcoindLaneSkip(how string) string {
	return "user-supplied lane, not a CI lane: no Bitcoin Core " + how +
		"; the real-Core column of FIDELITY.md stays as last recorded (" + realCoreDir + ")"
}

// coreProbeSpecs runs every probe against a bitcoind started by start with
// each -v2transport setting, and judges it with the matching profile.
func coreProbeSpecs(start func(ctx context.Context, v2 bool) (integration.Node, error)) {
	for _, pc := range coreV2Profiles {
		It(fmt.Sprintf("reacts to every conformance probe as the %s profile expects (-v2transport=%t)", pc.profile, pc.v2), func(ctx SpecContext) {
			node, err := start(ctx, pc.v2)
			Expect(err).NotTo(HaveOccurred())
			js := harness.RunProbes(ctx, node.P2PAddr(), harness.ProbeOptions{
				Network: wire.Regtest, Model: pc.profile, PeerTimeout: coreProbeTimeout,
			}, scenarios.Probes().Transport("v1")...)
			AddReportEntry("probes against real Core ("+string(pc.profile)+")", probeTable(js), ReportEntryVisibilityFailureOrVerbose)
			Expect(js).To(HaveLen(len(scenarios.Probes().Transport("v1"))))
			if os.Getenv(envUpdateFidelity) != "" {
				var b bytes.Buffer
				Expect(js.WriteNDJSON(&b, time.Second)).To(Succeed())
				Expect(os.MkdirAll(realCoreDir, 0o755)).To(Succeed())
				Expect(os.WriteFile(realCoreFile(pc.profile), b.Bytes(), 0o644)).To(Succeed())
			}
			for _, j := range js {
				Expect(j.Skipped).To(BeEmpty(), j.Probe)
				Expect(j.Passed()).To(BeTrue(), "%s: %s (%s)", j.Probe, strings.Join(j.Reasons, "; "), j.Observation.Note)
			}
		}, SpecTimeout(3*time.Minute))
	}
}

var _ = Describe("conformance of a user-supplied bitcoind, as a local process", Label("process", "bitcoind"), func() {
	BeforeEach(func() {
		if os.Getenv(integration.EnvBitcoindBinary) == "" {
			if _, err := exec.LookPath("bitcoind"); err != nil {
				Skip(bitcoindLaneSkip("binary: set " + integration.EnvBitcoindBinary + " or put bitcoind on PATH"))
			}
		}
	})

	coreProbeSpecs(func(ctx context.Context, v2 bool) (integration.Node, error) {
		node, err := integration.StartBitcoind(ctx, "", integration.WithV2Transport(v2),
			integration.WithExtraArgs(corePeerTimeout), integration.WithLogOutput(GinkgoWriter))
		if node != nil {
			DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		}
		return node, err
	})
})

var _ = Describe("conformance of a user-supplied bitcoind image, in a Docker container", Label("docker", "bitcoind"), func() {
	var img string

	BeforeEach(func(ctx SpecContext) {
		if img = os.Getenv(integration.EnvBitcoindImage); img == "" {
			Skip(bitcoindLaneSkip("image: set " + integration.EnvBitcoindImage + " (e.g. bitcoin/bitcoin:30)"))
		}
		requireDocker(ctx)
	})

	coreProbeSpecs(func(ctx context.Context, v2 bool) (integration.Node, error) {
		node, err := integration.RunBitcoind(ctx, img, integration.WithRunID(suite.RunID),
			integration.WithV2Transport(v2), integration.WithExtraArgs(corePeerTimeout))
		if node != nil {
			DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		}
		return node, err
	})
})
