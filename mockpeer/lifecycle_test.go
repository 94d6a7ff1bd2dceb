package mockpeer_test

import (
	"errors"
	"net"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("Server lifecycle (httptest's shape)", func() {
	// taken is an address some listener holds for the rest of the spec.
	taken := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(l.Close)
		return l.Addr().String()
	}

	It("Start on an address in use returns an error, and the server stays closable", func() {
		addr := taken()
		srv := mockpeer.NewUnstartedServer(mockpeer.WithAddr(addr))
		err := srv.Start()
		Expect(err).To(MatchError(ContainSubstring("address already in use")))
		Expect(errors.Is(err, net.ErrClosed)).To(BeFalse())
		var op *net.OpError
		Expect(errors.As(err, &op)).To(BeTrue(), "the net error is wrapped, for errors.As")
		Expect(srv.Addr()).To(BeEmpty())
		Expect(srv.Close()).To(Succeed())
	})

	It("NewServer panics on an address in use when no test is given, as httptest.NewServer does", func() {
		addr := taken()
		Expect(func() { mockpeer.NewServer(mockpeer.WithAddr(addr)) }).
			To(PanicWith(ContainSubstring("address already in use")))
	})

	It("a server given a listener serves on that listener", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		srv := mockpeer.NewUnstartedServer(mockpeer.WithFailHandler(Fail))
		srv.Listener = l
		DeferCleanup(srv.Close)
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Send(wire.Ping{Nonce: 42}), mockpeer.HoldOpen()))
		Expect(srv.Start()).To(Succeed())
		Expect(srv.Addr()).To(Equal(l.Addr().String()))

		cmd, m := dialRaw(l.Addr().String()).next()
		Expect(cmd).To(Equal("ping"))
		Expect(m).To(Equal(wire.Ping{Nonce: 42}))
		Expect(srv.Accepted()).To(Equal(1))
	})

	It("plays the scripts appended before Start, in order", func() {
		srv := mockpeer.NewUnstartedServer(mockpeer.WithFailHandler(Fail))
		DeferCleanup(srv.Close)
		Expect(srv.Addr()).To(BeEmpty(), "no address before Start")
		srv.AppendScripts(
			mockpeer.NewScript("", mockpeer.Send(wire.Ping{Nonce: 1}), mockpeer.HoldOpen()),
			mockpeer.NewScript("", mockpeer.Send(wire.Ping{Nonce: 2}), mockpeer.HoldOpen()))
		srv.SetDefaultScript(mockpeer.NewScript("", mockpeer.Send(wire.Ping{Nonce: 3}), mockpeer.HoldOpen()))
		Expect(srv.Start()).To(Succeed())

		for _, want := range []uint64{1, 2, 3} {
			_, m := dialRaw(srv.Addr()).next()
			Expect(m).To(Equal(wire.Ping{Nonce: want}))
		}
	})

	It("refuses a second Start and a Start after Close", func() {
		srv := mockpeer.NewUnstartedServer()
		Expect(srv.Start()).To(Succeed())
		addr := srv.Addr()
		Expect(srv.Start()).To(MatchError(ContainSubstring("twice")))
		Expect(srv.Addr()).To(Equal(addr))
		Expect(srv.Close()).To(Succeed())

		never := mockpeer.NewUnstartedServer()
		Expect(never.Close()).To(Succeed())
		Expect(never.Start()).To(MatchError(ContainSubstring("after Close")))
	})

	It("Close of a server never started closes the listener it was given and reports its scripts", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		srv := mockpeer.NewUnstartedServer()
		srv.Listener = l
		srv.AppendScripts(mockpeer.NewScript("unused", mockpeer.HoldOpen()))
		Expect(srv.Close()).To(MatchError(mockpeer.ErrNeverRan))
		_, err = l.Accept()
		Expect(err).To(MatchError(net.ErrClosed))
	})

	It("a Listener takes precedence over WithAddr, and Start sets Listener when it listens", func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		srv := mockpeer.NewUnstartedServer(mockpeer.WithAddr("127.0.0.5:0"))
		srv.Listener = l
		DeferCleanup(srv.Close)
		Expect(srv.Start()).To(Succeed())
		Expect(srv.Addr()).To(Equal(l.Addr().String()))

		other := mockpeer.NewUnstartedServer(mockpeer.WithAddr("127.0.0.5:0"))
		DeferCleanup(other.Close)
		Expect(other.Start()).To(Succeed())
		Expect(other.Listener).NotTo(BeNil())
		Expect(other.Addr()).To(HavePrefix("127.0.0.5:"))
	})
})
