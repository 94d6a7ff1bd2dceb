package main_test

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// serveMock starts 'mock serve' with args and returns its address.
func serveMock(args ...string) string {
	s := run(append([]string{"mock", "serve"}, args...)...)
	DeferCleanup(func() { s.Interrupt().Wait() })
	Eventually(s.Out).Should(gbytes.Say(`127\.0\.0\.1:\d+\n`))
	return strings.TrimSpace(string(s.Out.Contents()))
}

var _ = Describe("btc-handshake --record, mock serve --replay, check --cassette, --diagram", func() {
	var dir string
	BeforeEach(func() { dir = GinkgoT().TempDir() })

	It("records a peer, replays it, and our client concludes the same against the replay", func() {
		addr := serveMock("--scenario", "nonce-echoed")
		tape := filepath.Join(dir, "peer.cassette")
		diagrams := filepath.Join(dir, "diagrams") + "/"
		Expect(os.Mkdir(diagrams, 0o755)).To(Succeed())
		// v1: the replay plays v1 bytes (auto would record a v2 attempt too).
		s := run("--connect", addr, "-n", "regtest", "-t", "2", "--transport", "v1", "--record", tape, "--diagram", diagrams)
		Eventually(s).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring("self-connection"))
		text, err := os.ReadFile(tape)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(text)).To(ContainSubstring(`"redacted":true`))
		Expect(string(text)).NotTo(ContainSubstring("127.0.0.1"))
		files, err := filepath.Glob(filepath.Join(diagrams, "*.mmd"))
		Expect(err).NotTo(HaveOccurred())
		Expect(files).To(HaveLen(1))
		d, err := os.ReadFile(files[0])
		Expect(err).NotTo(HaveOccurred())
		Expect(string(d)).To(ContainSubstring("N->>C: version"))

		replay := serveMock("--replay", tape, "--speed", "0")
		s = run("--connect", replay, "-n", "regtest", "-t", "2", "--transport", "v1")
		Eventually(s).Should(gexec.Exit(1))
		Expect(string(s.Out.Contents())).To(ContainSubstring("self-connection"))

		s = run("check", "--client-cmd", binPath+" --connect {addr} -n {network} -t {timeout} --json", "--client-timeout", "2s",
			"--cassette", tape, "--diagram", filepath.Join(dir, "check.mmd"))
		Eventually(s, "10s").Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`PASS\s+peer\.cassette#1\s+fail\s+fail self-connection`))
		Expect(filepath.Join(dir, "check.mmd")).To(BeARegularFile())
	})

	DescribeTable("refuses bad input before any network work",
		func(want string, args ...string) {
			s := run(args...)
			Eventually(s).Should(gexec.Exit(2))
			Expect(string(s.Err.Contents())).To(ContainSubstring(want))
		},
		Entry("a record file in no directory", "no such directory", "--connect", "127.0.0.1:1", "--record", "/no/such/dir/x.cassette"),
		Entry("a diagram directory that is missing", "no such directory", "--connect", "127.0.0.1:1", "--diagram", "/no/such/dir/"),
		Entry("both a scenario and a replay", "not both", "mock", "serve", "--scenario", "slow-verack", "--replay", "x.cassette"),
		Entry("neither a scenario nor a replay", "give --scenario NAME or --replay FILE", "mock", "serve"),
		Entry("a replay file that is missing", "--replay", "mock", "serve", "--replay", "/no/such.cassette"),
		Entry("a negative speed", "--speed", "mock", "serve", "--replay", "x.cassette", "--speed", "-1"),
		Entry("an unknown cassette verdict", "--cassette-expect", "check", "--client-cmd", "x {addr}", "--cassette", "x", "--cassette-expect", "maybe"),
	)
})
