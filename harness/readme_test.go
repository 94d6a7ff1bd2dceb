package harness_test

import (
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("the README's library section", func() {
	It("is readme_example_test.go, byte for byte, so what users copy compiles and passes", func() {
		readme, err := os.ReadFile("../README.md")
		Expect(err).NotTo(HaveOccurred())
		file, err := os.ReadFile("readme_example_test.go")
		Expect(err).NotTo(HaveOccurred())

		_, section, found := strings.Cut(string(readme), "\n## Using the packages in Go tests\n")
		Expect(found).To(BeTrue(), "the section is gone from README.md")
		section, _, _ = strings.Cut(section, "\n## ")
		_, code, found := strings.Cut(section, "\n```go\n")
		Expect(found).To(BeTrue(), "the section has no Go code block")
		code, _, found = strings.Cut(code, "\n```\n")
		Expect(found).To(BeTrue(), "the Go code block is not closed")
		Expect(code + "\n").To(Equal(string(file)))
		Expect(section).To(ContainSubstring("go get github.com/btc-handshake/btc-handshake@latest"))
	})
})
