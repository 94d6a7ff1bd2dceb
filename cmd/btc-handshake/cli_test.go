package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/btc-handshake/btc-handshake/internal/seeddns"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

func run(args ...string) *gexec.Session {
	s, err := gexec.Start(exec.Command(binPath, args...), GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return s
}

// ndjson splits the CLI's --json output into objects.
func ndjson(out []byte) []map[string]any {
	var objs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		Expect(json.Unmarshal(sc.Bytes(), &m)).To(Succeed(), "line %q", sc.Text())
		objs = append(objs, m)
	}
	return objs
}

var _ = Describe("btc-handshake <DNS_SEED>", func() {
	It("resolves the seed with a real DNS server and handshakes with every address on the network's port", func() {
		// Two peers on the same port of two loopback addresses, as a seed
		// returns addresses for one port.
		good := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/Satoshi:27.0.0/"))
		DeferCleanup(good.Close)
		_, port, _ := net.SplitHostPort(good.Addr())
		stuck := startPeer("127.0.0.2:"+port, wire.Regtest, noVerack)
		DeferCleanup(stuck.Close)

		dns, err := seeddns.Start("127.0.0.1:0", map[string][]netip.Addr{
			"seed.example.": {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(dns.Close)

		s := run("--dns-server", dns.Addr(), "-n", "regtest", "-p", port, "-t", "1", "seed.example.")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		out := string(s.Out.Contents())
		Expect(out).To(MatchRegexp(`127\.0\.0\.1:%s\s+SUCCESS\s+version=70016\s+ua="/Satoshi:27\.0\.0/"\s+quirks=version-verack-coalesced`, port))
		Expect(out).To(MatchRegexp(`127\.0\.0\.2:%s\s+FAILED\s+version=70016 .*error=.*phase verack: timeout`, port))
		Expect(out).To(ContainSubstring("finished with 1 SUCCESS & 1 FAILED\n"))
		Expect(dns.Queries()).To(BeNumerically(">=", 1))
	})

	It("prints one JSON object per peer and a summary with --json", func() {
		good := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/Satoshi:27.0.0/"))
		DeferCleanup(good.Close)
		s := run("--connect", good.Addr(), "-n", "regtest", "-t", "2", "--json")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
		objs := ndjson(s.Out.Contents())
		Expect(objs).To(HaveLen(2))
		peer, summary := objs[0], objs[1]
		for _, key := range []string{"address", "ok", "error", "phase", "version", "services", "user_agent",
			"start_height", "relay", "negotiated_version", "quirks", "timings", "messages"} {
			Expect(peer).To(HaveKey(key))
		}
		Expect(peer).To(HaveKeyWithValue("type", "peer"))
		Expect(peer).To(HaveKeyWithValue("address", good.Addr()))
		Expect(peer).To(HaveKeyWithValue("ok", true))
		Expect(peer["error"]).To(BeNil())
		Expect(peer).To(HaveKeyWithValue("phase", "done"))
		Expect(peer).To(HaveKeyWithValue("version", BeNumerically("==", 70016)))
		Expect(peer).To(HaveKeyWithValue("negotiated_version", BeNumerically("==", 70016)))
		Expect(peer).To(HaveKeyWithValue("user_agent", "/Satoshi:27.0.0/"))
		Expect(peer).To(HaveKeyWithValue("start_height", BeNumerically("==", 100)))
		Expect(peer).To(HaveKeyWithValue("relay", true))
		Expect(peer["quirks"]).To(ConsistOf("version-verack-coalesced"))
		Expect(peer["timings"]).To(HaveKey("verack_ms"))
		cmds := []any{}
		for _, m := range peer["messages"].([]any) {
			msg := m.(map[string]any)
			cmds = append(cmds, msg["dir"].(string)+":"+msg["command"].(string))
		}
		// We answer the peer's version at once, before reading what came with it.
		Expect(cmds).To(Equal([]any{"sent:version", "received:version", "sent:wtxidrelay", "sent:sendaddrv2",
			"sent:verack", "received:wtxidrelay", "received:sendaddrv2", "received:verack"}))
		Expect(summary).To(HaveKeyWithValue("type", "summary"))
		Expect(summary).To(HaveKeyWithValue("passed", BeNumerically("==", 1)))
		Expect(summary).To(HaveKeyWithValue("failed", BeNumerically("==", 0)))
	})

	It("reports a failure with a stable error kind in JSON and exits 1, bounded by -t", func() {
		stuck := startPeer("127.0.0.1:0", wire.Regtest, noVerack)
		DeferCleanup(stuck.Close)
		s := run("--connect", stuck.Addr(), "-n", "regtest", "-t", "0.3", "--json")
		Eventually(s).WithTimeout(5 * time.Second).Should(gexec.Exit(1))
		lines := ndjson(s.Out.Contents())
		peer, summary := lines[0], lines[len(lines)-1]
		Expect(peer).To(HaveKeyWithValue("ok", false))
		Expect(peer["error"]).To(HaveKeyWithValue("kind", "timeout"))
		Expect(peer).To(HaveKeyWithValue("phase", "verack"))
		// The peer's -t runs from before its attempt starts (Started), so
		// its total can fall a fraction of a millisecond short of 300;
		// the run as a whole waited all of it.
		Expect(summary).To(HaveKeyWithValue("elapsed_ms", BeNumerically(">=", 300)))
		total := peer["timings"].(map[string]any)["total_ms"].(float64)
		Expect(total).To(BeNumerically(">", 250))
		Expect(total).To(BeNumerically("<", 1000))
	})

	It("escapes control characters a peer puts in its user agent", func() {
		evil := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/evil\x1b[2J\x07:1.0/"))
		DeferCleanup(evil.Close)
		s := run("--connect", evil.Addr(), "-n", "regtest", "-t", "2")
		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(0))
		Expect(s.Out.Contents()).NotTo(ContainSubstring("\x1b"))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`ua="/evil\x1b[2J\a:1.0/"`))
	})

	It("uses the network's magic: a regtest peer fails a mainnet handshake with bad-magic", func() {
		good := startPeer("127.0.0.1:0", wire.Regtest, coalesced("/Satoshi:27.0.0/"))
		DeferCleanup(good.Close)
		// The peer reads our mainnet version as garbage and hangs up; we must fail.
		s := run("--connect", good.Addr(), "-t", "1", "--json")
		Eventually(s).WithTimeout(5 * time.Second).Should(gexec.Exit(1))
		Expect(ndjson(s.Out.Contents())[0]["ok"]).To(BeFalse())
	})

	It("sends the --user-agent and --protocol-version it is given", func() {
		got := make(chan *wire.Version, 1)
		p := startPeer("127.0.0.1:0", wire.Testnet4, behaviour{mockpeer.Do(func(c *mockpeer.Conn) error {
			got <- c.PeerVersion()
			return nil
		})})
		DeferCleanup(p.Close)
		s := run("--connect", p.Addr(), "-n", "testnet4", "-t", "1", "--user-agent", "/probe:9/", "--protocol-version", "70015")
		Eventually(s).WithTimeout(5 * time.Second).Should(gexec.Exit(1))
		var v *wire.Version
		Eventually(got).Should(Receive(&v))
		Expect(v.UserAgent).To(Equal("/probe:9/"))
		Expect(v.ProtocolVersion).To(BeEquivalentTo(70015))
		Expect(v.AddrFrom.IsZero()).To(BeTrue(), "our version must not reveal a local address")
	})

	DescribeTable("usage and resolution errors exit 2",
		func(args ...string) {
			s := run(args...)
			Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(2))
			Expect(s.Err.Contents()).NotTo(BeEmpty())
		},
		Entry("no seed and no --connect"),
		Entry("unknown network", "-n", "moonnet", "seed.example."),
		Entry("two seeds", "a.example.", "b.example."),
		Entry("seed and --connect", "--connect", "127.0.0.1:1", "seed.example."),
		Entry("unknown flag", "--frobnicate", "seed.example."),
		Entry("bad concurrency", "--concurrency", "0", "--connect", "127.0.0.1:1"),
		Entry("a seed that does not resolve", "--dns-server", "127.0.0.1:1", "-t", "0.5", "seed.example."),
	)

	It("accepts every network name and the original short flags", func() {
		for _, n := range []string{"mainnet", "testnet", "testnet3", "testnet4", "signet", "regtest"} {
			p := startPeer("127.0.0.1:0", mustNet(n), coalesced("/x:1/"))
			_, port, _ := net.SplitHostPort(p.Addr())
			portNum, _ := strconv.Atoi(port)
			s := run("-n", n, "-p", strconv.Itoa(portNum), "-t", "2", "--connect", p.Addr())
			Eventually(s).WithTimeout(10*time.Second).Should(gexec.Exit(0), n)
			p.Close()
		}
	})
})

func mustNet(name string) wire.Network {
	n, err := wire.ParseNetwork(name)
	Expect(err).NotTo(HaveOccurred())
	return n
}
