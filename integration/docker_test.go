package integration_test

import (
	"context"
	"net"
	"os"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gleak"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/integration"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// runBtcd starts a btcd container of this run and stops it after the
// enclosing container, even when RunBtcd fails half-way.
func runBtcd(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*integration.Container, error) {
	opts = append([]testcontainers.ContainerCustomizer{integration.WithRunID(suite.RunID)}, opts...)
	c, err := integration.RunBtcd(ctx, img, opts...)
	DeferCleanup(func(ctx SpecContext) {
		Expect(c.Stop(ctx)).To(Succeed())
	}, NodeTimeout(time.Minute))
	return c, err
}

var _ = Describe("btcd in a Docker container", Label("docker"), Ordered, func() {
	var node *integration.Container
	var goroutines []gleak.Goroutine

	BeforeAll(func(ctx SpecContext) {
		goroutines = gleak.Goroutines()
		requireDocker(ctx)
		var err error
		node, err = runBtcd(ctx, btcdImage())
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(5*time.Minute))

	nodeSpecs(func() integration.Node { return node })

	It("carries this run's labels", func(ctx SpecContext) {
		Expect(integration.ListContainers(ctx, suite.RunID)).To(ContainElement(node.GetContainerID()))
	}, SpecTimeout(30*time.Second))

	It("is stopped and removed by Stop, leaving no goroutine behind", func(ctx SpecContext) {
		Expect(node.Stop(ctx)).To(Succeed())
		Expect(integration.ListContainers(ctx, suite.RunID)).NotTo(ContainElement(node.GetContainerID()))
		Expect(node.Stop(ctx)).To(Succeed(), "a second Stop is harmless")
		expectNoLeakedGoroutines(goroutines)
	}, SpecTimeout(time.Minute))
})

var _ = Describe("two btcd containers on a Docker network", Label("docker"), Ordered, func() {
	var a, b *integration.Container
	logA := gbytes.NewBuffer()

	BeforeAll(func(ctx SpecContext) {
		requireDocker(ctx)
		img := btcdImage()
		nw, err := network.New(ctx, network.WithLabels(integration.Labels(suite.RunID)))
		Expect(err).NotTo(HaveOccurred())
		// Registered first, so it runs after the nodes' cleanups.
		DeferCleanup(func(ctx SpecContext) { Expect(nw.Remove(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))

		// Started side by side: the wall time of one start, not two.
		var wg sync.WaitGroup
		var errA, errB error
		var ca, cb *integration.Container
		wg.Go(func() {
			ca, errA = integration.RunBtcd(ctx, img, integration.WithRunID(suite.RunID), network.WithNetwork([]string{"btcd-a"}, nw),
				integration.WithLogOutput(logA))
		})
		wg.Go(func() {
			cb, errB = integration.RunBtcd(ctx, img, integration.WithRunID(suite.RunID), network.WithNetwork([]string{"btcd-b"}, nw))
		})
		wg.Wait()
		DeferCleanup(func(ctx SpecContext) { Expect(ca.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		DeferCleanup(func(ctx SpecContext) { Expect(cb.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		Expect(errA).NotTo(HaveOccurred())
		Expect(errB).NotTo(HaveOccurred())
		a, b = ca, cb
	}, NodeTimeout(5*time.Minute))

	It("peer with each other when one adds the other by its network alias", func(ctx SpecContext) {
		ipA, err := a.ContainerIP(ctx)
		Expect(err).NotTo(HaveOccurred())
		ipB, err := b.ContainerIP(ctx)
		Expect(err).NotTo(HaveOccurred())

		Expect(a.AddNode(ctx, net.JoinHostPort("btcd-b", integration.RegtestP2PPort), "add")).To(Succeed())

		// btcd resolves the alias before connecting, so either form may show.
		Eventually(a.PeerInfo).WithContext(ctx).Should(ContainElement(And(
			HaveField("Addr", Or(
				Equal(net.JoinHostPort(ipB, integration.RegtestP2PPort)),
				Equal(net.JoinHostPort("btcd-b", integration.RegtestP2PPort)))),
			HaveField("Inbound", false),
			HaveField("SubVer", ContainSubstring("/btcd:")),
		)), "btcd-a has no outbound peer btcd-b (%s)", ipB)
		Eventually(b.PeerInfo).WithContext(ctx).Should(ContainElement(And(
			HaveField("Addr", HavePrefix(ipA+":")),
			HaveField("Inbound", true),
			HaveField("SubVer", ContainSubstring("/btcd:")),
		)), "btcd-b has no inbound peer btcd-a (%s)", ipA)
	}, SpecTimeout(time.Minute))

	It("copies its output to WithLogOutput's writer as it is written", func(ctx SpecContext) {
		Eventually(logA.Contents).WithContext(ctx).Should(ContainSubstring(integration.BtcdReadyLog))
		Expect(a.Logs(ctx)).To(ContainSubstring(string(logA.Contents()[:20])))
	}, SpecTimeout(30*time.Second))

	It("each complete a v1 handshake with a client on the Docker host", func(ctx SpecContext) {
		for _, n := range []*integration.Container{a, b} {
			conn, peer, err := v1Handshake(ctx, n.P2PAddr(), "/btc-handshake-integration:peered/")
			Expect(err).NotTo(HaveOccurred())
			Expect(peer.UserAgent).To(ContainSubstring("/btcd:"))
			Expect(conn.Close()).To(Succeed())
		}
	}, SpecTimeout(time.Minute))

	It("each complete a handshake with our client while peered with each other", Label("e2e"), func(ctx SpecContext) {
		for _, n := range []*integration.Container{a, b} {
			res, err := handshake.Dial(ctx, n.P2PAddr(), handshake.Config{Network: wire.Regtest, Timeout: 10 * time.Second})
			Expect(err).NotTo(HaveOccurred())
			Expect(res).To(harness.CompleteHandshake())
			Expect(res.Peer.UserAgent).To(Equal(mockpeer.BtcdUserAgent))
		}
	}, SpecTimeout(time.Minute))
})

var _ = Describe("bitcoind in a Docker container", Label("docker", "bitcoind"), Ordered, func() {
	var node *integration.Container

	BeforeAll(func(ctx SpecContext) {
		img := os.Getenv(integration.EnvBitcoindImage)
		if img == "" {
			Skip("no Bitcoin Core image: set " + integration.EnvBitcoindImage + " (e.g. bitcoin/bitcoin:29) to run these specs")
		}
		requireDocker(ctx)
		var err error
		node, err = integration.RunBitcoind(ctx, img,
			integration.WithRunID(suite.RunID),
			integration.WithExtraArgs(corePeerTimeout),
		)
		DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		Expect(err).NotTo(HaveOccurred())
	}, NodeTimeout(5*time.Minute))

	nodeSpecs(func() integration.Node { return node })
})
