package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/btc-handshake/btc-handshake/integration"
)

func TestIntegration(t *testing.T) {
	// Ryuk's image cannot be pulled where there is no registry; the suite
	// removes its containers itself (Stop, then a sweep by label).
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	tclog.SetDefault(ginkgoLogger{})
	RegisterFailHandler(Fail)
	RunSpecs(t, "Integration Suite")
}

// runID labels this run's containers, shared by all parallel processes.
var runID string

var _ = SynchronizedBeforeSuite(func() []byte {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return []byte(fmt.Sprintf("%d-%s", time.Now().Unix(), hex.EncodeToString(b)))
}, func(data []byte) {
	runID = string(data)
})

var _ = SynchronizedAfterSuite(func() {}, func(ctx SpecContext) {
	if !Label("docker").MatchesLabelFilter(GinkgoLabelFilter()) || integration.DockerAvailable(ctx) != nil {
		return
	}
	// Every spec stops its containers; anything left here is a leak.
	removed, err := integration.RemoveContainers(ctx, runID)
	Expect(err).NotTo(HaveOccurred())
	Expect(removed).To(BeZero(), "containers of run %s were left behind and had to be swept", runID)
}, NodeTimeout(time.Minute))

// requireDocker skips the calling container's specs when no Docker engine
// answers, unless CI is set: there the Docker lane must run, so it fails.
func requireDocker(ctx context.Context) {
	err := integration.DockerAvailable(ctx)
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		Fail(fmt.Sprintf("CI is set, so the Docker lane must run, but: %v", err))
	}
	msg := fmt.Sprintf("Docker lane skipped: %v (set CI=1 to make this a failure)", err)
	// Shown even without -v, so that a skipped lane never goes unnoticed.
	AddReportEntry("docker lane skipped", msg, ReportEntryVisibilityAlways)
	Skip(msg)
}

// ginkgoLogger sends testcontainers' chatter to GinkgoWriter, shown only
// for failed specs or with -v.
type ginkgoLogger struct{}

func (ginkgoLogger) Printf(format string, args ...any) {
	fmt.Fprintf(GinkgoWriter, format+"\n", args...)
}
