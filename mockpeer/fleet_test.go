package mockpeer_test

import (
	"net"
	"net/netip"
	"runtime"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

func fleetAddrs(last ...byte) []netip.Addr {
	var out []netip.Addr
	for _, b := range last {
		out = append(out, netip.AddrFrom4([4]byte{127, 0, 7, b}))
	}
	return out
}

// startFleet starts a fleet of Core peers, closed at cleanup with no
// failure reported.
func startFleet(addrs []netip.Addr) *mockpeer.Fleet {
	GinkgoHelper()
	f := mockpeer.NewFleet(addrs, mockpeer.WithFailHandler(Fail))
	DeferCleanup(func() { Expect(f.Close()).To(Succeed()) })
	for _, p := range f.Peers() {
		p.SetDefaultScript(mockpeer.CoreResponder().Script())
	}
	return f
}

// coreAnswers sends a version to addr and reads Core's answer.
func coreAnswers(addr string) {
	GinkgoHelper()
	c := dialRaw(addr)
	c.send(clientVersion(70016, wire.NodeNetwork))
	Expect(c.commands(4)).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
}

var _ = Describe("Fleet", func() {
	It("gives each address a peer of its own, all behind one listening socket on Linux", func() {
		addrs := fleetAddrs(2, 3, 4)
		f := startFleet(addrs)
		Expect(f.Peers()).To(HaveLen(3))
		if runtime.GOOS == "linux" {
			Expect(f.Shared()).To(BeTrue())
		}
		ports := map[string]bool{}
		for i, p := range f.Peers() {
			host, port, err := net.SplitHostPort(p.Addr())
			Expect(err).NotTo(HaveOccurred())
			Expect(host).To(Equal(addrs[i].String()))
			ports[port] = true
		}
		if f.Shared() {
			Expect(ports).To(HaveLen(1))
		}
		for i, p := range f.Peers() {
			coreAnswers(p.Addr())
			coreAnswers(p.Addr())
			Eventually(p.Accepted).Should(Equal(2), "peer %d", i)
		}
		for _, p := range f.Peers() {
			Expect(p.Accepted()).To(Equal(2), "each connection went to the peer its address names")
		}
	})

	It("closes a connection to a loopback address that is none of its peers", func() {
		f := startFleet(fleetAddrs(2, 3))
		if !f.Shared() {
			Skip("the peers do not share a socket on " + runtime.GOOS)
		}
		_, port, _ := net.SplitHostPort(f.Peers()[0].Addr())
		c := dialRaw(net.JoinHostPort("127.0.7.9", port))
		c.expectEOF()
		for _, p := range f.Peers() {
			Expect(p.Accepted()).To(BeZero())
		}
	})

	It("listens per peer for addresses it cannot share (not IPv4 loopback, or twice the same)", func() {
		f := startFleet([]netip.Addr{netip.MustParseAddr("127.0.7.2"), netip.MustParseAddr("127.0.7.2")})
		Expect(f.Shared()).To(BeFalse())
		Expect(f.Peers()[0].Addr()).NotTo(Equal(f.Peers()[1].Addr()))
		for _, p := range f.Peers() {
			coreAnswers(p.Addr())
		}
	})

	It("reports, on Close, what its peers report", func() {
		f := mockpeer.NewFleet(fleetAddrs(2, 3)) // no fail handler: Close returns the failures
		f.Peers()[1].AppendScripts(mockpeer.NewScript("never", mockpeer.HoldOpen()))
		err := f.Close()
		Expect(err).To(MatchError(mockpeer.ErrNeverRan))
		Expect(err.Error()).To(ContainSubstring(f.Peers()[1].Addr()))
		Expect(f.Close()).To(Succeed(), "closing again")
	})

	It("stops accepting once closed", func() {
		f := mockpeer.NewFleet(fleetAddrs(2))
		addr := f.Peers()[0].Addr()
		Expect(f.Close()).To(Succeed())
		_, err := net.Dial("tcp", addr)
		Expect(err).To(HaveOccurred())
	})
})
