package handshake_test

import (
	"context"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// verackThenPing answers our version with its own, wtxidrelay, sendaddrv2,
// verack and a ping in one write, so the ping arrives in the read that
// completes our handshake; then it waits for the pong.
func verackThenPing(first ...mockpeer.Step) mockpeer.Script {
	steps := append(first,
		mockpeer.Expect(wire.CmdVersion),
		mockpeer.Send(peerVersion(wire.ProtocolVersion), wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}, wire.Ping{Nonce: 42}).Coalesced(),
		mockpeer.Expect(wire.CmdVerack),
		mockpeer.Expect(wire.CmdPong),
	)
	return mockpeer.NewScript("verack-then-ping", steps...)
}

var _ = Describe("Run hands the connection back (Result.Conn)", func() {
	DescribeTable("with what the peer sent right after its verack",
		func(transport handshake.Transport, first ...mockpeer.Step) {
			srv := mockpeer.NewServer()
			DeferCleanup(srv.Close)
			srv.AppendScripts(verackThenPing(first...))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", srv.Addr())
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(nc.Close)

			res, err := handshake.Run(ctx, nc, handshake.Config{Network: srv.Network(), Transport: transport, Timeout: 3 * time.Second})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Transport).To(Equal(transport))
			Expect(res.Conn).NotTo(BeNil())
			Expect(res.Conn.NetConn()).To(BeIdenticalTo(nc))
			// Nothing of the ping went into the transcript: Run stopped at
			// the verack, with the ping in its buffer.
			Expect(res.Transcript[len(res.Transcript)-1]).To(SatisfyAll(
				HaveField("Received", true), HaveField("Command", wire.CmdVerack)))

			m, err := res.Conn.ReadMessage(ctx)
			Expect(err).NotTo(HaveOccurred())
			Expect(m).To(Equal(wire.Ping{Nonce: 42}))
			Expect(res.Conn.WriteMessage(ctx, wire.Pong{Nonce: 42})).To(Succeed())
			Eventually(srv.Finished).Should(Equal(1), "the mock read our pong")
			Expect(srv.Failures()).To(BeEmpty())
			Expect(srv.Received()).To(ContainElement(HaveField("Command", wire.CmdPong)))
		},
		Entry("v1", handshake.TransportV1),
		Entry("v2, the ciphers going on where the handshake stopped", handshake.TransportV2, mockpeer.V2Handshake(mockpeer.V2{Garbage: 10})),
	)

	It("is not set after a failure, nor by Dial", func() {
		srv := mockpeer.NewServer()
		DeferCleanup(srv.Close)
		srv.SetDefaultScript(mockpeer.CoreResponder().Script())
		res, err := handshake.Dial(context.Background(), srv.Addr(), handshake.Config{Network: srv.Network(), Timeout: 3 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Conn).To(BeNil())

		p := startPeer(func(pc *peerConn) error { return pc.await(wire.CmdVersion) }) // then hangs up
		nc, err := net.Dial("tcp", p.Addr())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(nc.Close)
		res, err = handshake.Run(context.Background(), nc, handshake.Config{Timeout: 3 * time.Second})
		Expect(err).To(HaveOccurred())
		Expect(res.Conn).To(BeNil())
	})

	It("ends a read when its context ends, and reads on afterwards", func() {
		srv := mockpeer.NewServer()
		DeferCleanup(srv.Close)
		srv.AppendScripts(mockpeer.NewScript("late-ping",
			mockpeer.Expect(wire.CmdVersion),
			mockpeer.Send(peerVersion(wire.ProtocolVersion), wire.Verack{}).Coalesced(),
			mockpeer.Expect(wire.CmdVerack),
			mockpeer.Expect(wire.CmdPong),
			mockpeer.Send(wire.Ping{Nonce: 7}),
			mockpeer.Expect(wire.CmdPong),
		))
		nc, err := net.Dial("tcp", srv.Addr())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(nc.Close)
		res, err := handshake.Run(context.Background(), nc, handshake.Config{Network: srv.Network(), Timeout: 3 * time.Second})
		Expect(err).NotTo(HaveOccurred())

		ctx, cancel := context.WithCancel(context.Background())
		read := make(chan error, 1)
		go func() {
			_, err := res.Conn.ReadMessage(ctx)
			read <- err
		}()
		Consistently(read, 50*time.Millisecond).ShouldNot(Receive(), "the peer sends nothing until our pong")
		cancel()
		Eventually(read).Should(Receive(MatchError(context.Canceled)))

		ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		Expect(res.Conn.WriteMessage(ctx, wire.Pong{})).To(Succeed())
		m, err := res.Conn.ReadMessage(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(m).To(Equal(wire.Ping{Nonce: 7}))
		Expect(res.Conn.WriteMessage(ctx, wire.Pong{Nonce: 7})).To(Succeed())
		Eventually(srv.Finished).Should(Equal(1))
		Expect(srv.Failures()).To(BeEmpty())
	})
})
