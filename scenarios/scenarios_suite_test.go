package scenarios_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"
)

func TestScenarios(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "scenarios")
}

// Specs start mock peers and clients: none may outlive its spec. The check is registered
// first, so it runs after every DeferCleanup of the spec (cleanups run
// last-in, first-out) has closed what the spec started.
var _ = BeforeEach(func() {
	gleak.IgnoreGinkgoParallelClient()
	before := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).
			ShouldNot(gleak.HaveLeaked(before))
	})
})
