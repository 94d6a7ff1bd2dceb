package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	"github.com/onsi/gomega/gleak"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
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
	// toxiproxy's toxics log through zerolog's global logger, at trace
	// level, to stderr; the fault lane's outcome is in its specs.
	zlog.Logger = zerolog.Nop()
	RegisterFailHandler(Fail)
	RunSpecs(t, "Integration Suite")
}

// suiteSetup is what the first parallel process prepares for all of them.
type suiteSetup struct {
	// RunID labels this run's containers.
	RunID string
	// BtcdImage is the FROM scratch btcd image, when the Docker lane runs.
	BtcdImage string
	// DockerErr says why there is no image: Docker unreachable or the
	// build failed (reported by the Docker specs, not here, so that the
	// process lane still runs).
	DockerErr string
	// CLI is our btc-handshake binary, built once for the e2e specs.
	CLI string
}

// suite is this process's copy of the suiteSetup.
var suite suiteSetup

// Builds happen once, on the first process, rather than racing in each.
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	s := suiteSetup{RunID: fmt.Sprintf("%d-%s", time.Now().Unix(), hex.EncodeToString(b))}
	if mayRun("docker") {
		if err := integration.DockerAvailable(ctx); err != nil {
			s.DockerErr = err.Error()
		} else if s.BtcdImage, err = integration.BuildBtcdImage(ctx); err != nil {
			s.DockerErr = err.Error()
		}
	}
	if (mayRun("process") || mayRun("fault")) && os.Getenv(integration.EnvBtcdBinary) == "" {
		// A failure shows again, where it belongs, in StartBtcd.
		_, _ = integration.BuildBtcd(ctx, runtime.GOOS, runtime.GOARCH)
	}
	if mayRun("e2e") {
		var err error
		s.CLI, err = gexec.Build("github.com/btc-handshake/btc-handshake/cmd/btc-handshake")
		Expect(err).NotTo(HaveOccurred())
	}
	data, err := json.Marshal(s)
	Expect(err).NotTo(HaveOccurred())
	return data
}, func(data []byte) {
	Expect(json.Unmarshal(data, &suite)).To(Succeed())
}, NodeTimeout(10*time.Minute))

var _ = SynchronizedAfterSuite(func() {}, func(ctx SpecContext) {
	gexec.CleanupBuildArtifacts()
	if !mayRun("docker") || integration.DockerAvailable(ctx) != nil {
		return
	}
	// Every spec stops its containers; anything left here is a leak.
	removed, err := integration.RemoveContainers(ctx, suite.RunID)
	Expect(err).NotTo(HaveOccurred())
	Expect(removed).To(BeZero(), "containers of run %s were left behind and had to be swept", suite.RunID)
}, NodeTimeout(time.Minute))

// specLabels are the label sets of this suite's containers.
var specLabels = [][]string{
	{"docker"}, {"docker", "e2e"}, {"docker", "bitcoind"},
	{"process"}, {"process", "e2e"}, {"process", "bitcoind"},
	{"fault", "e2e"},
}

// mayRun reports whether the label filter lets some spec carrying label run.
func mayRun(label string) bool {
	for _, set := range specLabels {
		if slices.Contains(set, label) && Label(set...).MatchesLabelFilter(GinkgoLabelFilter()) {
			return true
		}
	}
	return false
}

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

// btcdImage is the image built before the suite; call it after requireDocker.
func btcdImage() string {
	if suite.BtcdImage == "" {
		Fail("no btcd image: " + suite.DockerErr)
	}
	return suite.BtcdImage
}

// expectNoLeakedGoroutines fails when goroutines other than those running
// at the snapshot before are still alive after a grace period (gleak
// already ignores Ginkgo's own, such as its output interceptor under -p).
func expectNoLeakedGoroutines(before []gleak.Goroutine, more ...any) {
	GinkgoHelper()
	Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).
		ShouldNot(gleak.HaveLeaked(append([]any{before}, more...)...))
}

// ginkgoLogger sends testcontainers' chatter to GinkgoWriter, shown only
// for failed specs or with -v.
type ginkgoLogger struct{}

func (ginkgoLogger) Printf(format string, args ...any) {
	fmt.Fprintf(GinkgoWriter, format+"\n", args...)
}

// The CI log names the specs that ran: `go test -v` shows this list for
// a passing package (Ginkgo itself prints only dots without -ginkgo.v, and
// with it every spec's GinkgoWriter output, node logs included).
var _ = ReportAfterSuite("the specs that ran", func(r Report) {
	ran, skipped := 0, 0
	var b strings.Builder
	for _, spec := range r.SpecReports {
		if spec.LeafNodeType != types.NodeTypeIt {
			continue
		}
		if spec.State == types.SpecStateSkipped || spec.State == types.SpecStatePending {
			skipped++
			if spec.Failure.Message != "" { // skipped at run time, not filtered out
				fmt.Fprintf(&b, "  skipped %v %s: %s\n", spec.Labels(), spec.FullText(), spec.Failure.Message)
			}
			continue
		}
		ran++
		fmt.Fprintf(&b, "  %-7s %v %s (%.2fs)\n", spec.State, spec.Labels(), spec.FullText(), spec.RunTime.Seconds())
	}
	fmt.Fprintf(os.Stdout, "\nintegration specs: %d ran, %d skipped, %.1fs\n%s", ran, skipped, r.RunTime.Seconds(), b.String())
})
