package main_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

var _ = Describe("btc-handshake conform", func() {
	// node starts a mock node playing profile on every connection.
	node := func(profile mockpeer.Profile) string {
		srv := mockpeer.NewServer(mockpeer.WithFailHandler(func(string, ...int) {}))
		srv.SetDefaultScript(profile.Script())
		DeferCleanup(srv.Close)
		return srv.Addr()
	}

	It("exits 0 when the node reacts as its profile expects, slow probes included", func() {
		addr := node(mockpeer.BtcdResponder(mockpeer.WithPeerTimeout(time.Second)))
		s := run("conform", addr, "-n", "regtest", "--profile", "btcd", "--peer-timeout", "1s")
		Eventually(s).WithTimeout(30 * time.Second).Should(gexec.Exit(0))
		out := string(s.Out.Contents())
		for _, name := range scenarios.ProbeNames() {
			Expect(out).To(MatchRegexp(`(?m)^` + name + `\s.*\spass$`))
		}
		Expect(out).To(ContainSubstring("silent-peer"))
		Expect(out).To(MatchRegexp(`(?m)^\d+ passed, 0 failed, 0 skipped \(profile btcd\)$`))
	})

	It("exits 1 and names the probes where the node is not what the profile says", func() {
		addr := node(mockpeer.BtcdResponder())
		s := run("conform", addr, "--profile", "core", "--fast")
		Eventually(s).WithTimeout(20 * time.Second).Should(gexec.Exit(1))
		out := string(s.Out.Contents())
		Expect(out).To(MatchRegexp(`(?m)^verack-before-version\s+3\s+nothing → open\s+reject\(version/0x01\) → closed\s+FAIL$`))
		Expect(out).To(MatchRegexp(`(?m)^no-verack\s.*\sskip$`))
		Expect(out).To(ContainSubstring("verack-before-version: expected no reply"))
		Expect(s.Err).To(gbytesSay("does not react as core does"))
	})

	It("prints NDJSON with --json and runs only the probes named", func() {
		addr := node(mockpeer.CoreResponder())
		s := run("conform", addr, "--json", "--probe", "ping-before-verack", "--probe", "pre-verack-messages-70012")
		Eventually(s).WithTimeout(20 * time.Second).Should(gexec.Exit(0))
		objs := ndjson(s.Out.Contents())
		Expect(objs).To(HaveLen(3))
		Expect(objs[0]).To(HaveKeyWithValue("probe", "ping-before-verack"))
		Expect(objs[0]).To(HaveKeyWithValue("passed", true))
		Expect(objs[1]).To(HaveKeyWithValue("expected", "version verack alert → open"))
		Expect(objs[1]["observation"]).To(HaveKeyWithValue("summary", "version verack alert → open"))
		Expect(objs[2]).To(Equal(map[string]any{"type": "summary", "passed": float64(2), "failed": float64(0), "errors": float64(0), "skipped": float64(0)}))
	})

	It("lists the probes with each profile's reaction", func() {
		s := run("conform", "--list")
		Eventually(s).Should(gexec.Exit(0))
		for _, name := range scenarios.ProbeNames() {
			Expect(string(s.Out.Contents())).To(ContainSubstring(name))
		}
		Expect(string(s.Out.Contents())).To(ContainSubstring("core-v2: non-v1 bytes"))

		s = run("conform", "--list", "--json")
		Eventually(s).Should(gexec.Exit(0))
		objs := ndjson(s.Out.Contents())
		Expect(objs).To(HaveLen(len(scenarios.ProbeNames())))
		Expect(objs[0]).To(HaveKey("expect"))
	})

	DescribeTable("exits 2 on usage errors",
		func(args ...string) {
			s := run(append([]string{"conform"}, args...)...)
			Eventually(s).Should(gexec.Exit(2))
		},
		Entry("no node"),
		Entry("not host:port", "localhost"),
		Entry("unknown profile", "127.0.0.1:1", "--profile", "bitcoin-xt"),
		Entry("unknown probe", "127.0.0.1:1", "--probe", "nope"),
		Entry("unknown network", "127.0.0.1:1", "-n", "moonnet"),
		Entry("too parallel for btcd", "127.0.0.1:1", "--parallel", "9"),
	)
})
