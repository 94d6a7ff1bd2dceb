package main_test

import (
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/btc-handshake/btc-handshake/internal/seeddns"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Issue 6, item 8: what a peer or a seed controls cannot reach the
// terminal raw, nor make one run open unbounded connections. (That `mock
// serve` listens on loopback unless given --listen is in
// subcommands_test.go.)
var _ = Describe("security", func() {
	It("escapes a user agent with ESC, newline and BEL in stdout and in the -v log on stderr", func() {
		evil := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/evil\x1b[2J\n\x07:1.0/"))
		DeferCleanup(evil.Close)
		s := run("--connect", evil.Addr(), "-n", "regtest", "-t", "2", "-v")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
		out, errOut := string(s.Out.Contents()), string(s.Err.Contents())
		for _, stream := range []string{out, errOut} {
			Expect(stream).NotTo(ContainSubstring("\x1b"))
			Expect(stream).NotTo(ContainSubstring("\x07"))
			Expect(stream).NotTo(ContainSubstring("[2J\n"))
		}
		// The log has the user agent, escaped by slog's text handler.
		Expect(errOut).To(ContainSubstring(`msg="peer version"`))
		Expect(errOut).To(ContainSubstring(`user_agent="/evil\x1b[2J\n\a:1.0/"`))
		Expect(out).To(ContainSubstring(`ua="/evil\x1b[2J\n\a:1.0/"`))
	})

	It("takes at most --max-addrs addresses from one seed answer", func() {
		var addrs []netip.Addr
		for i := range 5 {
			addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, 0, byte(11 + i)}))
		}
		dns, err := seeddns.Start("127.0.0.1:0", map[string][]netip.Addr{"seed.example.": addrs})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(dns.Close)
		// Nothing listens on port 1: every handshake fails fast, and the
		// number of peer objects is the number of addresses taken.
		s := run("--dns-server", dns.Addr(), "-n", "regtest", "-p", "1", "-t", "1", "--max-addrs", "2", "--json", "seed.example.")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		objs := ndjson(s.Out.Contents())
		Expect(objs).To(HaveLen(3), "two peers and the summary")
		Expect(objs[0]["address"]).To(BeElementOf("127.0.0.11:1", "127.0.0.12:1"))
		Expect(objs[1]["address"]).To(BeElementOf("127.0.0.11:1", "127.0.0.12:1"))
	})

	DescribeTable("refuses caps out of range with exit 2",
		func(args ...string) {
			s := run(append(args, "--connect", "127.0.0.1:1")...)
			Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(2))
			Expect(s.Err.Contents()).NotTo(BeEmpty())
		},
		Entry("--concurrency above MaxConcurrency", "--concurrency", "4097"),
		Entry("--concurrency 0", "--concurrency", "0"),
		Entry("--max-addrs 0", "--max-addrs", "0"),
	)

	It("has a concurrency cap of 4096", func() {
		s := run("--concurrency", "4096", "--connect", "127.0.0.1:1")
		Eventually(s).WithTimeout(10*time.Second).Should(gexec.Exit(1), "the peer fails; the flag is accepted")
	})
})
