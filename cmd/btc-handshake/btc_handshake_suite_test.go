package main_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
	"github.com/onsi/gomega/gleak"
)

var binPath string

func TestCLI(t *testing.T) {
	before := gleak.Goroutines()
	RegisterFailHandler(Fail)
	RunSpecs(t, "btc-handshake CLI")
	// Nothing the specs started (gexec sessions' readers, in-process peers
	// and DNS servers) may outlive the suite. The check is per suite: these
	// specs mostly run a binary, whose goroutines in the test process are
	// gexec's, not ours.
	NewWithT(t).Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).
		ShouldNot(gleak.HaveLeaked(before))
}

var _ = SynchronizedBeforeSuite(func() []byte {
	path, err := gexec.Build("github.com/btc-handshake/btc-handshake/cmd/btc-handshake")
	Expect(err).NotTo(HaveOccurred())
	return []byte(path)
}, func(path []byte) {
	binPath = string(path)
})

var _ = SynchronizedAfterSuite(func() {}, func() {
	gexec.CleanupBuildArtifacts()
})
