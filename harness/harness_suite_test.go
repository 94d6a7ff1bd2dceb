package harness_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/btc-handshake/btc-handshake/bip324"
)

func TestHarness(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "harness")
}

// Specs start mock peers, Go clients and client processes: none may outlive its spec. The check is registered
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

// btcec builds its curve tables on the first key it makes, which takes
// hundreds of milliseconds under the race detector: made before the specs,
// it cannot eat into the short deadlines of the v2 specs.
var _ = BeforeSuite(func() {
	_, err := bip324.NewKey()
	Expect(err).NotTo(HaveOccurred())
})
