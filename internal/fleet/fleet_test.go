package fleet_test

import (
	"net"
	"net/netip"
	"runtime"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/internal/fleet"
	"github.com/btc-handshake/btc-handshake/mockpeer"
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
func startFleet(addrs []netip.Addr) *fleet.Fleet {
	GinkgoHelper()
	f := fleet.New(addrs, mockpeer.WithFailHandler(Fail))
	DeferCleanup(func() { Expect(f.Close()).To(Succeed()) })
	for _, p := range f.Peers() {
		p.SetDefaultScript(mockpeer.CoreResponder().Script())
	}
	Expect(f.Start()).To(Succeed())
	return f
}

var _ = Describe("Fleet", func() {
	It("gives each address a peer of its own, all on one port, behind one listening socket on Linux", func() {
		addrs := fleetAddrs(2, 3, 4)
		f := startFleet(addrs)
		Expect(f.Peers()).To(HaveLen(3))
		if runtime.GOOS == "linux" {
			Expect(f.Shared()).To(BeTrue())
		}
		for i, p := range f.Peers() {
			host, _, err := net.SplitHostPort(p.Addr())
			Expect(err).NotTo(HaveOccurred())
			Expect(host).To(Equal(addrs[i].String()))
			Expect(p.Addr()).To(HaveSuffix(":%d", f.Port()))
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
		expectEOF(net.JoinHostPort("127.0.7.9", port))
		for _, p := range f.Peers() {
			Expect(p.Accepted()).To(BeZero())
		}
	})

	It("listens per peer, on one port, where the peers cannot share a socket", func() {
		f := fleet.New(fleetAddrs(2, 3, 4), mockpeer.WithFailHandler(Fail))
		f.Unshared()
		DeferCleanup(func() { Expect(f.Close()).To(Succeed()) })
		for _, p := range f.Peers() {
			p.SetDefaultScript(mockpeer.CoreResponder().Script())
		}
		Expect(f.Start()).To(Succeed())
		Expect(f.Shared()).To(BeFalse())
		for _, p := range f.Peers() {
			Expect(p.Addr()).To(HaveSuffix(":%d", f.Port()))
			coreAnswers(p.Addr())
		}
	})

	It("reports, on Close, what its peers report", func() {
		f := fleet.New(fleetAddrs(2, 3)) // no fail handler: Close returns the failures
		Expect(f.Start()).To(Succeed())
		f.Peers()[1].AppendScripts(mockpeer.NewScript("never", mockpeer.HoldOpen()))
		err := f.Close()
		Expect(err).To(MatchError(mockpeer.ErrNeverRan))
		Expect(err.Error()).To(ContainSubstring(f.Peers()[1].Addr()))
		Expect(f.Close()).To(Succeed(), "closing again")
	})

	It("stops accepting once closed", func() {
		f := fleet.New(fleetAddrs(2))
		Expect(f.Start()).To(Succeed())
		addr := f.Peers()[0].Addr()
		Expect(f.Close()).To(Succeed())
		_, err := net.Dial("tcp", addr)
		Expect(err).To(HaveOccurred())
	})
})
