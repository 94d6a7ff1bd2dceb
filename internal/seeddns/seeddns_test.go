package seeddns_test

import (
	"context"
	"net"
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/internal/seeddns"
)

func resolver(addr, network string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

var _ = Describe("seed DNS server", func() {
	var srv *seeddns.Server

	BeforeEach(func() {
		var err error
		srv, err = seeddns.Start("127.0.0.1:0", map[string][]netip.Addr{
			"seed.test.": {netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("::1")},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close)
	})

	DescribeTable("answers A and AAAA",
		func(network string) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			addrs, err := resolver(srv.Addr(), network).LookupNetIP(ctx, "ip", "seed.test")
			Expect(err).NotTo(HaveOccurred())
			Expect(addrs).To(ConsistOf(netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("::1")))
			Expect(srv.Queries()).To(BeNumerically(">=", 2))
		},
		Entry("over UDP", "udp"),
		Entry("over TCP", "tcp"),
	)

	It("answers NXDOMAIN for other names and serves replaced records", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := resolver(srv.Addr(), "udp").LookupNetIP(ctx, "ip4", "other.test")
		var dnsErr *net.DNSError
		Expect(err).To(BeAssignableToTypeOf(dnsErr))
		Expect(err.(*net.DNSError).IsNotFound).To(BeTrue())

		srv.Set("seed.test.", []netip.Addr{netip.MustParseAddr("127.0.0.9")})
		addrs, err := resolver(srv.Addr(), "udp").LookupNetIP(ctx, "ip4", "seed.test")
		Expect(err).NotTo(HaveOccurred())
		Expect(addrs).To(Equal([]netip.Addr{netip.MustParseAddr("127.0.0.9")}))
	})
})
