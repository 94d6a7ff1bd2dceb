package main_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// corePcap is the v2-off recording of real Core, relative to this
// package's directory; without it, outside CI the spec is skipped.
func corePcap() string {
	p := "../../../shared/recordings/core-v30/pcap/core-v30-v2off-inbound.pcap"
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") != "" {
			Fail("the recordings of real Core are missing: " + p)
		}
		Skip("no recordings of real Core at " + p + " (outside CI); CI requires them")
	}
	return p
}

// hostileCassette is a cassette whose node answers with a version whose
// user agent clears the screen.
const hostileCassette = `{"type":"cassette","format":1,"network":"regtest","source":"recorded","redacted":false}
{"type":"conn","id":1,"client":"127.0.0.1:5000","node":"127.0.0.1:18444","transport":"v1","start":"2026-12-03T10:00:00Z"}
{"type":"event","conn":1,"from":"node","t_us":1500,"msgs":[{"cmd":"version","len":102,"version":{"protocol":70016,"services":1033,"timestamp":0,"addr_recv":"[::]:0","nonce":7,"user_agent":"/evil\u001b[2J;/","start_height":0,"relay":true}}]}
{"type":"event","conn":1,"from":"node","t_us":2500,"close":"rst"}
{"type":"end","conn":1,"how":"rst","by":"node","t_us":2500}
`

var _ = Describe("btc-handshake cassette and diagram", func() {
	var dir string
	BeforeEach(func() { dir = GinkgoT().TempDir() })

	It("imports the Core pcap, one connection per TCP stream, and shows it", func() {
		out := filepath.Join(dir, "core.cassette")
		s := run("cassette", "import", corePcap(), "--port", "28484", "-o", out)
		Eventually(s).Should(gexec.Exit(0))
		Expect(string(s.Err.Contents())).To(ContainSubstring("38 connections"))
		s = run("cassette", "show", out)
		Eventually(s).Should(gexec.Exit(0))
		text := string(s.Out.Contents())
		Expect(text).To(ContainSubstring("source pcap (core-v30-v2off-inbound.pcap), redacted, 38 connections"))
		Expect(text).To(MatchRegexp(`conn 1  v1  client 192\.0\.2\.1:60126 → node 198\.51\.100\.1:28484`))
		Expect(text).To(MatchRegexp(`(?m)^\s+1\.279 ms  C ← N  version\s+102 B  protocol=70016 services=0x409 ua="/Satoshi:30\.0\.0/"`))
		Expect(text).NotTo(ContainSubstring("127.0.0.1"))

		s = run("diagram", out)
		Eventually(s).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("    N->>C: version (102 B) 70016 /Satoshi#58;30.0.0/ at 1.279 ms\n"))
	})

	It("keeps nothing with a filter that matches no stream", func() {
		s := run("cassette", "import", corePcap(), "--port", "1", "--no-redact")
		Eventually(s).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(HavePrefix(`{"type":"cassette","format":1,"network":"mainnet","source":"pcap"`))
		Expect(string(s.Out.Contents())).NotTo(ContainSubstring(`"type":"conn"`))
	})

	It("escapes a user agent that would clear the screen, in show and in diagram", func() {
		path := filepath.Join(dir, "hostile.cassette")
		Expect(os.WriteFile(path, []byte(hostileCassette), 0o600)).To(Succeed())
		s := run("cassette", "show", path)
		Eventually(s).Should(gexec.Exit(0))
		Expect(s.Out.Contents()).NotTo(ContainSubstring("\x1b"))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`ua="/evil\x1b[2J;/"`))
		Expect(string(s.Out.Contents())).To(ContainSubstring("ended: rst by node at 2.500 ms"))
		s = run("diagram", path)
		Eventually(s).Should(gexec.Exit(0))
		Expect(s.Out.Contents()).NotTo(ContainSubstring("\x1b"))
		Expect(string(s.Out.Contents())).To(ContainSubstring(`N->>C: version (102 B) 70016 /evil\x1b[2J#59;/ at 1.500 ms`))
		Expect(string(s.Out.Contents())).To(ContainSubstring("Note over C,N: ended: node rst at 2.500 ms"))
	})

	It("draws our --json output, one diagram per peer", func() {
		path := filepath.Join(dir, "peers.ndjson")
		Expect(os.WriteFile(path, []byte(`{"type":"peer","address":"10.0.0.1:8333","ok":true,"messages":[{"dir":"sent","command":"version","size":102,"at_ms":0.5},{"dir":"received","command":"verack","size":0,"at_ms":1.25}]}
{"type":"summary","command":"connect","total":1,"passed":1}
`), 0o600)).To(Succeed())
		s := run("diagram", path)
		Eventually(s).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("    participant N as node 10.0.0.1#58;8333\n    C->>N: version (102 B) at 0.500 ms\n    N->>C: verack (0 B) at 1.250 ms\n"))
	})

	It("refuses bad input with one line and exit 2", func() {
		bad := filepath.Join(dir, "bad.cassette")
		Expect(os.WriteFile(bad, []byte(`{"type":"cassette","format":1}`+"\n"+`{"type":"event","conn":1,"from":"node","t_us":0,"bytes":"!!"}`), 0o600)).To(Succeed())
		for _, args := range [][]string{
			{"cassette", "show", bad},
			{"diagram", bad},
			{"cassette", "import", filepath.Join(dir, "missing.pcap")},
			{"cassette", "import", bad, "--host", "not-an-ip"},
		} {
			s := run(args...)
			Eventually(s).Should(gexec.Exit(2), "%v", args)
			Expect(string(s.Err.Contents())).To(MatchRegexp(`^btc-handshake: [^\n]+\n$`), "%v", args)
		}
	})
})
