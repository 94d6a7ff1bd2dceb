package scenarios_test

import (
	"os"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

var kebab = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9.]+)*$`)

var _ = Describe("the catalog", func() {
	all := scenarios.All().Transport("v1")

	It("has at least 40 scenarios with unique kebab-case names", func() {
		Expect(len(all)).To(BeNumerically(">=", 40))
		seen := map[string]bool{}
		for _, s := range all {
			Expect(s.Name).To(MatchRegexp(kebab.String()))
			Expect(seen).NotTo(HaveKey(s.Name), "duplicate %s", s.Name)
			seen[s.Name] = true
		}
		Expect(scenarios.All().Transport("v1").Names()).To(HaveLen(len(all)))
	})

	It("gives every scenario a summary, an origin, a script and a verdict in the client's vocabulary", func() {
		for _, s := range all {
			Expect(s.Summary).NotTo(BeEmpty(), s.Name)
			Expect(s.Origin).NotTo(BeEmpty(), s.Name)
			Expect(s.Script.Len()).To(BeNumerically(">", 0), s.Name)
			Expect(s.TransportOf()).To(Equal("v1"), s.Name)
			if s.Expect.Complete {
				Expect(s.Expect.Kind).To(BeEmpty(), s.Name)
			} else {
				Expect(handshake.Kind(s.Expect.Kind).Known()).To(BeTrue(), s.Name)
				Expect(s.Expect.Phase).To(BeElementOf("connect", "version", "verack"), s.Name)
			}
			for _, q := range s.Expect.Quirks {
				Expect(handshake.Quirk(q).Known()).To(BeTrue(), "%s: %s", s.Name, q)
			}
		}
	})

	It("lists each outcome correct clients may reach, labelled, with how far the client takes part", func() {
		withAlternatives := 0
		for _, s := range all {
			outcomes := s.Expect.Outcomes()
			Expect(outcomes[0].Or).To(BeNil())
			if len(outcomes) > 1 {
				withAlternatives++
				labels := map[scenarios.Behaviour]bool{}
				for _, o := range outcomes {
					Expect(o.Behaviour).To(BeElementOf(scenarios.CoreLike, scenarios.Tolerant, scenarios.Rejecting), s.Name)
					Expect(labels).NotTo(HaveKey(o.Behaviour), "%s labels two outcomes %s", s.Name, o.Behaviour)
					labels[o.Behaviour] = true
				}
				Expect(labels).To(HaveKey(scenarios.CoreLike), "%s has no core-like outcome", s.Name)
			} else {
				Expect(s.Expect.Behaviour).To(BeEmpty(), s.Name)
			}
			for _, o := range outcomes {
				if o.Complete {
					Expect(o.Sent).To(BeEmpty(), "%s: a completion always needs version and verack", s.Name)
					continue
				}
				if o.Kind != "" {
					Expect(handshake.Kind(o.Kind).Known()).To(BeTrue(), s.Name)
				}
				Expect(o.Phase).To(BeElementOf("version", "verack"), s.Name)
				// A failure states how far a correct client goes: its version
				// always, its verack once it has a valid version to answer.
				want := []string{"version"}
				if o.Phase == "verack" {
					want = append(want, "verack")
				}
				Expect(o.Sent).To(Equal(want), "%s: %s", s.Name, o)
			}
		}
		Expect(withAlternatives).To(BeNumerically(">=", 10))
		v, _ := scenarios.All().Get("verack-before-version")
		Expect(v.Expect.Outcomes()).To(HaveLen(3))
		Expect(v.Expect.Or[0]).To(And(
			HaveField("Behaviour", scenarios.CoreLike), HaveField("Kind", "timeout"), HaveField("Phase", "verack")))
	})

	It("covers every quirk of the original tool's log and every peer behaviour of docs/PROTOCOL.md", func() {
		for _, name := range []string{
			// the seed log
			"version-verack-coalesced", "verack-skipped-held", "verack-skipped-closed",
			"sendcmpct-before-verack", "sendheaders-before-verack", "protocol-70012", "protocol-70015",
			// docs/PROTOCOL.md
			"verack-before-version", "duplicate-version", "duplicate-verack", "unknown-and-ping-before-verack",
			"wtxidrelay-after-verack", "sendaddrv2-after-verack", "bad-checksum-before-verack", "invalid-command-bytes",
			"wrong-magic", "length-over-limit", "length-lies-then-close", "truncated-version", "user-agent-257-bytes",
			"minimal-version-46-bytes", "version-without-relay", "version-below-minimum", "nonce-echoed",
			"alert-for-old-version",
			// transport faults
			"silent-after-accept", "one-byte-at-a-time", "header-split-across-writes", "reset-mid-handshake",
			"http-reply", "bip324-v2-responder", "burst-10000-after-verack",
		} {
			_, ok := scenarios.All().Get(name)
			Expect(ok).To(BeTrue(), name)
		}
	})

	It("selects by name, in the order asked, and reports unknown names", func() {
		got, unknown := scenarios.All().Select("wrong-magic", "nope", "http-reply")
		Expect(unknown).To(Equal([]string{"nope"}))
		Expect(got).To(HaveLen(2))
		Expect(got[0].Name).To(Equal("wrong-magic"))
		Expect(got[1].Name).To(Equal("http-reply"))
		all, none := scenarios.All().Select()
		Expect(none).To(BeEmpty())
		Expect(all).To(HaveLen(len(scenarios.All())))
		Expect(scenarios.All().Transport("nope")).To(BeEmpty())
		Expect(scenarios.All().Transport("all")).To(HaveLen(len(scenarios.All())))
		Expect(len(scenarios.All().Transport("v1")) + len(scenarios.All().Transport("v2")) + len(scenarios.All().Transport("auto"))).To(Equal(len(scenarios.All())))
	})

	It("renders verdicts for humans", func() {
		Expect(scenarios.Completes("a", "b").String()).To(Equal("complete [a b]"))
		Expect(scenarios.Fails("timeout", "verack").String()).To(Equal("fail timeout@verack"))
		Expect(scenarios.Fails("").String()).To(Equal("fail"))
	})

	It("is listed in the README, one row per scenario", func() {
		readme, err := os.ReadFile("../README.md")
		Expect(err).NotTo(HaveOccurred())
		lines := strings.Split(string(readme), "\n")
		for _, s := range all {
			row := slices.IndexFunc(lines, func(l string) bool {
				return strings.HasPrefix(l, "| `"+s.Name+"` | "+s.Expect.String()+" |")
			})
			Expect(row).NotTo(Equal(-1), "README has no row for %s (%s)", s.Name, s.Expect)
		}
	})

	It("carries the generated fidelity table (integration/FIDELITY.md) into the README unchanged", func() {
		readme, err := os.ReadFile("../README.md")
		Expect(err).NotTo(HaveOccurred())
		fidelity, err := os.ReadFile("../integration/FIDELITY.md")
		Expect(err).NotTo(HaveOccurred())
		f := string(fidelity)
		i := strings.Index(f, "| probe | rule |")
		Expect(i).NotTo(Equal(-1))
		Expect(string(readme)).To(ContainSubstring(strings.TrimSpace(f[i:])))
	})
})
