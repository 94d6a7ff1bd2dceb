package harness_test

import (
	"context"
	"net"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("A mock peer that cannot listen", func() {
	It("fails Run's judgement with the reason instead of panicking", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(l.Close)
		sc, ok := scenarios.All().Get("core-v30-responder")
		Expect(ok).To(BeTrue())

		called := false
		client := harness.Client(func(context.Context, string, wire.Network) harness.Outcome {
			called = true
			return harness.Outcome{Completed: true}
		})
		j := harness.Run(context.Background(), client, harness.Options{ListenAddr: l.Addr().String()}, sc)[0]
		Expect(called).To(BeFalse(), "no client is pointed at a mock that is not there")
		Expect(j.Passed()).To(BeFalse())
		Expect(j.Reasons).To(ConsistOf(ContainSubstring("address already in use")))
	})

})
