package wire_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"
)

// The codec starts no goroutines, and no spec may leave one behind (a
// reader helper blocked on a pipe, say). Registered first, the check runs
// after every spec's own cleanups.
var _ = BeforeEach(func() {
	gleak.IgnoreGinkgoParallelClient()
	before := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(3 * time.Second).ShouldNot(gleak.HaveLeaked(before))
	})
})
