package handshake_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
)

// dnsServer is an authoritative DNS server for a small zone, on UDP and
// TCP at the same loopback port, as a DNS seed would be.
type dnsServer struct {
	addr       string
	tcpQueries atomic.Int64
}

// startDNS serves zone (owner name → records) until the spec ends. Names
// not in the zone are NXDOMAIN; UDP answers are truncated to the client's
// buffer size, so large answers make the resolver retry over TCP.
func startDNS(zone map[string][]dns.RR) *dnsServer {
	GinkgoHelper()
	s := &dnsServer{}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		if len(req.Question) == 1 {
			q := req.Question[0]
			rrs, ok := zone[strings.ToLower(q.Name)]
			if !ok {
				m.SetRcode(req, dns.RcodeNameError)
			}
			for _, rr := range rrs {
				if rr.Header().Rrtype == q.Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
		}
		if w.LocalAddr().Network() == "tcp" {
			s.tcpQueries.Add(1)
		} else {
			size := dns.MinMsgSize
			if opt := req.IsEdns0(); opt != nil {
				size = int(opt.UDPSize())
			}
			m.Truncate(size)
		}
		_ = w.WriteMsg(m)
	})

	// The resolver asks one host:port over both UDP and TCP.
	var pc net.PacketConn
	var ln net.Listener
	Eventually(func() error {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return err
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			_ = pc.Close()
			return err
		}
		return nil
	}).Should(Succeed())
	s.addr = pc.LocalAddr().String()

	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan error, 1)
		go func() { done <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-done:
			Fail(fmt.Sprintf("DNS server did not start: %v", err))
		}
		DeferCleanup(func() {
			Expect(srv.Shutdown()).To(Succeed())
			<-done
		})
	}
	return s
}

func rr(s string) dns.RR {
	r, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return r
}

func aRecords(name string, n int) []dns.RR {
	var out []dns.RR
	for i := range n {
		out = append(out, rr(fmt.Sprintf("%s 60 IN A 10.1.%d.%d", name, i/250, i%250+1)))
	}
	return out
}

var _ = Describe("Seed.Resolve", func() {
	var server *dnsServer
	var ctx context.Context
	// seed is name on the test's DNS server.
	seed := func(name string, port uint16, maxAddrs int) handshake.Seed {
		return handshake.Seed{Name: name, Port: port, Server: server.addr, Timeout: time.Second, MaxAddrs: maxAddrs}
	}

	BeforeEach(func() {
		server = startDNS(map[string][]dns.RR{
			"seed.test.": {
				rr("seed.test. 60 IN A 10.0.0.1"),
				rr("seed.test. 60 IN A 10.0.0.2"),
				rr("seed.test. 60 IN A 10.0.0.1"),
				rr("seed.test. 60 IN AAAA 2001:db8::1"),
				rr("seed.test. 60 IN AAAA 2001:db8::1"),
				rr("seed.test. 60 IN AAAA ::ffff:10.0.0.2"),
			},
			"empty.test.": {rr(`empty.test. 60 IN TXT "no addresses here"`)},
			"many.test.":  aRecords("many.test.", 50),
			"big.test.":   aRecords("big.test.", 300),
		})
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		DeferCleanup(cancel)
	})

	It("returns the A and AAAA addresses, deduplicated, with the port applied", func() {
		got, err := seed("seed.test", 18444, 0).Resolve(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(ConsistOf("10.0.0.1:18444", "10.0.0.2:18444", "[2001:db8::1]:18444"))
	})

	It("honours maxAddrs", func() {
		got, err := seed("many.test.", 8333, 10).Resolve(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveLen(10))
		Expect(got).To(HaveEach(HaveSuffix(":8333")))
		seen := map[string]bool{}
		for _, a := range got {
			Expect(seen).NotTo(HaveKey(a))
			seen[a] = true
		}
	})

	It("caps a large answer (fetched over TCP after a truncated UDP answer) at 256 by default", func() {
		got, err := seed("big.test.", 8333, 0).Resolve(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(HaveLen(handshake.DefaultMaxSeedAddrs))
		Expect(server.tcpQueries.Load()).To(BeNumerically(">", 0))
	})

	It("fails for NXDOMAIN, naming the seed", func() {
		got, err := seed("missing.test.", 8333, 0).Resolve(ctx)
		Expect(err).To(HaveOccurred())
		Expect(got).To(BeEmpty())
		Expect(err.Error()).To(Equal(fmt.Sprintf("resolve missing.test.: no such host (asked %s)", server.addr)),
			"the server asked, not resolv.conf's")
		var dnsErr *net.DNSError
		Expect(errors.As(err, &dnsErr)).To(BeTrue())
		Expect(dnsErr.IsNotFound).To(BeTrue())
	})

	It("fails as for NXDOMAIN for an answer without addresses (Go's resolver cannot tell the two apart)", func() {
		got, err := seed("empty.test.", 8333, 0).Resolve(ctx)
		Expect(got).To(BeEmpty())
		dnsErr, ok := errors.AsType[*net.DNSError](err)
		Expect(ok).To(BeTrue())
		Expect(dnsErr.IsNotFound).To(BeTrue())
	})

	It("gives up on a silent DNS server after a few exchanges of the resolver's timeout", func() {
		silentDNS, err := net.ListenPacket("udp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(silentDNS.Close)
		start := time.Now()
		_, err = handshake.Seed{Name: "seed.test.", Port: 8333, Server: silentDNS.LocalAddr().String(), Timeout: 100 * time.Millisecond}.Resolve(ctx)
		elapsed := time.Since(start)
		var dnsErr *net.DNSError
		Expect(errors.As(err, &dnsErr)).To(BeTrue())
		Expect(dnsErr.IsTimeout).To(BeTrue())
		// Go's own per-attempt timeout is 5 s (two attempts by default):
		// without the cap this takes 10 s.
		Expect(elapsed).To(BeNumerically("<", 4*time.Second))
	})

	It("fails for an empty seed name", func() {
		_, err := seed("  ", 8333, 0).Resolve(ctx)
		Expect(err).To(HaveOccurred())
	})
})
