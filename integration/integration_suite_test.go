package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"go.uber.org/goleak"

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
}

// suite is this process's copy of the suiteSetup.
var suite suiteSetup

// Builds happen once, on the first process, rather than racing in each.
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	s := suiteSetup{RunID: fmt.Sprintf("%d-%s", time.Now().Unix(), hex.EncodeToString(b))}
	if Label("docker").MatchesLabelFilter(GinkgoLabelFilter()) {
		if err := integration.DockerAvailable(ctx); err != nil {
			s.DockerErr = err.Error()
		} else if s.BtcdImage, err = integration.BuildBtcdImage(ctx); err != nil {
			s.DockerErr = err.Error()
		}
	}
	if Label("process").MatchesLabelFilter(GinkgoLabelFilter()) && os.Getenv(integration.EnvBtcdBinary) == "" {
		// A failure shows again, where it belongs, in StartProcess.
		_, _ = integration.BuildBtcd(ctx, runtime.GOOS, runtime.GOARCH)
	}
	data, err := json.Marshal(s)
	Expect(err).NotTo(HaveOccurred())
	return data
}, func(data []byte) {
	Expect(json.Unmarshal(data, &suite)).To(Succeed())
}, NodeTimeout(10*time.Minute))

var _ = SynchronizedAfterSuite(func() {}, func(ctx SpecContext) {
	if !Label("docker").MatchesLabelFilter(GinkgoLabelFilter()) || integration.DockerAvailable(ctx) != nil {
		return
	}
	// Every spec stops its containers; anything left here is a leak.
	removed, err := integration.RemoveContainers(ctx, suite.RunID)
	Expect(err).NotTo(HaveOccurred())
	Expect(removed).To(BeZero(), "containers of run %s were left behind and had to be swept", suite.RunID)
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

// btcdImage is the image built before the suite; call it after requireDocker.
func btcdImage() string {
	if suite.BtcdImage == "" {
		Fail("no btcd image: " + suite.DockerErr)
	}
	return suite.BtcdImage
}

// expectNoLeakedGoroutines fails when goroutines other than those running
// at the snapshot before are still alive (goleak retries for a while).
func expectNoLeakedGoroutines(before goleak.Option) {
	GinkgoHelper()
	Expect(goleak.Find(before,
		// Ginkgo restarts its output interceptor between specs under -p.
		goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal.(*genericOutputInterceptor).ResumeIntercepting.func1"),
		goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal.(*genericOutputInterceptor).ResumeIntercepting.func1.1"),
	)).To(Succeed())
}

// ginkgoLogger sends testcontainers' chatter to GinkgoWriter, shown only
// for failed specs or with -v.
type ginkgoLogger struct{}

func (ginkgoLogger) Printf(format string, args ...any) {
	fmt.Fprintf(GinkgoWriter, format+"\n", args...)
}
