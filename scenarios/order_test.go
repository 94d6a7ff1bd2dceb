package scenarios_test

import (
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

// The CLI lists scenarios and probes in catalog order, and reports and
// recordings name them: the order is public contract, pinned here so that
// moving entries between files cannot reorder them unseen.
var _ = Describe("the published order", func() {
	DescribeTable("is the one in testdata",
		func(file string, names []string) {
			want, err := os.ReadFile(file)
			Expect(err).NotTo(HaveOccurred())
			Expect(names).To(Equal(strings.Fields(string(want))))
		},
		Entry("of the scenarios", "testdata/order/scenarios.txt", scenarios.All().Names()),
		Entry("of the probes", "testdata/order/probes.txt", scenarios.Probes().Names()),
	)
})
