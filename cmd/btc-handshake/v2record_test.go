package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/handshake"
)

var _ = Describe("btc-handshake --record of a v2 handshake", func() {
	It("records the decrypted messages and the session, which cassette show and diagram use", func() {
		dir := GinkgoT().TempDir()
		addr := serveMock("--scenario", "v2-core-v30-responder")
		tape := filepath.Join(dir, "v2.cassette")
		s := run("--connect", addr, "-n", "regtest", "-t", "3", "--transport", "v2", "--record", tape, "--no-redact", "--json")
		Eventually(s, "10s").Should(gexec.Exit(0))
		var rep handshake.Report
		line, _, _ := strings.Cut(string(s.Out.Contents()), "\n")
		Expect(json.Unmarshal([]byte(line), &rep)).To(Succeed())
		Expect(rep.Transport).To(Equal(handshake.TransportV2))
		Expect(rep.V2).NotTo(BeNil())

		c, err := cassette.ReadFile(tape)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Conns).To(HaveLen(1))
		cn := c.Conns[0]
		Expect(cn.Transport).To(Equal(cassette.TransportV2))
		Expect(cn.V2).To(Equal(&cassette.V2Info{SessionID: rep.V2.SessionID, ClientGarbage: rep.V2.GarbageSent,
			NodeGarbage: rep.V2.GarbageReceived, NodeDecoys: rep.V2.Decoys}))
		byParty := map[string][]string{}
		for _, e := range cn.Events {
			if e.Decrypted {
				byParty[e.From] = append(byParty[e.From], e.Msgs[0].Cmd)
			}
		}
		Expect(byParty[cassette.Client]).To(HaveExactElements("version", "wtxidrelay", "sendaddrv2", "verack"))
		Expect(byParty[cassette.Node]).To(HaveExactElements("version", "wtxidrelay", "sendaddrv2", "verack"))

		s = run("diagram", tape)
		Eventually(s).Should(gexec.Exit(0))
		d := string(s.Out.Contents())
		Expect(d).To(ContainSubstring("Note over C,N: BIP324 v2, session " + rep.V2.SessionID[:16] + "…"))
		for _, arrow := range []string{"C->>N: version (107 B)", "N->>C: version (102 B) 70016", "C->>N: verack", "N->>C: verack"} {
			Expect(d).To(ContainSubstring(arrow))
		}

		s = run("cassette", "show", tape)
		Eventually(s).Should(gexec.Exit(0))
		Expect(string(s.Out.Contents())).To(ContainSubstring("BIP324 v2, session " + rep.V2.SessionID + ", garbage "))
		Expect(string(s.Out.Contents())).To(MatchRegexp(`C ← N  version\s+102 B  protocol=70016`))

		// Redacted by default: the session id too.
		s = run("--connect", addr, "-n", "regtest", "-t", "3", "--transport", "v2", "--record", tape, "--json")
		Eventually(s, "10s").Should(gexec.Exit(0))
		line, _, _ = strings.Cut(string(s.Out.Contents()), "\n")
		Expect(json.Unmarshal([]byte(line), &rep)).To(Succeed())
		text, err := os.ReadFile(tape)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(text)).NotTo(ContainSubstring(rep.V2.SessionID))
		Expect(string(text)).To(ContainSubstring(`"session_id":"52454441435400`))
	})
})
