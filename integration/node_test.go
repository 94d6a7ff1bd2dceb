package integration_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/integration"
)

// readyLog is the line each implementation's launcher waits for.
func readyLog(impl string) string {
	if impl == integration.ImplBitcoind {
		return integration.BitcoindReadyLog
	}
	return integration.BtcdReadyLog
}

// nodeSpecs are the specs every Node passes, whichever way it was launched.
// node is read when the specs run (after BeforeAll started it).
func nodeSpecs(node func() integration.Node) {
	It("completes a v1 version/verack exchange and lists our user agent in getpeerinfo while connected", func(ctx SpecContext) {
		n := node()
		ua := fmt.Sprintf("/btc-handshake-integration:%d/", rand.Uint32())
		conn, peer, err := v1Handshake(ctx, n.P2PAddr(), ua)
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()

		Expect(peer.ProtocolVersion).To(BeNumerically(">=", 70016))
		switch n.Impl() {
		case integration.ImplBtcd:
			Expect(peer.UserAgent).To(ContainSubstring("/btcd:"))
		case integration.ImplBitcoind:
			Expect(peer.UserAgent).To(HavePrefix("/Satoshi:"))
		}

		ourPeer := And(
			HaveField("SubVer", ua),
			HaveField("Inbound", true),
			HaveField("Version", BeEquivalentTo(70016)),
		)
		Eventually(n.PeerInfo).WithContext(ctx).Should(ContainElement(ourPeer))

		Expect(conn.Close()).To(Succeed())
		Eventually(n.PeerInfo).WithContext(ctx).ShouldNot(ContainElement(HaveField("SubVer", ua)),
			"the node still lists us after we closed the connection")
	}, SpecTimeout(time.Minute))

	It("logs its ready line", func(ctx SpecContext) {
		Expect(node().Logs(ctx)).To(ContainSubstring(readyLog(node().Impl())))
	}, SpecTimeout(30*time.Second))

	It("reports an RPC error object as *RPCError", func(ctx SpecContext) {
		_, err := node().Call(ctx, "nosuchmethod")
		var rpcErr *integration.RPCError
		Expect(errors.As(err, &rpcErr)).To(BeTrue(), "got %v", err)
		Expect(rpcErr.Code).To(Equal(-32601)) // method not found, in btcd and Core
	}, SpecTimeout(30*time.Second))
}
