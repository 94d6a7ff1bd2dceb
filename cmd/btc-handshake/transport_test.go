package main_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/btc-handshake/btc-handshake/mockpeer"
)

func v2Mock(p mockpeer.Profile) string {
	srv := mockpeer.NewServer(mockpeer.WithFailHandler(func(string, ...int) {}))
	DeferCleanup(srv.Close)
	srv.SetDefaultScript(p.Script())
	return srv.Addr()
}

func peerObject(out []byte) map[string]any {
	GinkgoHelper()
	line, _, _ := strings.Cut(string(out), "\n")
	var m map[string]any
	Expect(json.Unmarshal([]byte(line), &m)).To(Succeed(), line)
	return m
}

var _ = Describe("--transport", func() {
	run := func(args ...string) *gexec.Session {
		GinkgoHelper()
		s, err := gexec.Start(exec.Command(binPath, args...), GinkgoWriter, GinkgoWriter)
		Expect(err).NotTo(HaveOccurred())
		Eventually(s, 10*time.Second).Should(gexec.Exit())
		return s
	}

	It("v2 against a v2 mock prints \"transport\":\"v2\"", func() {
		addr := v2Mock(mockpeer.CoreResponder())
		s := run("--connect", addr, "-n", "regtest", "--transport", "v2", "--json")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`"transport":"v2"`))
		m := peerObject(s.Out.Contents())
		Expect(m).To(HaveKeyWithValue("fallback", false))
		Expect(m).To(HaveKey("v2"))
	})

	It("auto against a v1-only mock that closes on a key completes with v1 and records the fallback", func() {
		addr := v2Mock(mockpeer.CoreResponder().V2Transport(nil))
		s := run("--connect", addr, "-n", "regtest", "--transport", "auto", "--json")
		Expect(s.ExitCode()).To(Equal(0))
		m := peerObject(s.Out.Contents())
		Expect(m).To(HaveKeyWithValue("transport", "v1"))
		Expect(m).To(HaveKeyWithValue("fallback", true))
	})

	It("defaults to auto, and the human line shows the transport", func() {
		addr := v2Mock(mockpeer.CoreResponder())
		s := run("--connect", addr, "-n", "regtest")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("transport=v2"))
		Expect(run("--help").Out.Contents()).To(ContainSubstring("original tool's behaviour"))
	})

	It("v1 keeps the original tool's behaviour against the same v2-capable mock", func() {
		addr := v2Mock(mockpeer.CoreResponder())
		s := run("--connect", addr, "-n", "regtest", "--transport", "v1")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("transport=v1"))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring("fallback"))
	})

	It("refuses another value with one line and exit 2, before any network work", func() {
		s := run("--connect", "127.0.0.1:1", "--transport", "v3")
		Expect(s.ExitCode()).To(Equal(2))
		Expect(strings.Count(strings.TrimSpace(string(s.Err.Contents())), "\n")).To(BeZero())
		Expect(string(s.Err.Contents())).To(ContainSubstring("--transport must be v1, v2 or auto"))
	})

	It("check tells each client its scenario's transport as {transport}, and our client passes the v2 scenarios", func() {
		s := run("check", "--transport", "all", "--scenario", "v2-decoys-before-version-packet", "--scenario", "v1-only-closes-on-key",
			"--scenario", "version-verack-coalesced", "--client-timeout", "2s",
			"--client-cmd", binPath+" --connect {addr} -n {network} -t {timeout} --transport {transport} --json")
		Expect(s.ExitCode()).To(Equal(0), string(s.Out.Contents()))
		s = run("check", "--transport", "v2", "--client-timeout", "1s", "--parallel", "8",
			"--client-cmd", binPath+" --connect {addr} -n {network} -t {timeout} --json")
		Expect(s.ExitCode()).To(Equal(0), string(s.Out.Contents())) // the transport reached it by BTC_HANDSHAKE_TRANSPORT
	})

	It("scenarios lists the v2 ones with their transport", func() {
		s := run("scenarios", "--transport", "auto")
		Expect(s.ExitCode()).To(Equal(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("v1-only-closes-on-key"))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring("v2-no-garbage"))
	})
})
