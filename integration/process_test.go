package integration_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/btc-handshake/btc-handshake/integration"
)

var _ = Describe("btcd as a local process", Label("process"), Ordered, func() {
	var (
		node       *integration.Process
		goroutines []gleak.Goroutine
	)

	BeforeAll(func(ctx SpecContext) {
		goroutines = gleak.Goroutines()
		var err error
		node, err = integration.StartBtcd(ctx, "", integration.WithLogOutput(GinkgoWriter))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	}, NodeTimeout(5*time.Minute))

	nodeSpecs(func() integration.Node { return node })

	It("listens on loopback only", func() {
		host, _, err := net.SplitHostPort(node.P2PAddr())
		Expect(err).NotTo(HaveOccurred())
		Expect(host).To(Equal("127.0.0.1"))
	})

	It("exits, removes its data directory and leaves no goroutine behind on Stop", func(ctx SpecContext) {
		dir := node.DataDir()
		Expect(dir).To(BeADirectory())
		Expect(node.Stop(ctx)).To(Succeed())
		Expect(node.Exited()).To(BeClosed())
		Expect(dir).NotTo(BeAnExistingFile())
		Expect(node.Stop(ctx)).To(Succeed(), "a second Stop is harmless")
		expectNoLeakedGoroutines(goroutines)
	}, SpecTimeout(time.Minute))
})

// fakeBitcoind is a shell script standing in for bitcoind: it prints its
// arguments and bitcoind's ready line, then waits to be interrupted. It
// checks the bitcoind launcher's command line and life cycle where Bitcoin
// Core cannot be installed.
const fakeBitcoind = `#!/bin/sh
trap 'kill $child; exit 0' INT TERM
sleep 300 >/dev/null 2>&1 &
child=$!
echo "fake bitcoind args: $*"
echo "2026-01-01T00:00:00Z init message: Done loading"
wait $child
`

var _ = Describe("the bitcoind process launcher, with a stand-in bitcoind", Label("process"), func() {
	BeforeEach(func() {
		if runtime.GOOS == "windows" {
			Skip("the stand-in bitcoind is a shell script")
		}
	})

	It("passes the regtest flags and waits for the ready line", func(ctx SpecContext) {
		script := filepath.Join(GinkgoT().TempDir(), "bitcoind")
		Expect(os.WriteFile(script, []byte(fakeBitcoind), 0o755)).To(Succeed())

		node, err := integration.StartBitcoind(ctx, script,
			integration.WithV2Transport(true),
			integration.WithExtraArgs("-debug=validation"),
		)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) })

		Expect(node.Impl()).To(Equal(integration.ImplBitcoind))
		Expect(integration.RPCURL(node)).To(HavePrefix("http://127.0.0.1:"))
		logs, err := node.Logs(ctx)
		Expect(err).NotTo(HaveOccurred())
		for _, flag := range []string{
			"-regtest", "-listen=1", "-bind=" + node.P2PAddr(), "-rpcallowip=127.0.0.1",
			"-rpcuser=btc-handshake", "-rpcpassword=", "-v2transport=1",
			"-printtoconsole=1", "-datadir=" + node.DataDir(), "-debug=validation",
		} {
			Expect(logs).To(ContainSubstring(" "+flag), "missing %s", flag)
		}

		Expect(node.Stop(ctx)).To(Succeed())
		Expect(node.Exited()).To(BeClosed())
		Expect(node.DataDir()).NotTo(BeAnExistingFile())
	}, SpecTimeout(30*time.Second))

	It("reports a bitcoind that exits before it is ready, with its log", func(ctx SpecContext) {
		script := filepath.Join(GinkgoT().TempDir(), "bitcoind")
		Expect(os.WriteFile(script, []byte("#!/bin/sh\necho 'Error: Unable to bind to 127.0.0.1'\nexit 1\n"), 0o755)).To(Succeed())
		_, err := integration.StartBitcoind(ctx, script)
		Expect(err).To(MatchError(And(
			ContainSubstring("node exited (exit status 1)"),
			ContainSubstring("Unable to bind"))))
	}, SpecTimeout(30*time.Second))
})

var _ = Describe("bitcoind as a local process", Label("process", "bitcoind"), Ordered, func() {
	var node *integration.Process

	BeforeAll(func(ctx SpecContext) {
		if os.Getenv(integration.EnvBitcoindBinary) == "" {
			if _, err := exec.LookPath("bitcoind"); err != nil {
				Skip("no Bitcoin Core: set " + integration.EnvBitcoindBinary + " or put bitcoind on PATH to run these specs")
			}
		}
		var err error
		node, err = integration.StartBitcoind(ctx, "",
			integration.WithExtraArgs(corePeerTimeout), integration.WithLogOutput(GinkgoWriter))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	}, NodeTimeout(2*time.Minute))

	nodeSpecs(func() integration.Node { return node })
})
