package scenarios_test

import (
	"fmt"
	"slices"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

var _ = Describe("the probe catalog", func() {
	probes := scenarios.Probes().Transport("v1")

	It("covers every expectation of docs/PROTOCOL.md's \"How Core treats a peer\" (1 to 13) and the v2 note", func() {
		rules := map[string]int{}
		for _, p := range probes {
			rules[p.Rule]++
		}
		for i := 1; i <= 13; i++ {
			Expect(rules).To(HaveKey(strconv.Itoa(i)), "no probe for expectation %d", i)
		}
		Expect(rules).To(HaveKey("v2"))
		Expect(rules).To(HaveLen(14), "a probe names a rule that docs/PROTOCOL.md does not have")
	})

	It("has unique kebab-case names, a summary, an origin, and a reaction for core and btcd", func() {
		seen := map[string]bool{}
		for _, p := range probes {
			Expect(p.Name).To(MatchRegexp(`^[a-z0-9]+(-[a-z0-9]+)*$`))
			Expect(seen).NotTo(HaveKey(p.Name), "duplicate %s", p.Name)
			seen[p.Name] = true
			Expect(p.Summary).NotTo(BeEmpty(), p.Name)
			Expect(p.Origin).NotTo(BeEmpty(), p.Name)
			Expect(p.TransportOf()).To(Equal("v1"))
			Expect(p.Script.Name()).To(Equal(p.Name))
			for _, profile := range []scenarios.Model{scenarios.ModelCore, scenarios.ModelBtcd} {
				r, ok := p.ExpectFor(profile)
				Expect(ok).To(BeTrue(), "%s has no %s reaction", p.Name, profile)
				Expect(r.End).NotTo(BeEmpty(), "%s/%s says nothing of the connection's end", p.Name, profile)
				Expect(r.End == scenarios.EndTimeout).To(Equal(p.Slow), "%s: only slow probes wait for the peer timeout", p.Name)
			}
			for profile := range p.Expect {
				Expect(scenarios.Models()).To(ContainElement(profile))
			}
		}
	})

	It("falls back from core-v2 to core, and only there", func() {
		p, ok := scenarios.Probes().Get("ping-after-verack")
		Expect(ok).To(BeTrue())
		core, _ := p.ExpectFor(scenarios.ModelCore)
		v2, ok := p.ExpectFor(scenarios.ModelCoreV2)
		Expect(ok).To(BeTrue())
		Expect(v2).To(Equal(core))
		_, ok = p.ExpectFor("bitcoin-xt")
		Expect(ok).To(BeFalse())

		first, _ := scenarios.Probes().Get("verack-before-version")
		v2, _ = first.ExpectFor(scenarios.ModelCoreV2)
		Expect(v2.NonV1).To(BeTrue())
	})

	It("says where core and btcd differ, probe by probe", func() {
		differ := 0
		for _, p := range probes {
			if fmt.Sprint(p.Expect[scenarios.ModelCore]) != fmt.Sprint(p.Expect[scenarios.ModelBtcd]) {
				differ++
			}
		}
		Expect(differ).To(BeNumerically(">=", 15))
	})

	It("selects by name, in the order given, and reports unknown names", func() {
		sel, unknown := scenarios.Probes().Select("self-connection", "nope", "silent-peer")
		Expect(unknown).To(Equal([]string{"nope"}))
		Expect([]string{sel[0].Name, sel[1].Name}).To(Equal([]string{"self-connection", "silent-peer"}))
		all, unknown := scenarios.Probes().Select()
		Expect(unknown).To(BeEmpty())
		Expect(all).To(HaveLen(len(scenarios.Probes())))
		Expect(scenarios.Probes().Transport("v1").Names()).To(HaveLen(len(probes)))
		Expect(slices.Contains(scenarios.Probes().Transport("v1").Names(), "no-verack")).To(BeTrue())
	})

	DescribeTable("renders reactions for people",
		func(r scenarios.Expectation, want string) { Expect(r.String()).To(Equal(want)) },
		Entry(nil, scenarios.Expectation{Silent: true, End: scenarios.EndOpen}, "nothing → open"),
		Entry(nil, scenarios.Expectation{Silent: true, End: scenarios.EndClosed}, "nothing → closed"),
		Entry(nil, scenarios.Expectation{Sends: []string{"reject"}, Only: []string{}, End: scenarios.EndClosed}, "reject → closed"),
		Entry(nil, scenarios.Expectation{Sends: []string{"version", "verack"}, Only: []string{}, End: scenarios.EndOpen}, "version verack → open"),
		Entry(nil, scenarios.Expectation{Sends: []string{"pong"}, EchoNonce: true, End: scenarios.EndOpen}, "pong(same nonce) … → open"),
		Entry(nil, scenarios.Expectation{End: scenarios.EndTimeout}, "anything → closed at the peer timeout"),
		Entry(nil, scenarios.Expectation{Sends: []string{"version"}, Only: []string{}, End: scenarios.EndOpen}.Then(scenarios.EndTimeout), "version → closed at the peer timeout"),
	)
})

var _ = Describe("the v2 probe catalog", func() {
	v2 := scenarios.Probes().Transport("v2")

	It("has unique names beside the v1 probes, an origin citing Core or BIP324, and a reaction for core-v2 and btcd-v2", func() {
		seen := map[string]bool{}
		for _, p := range scenarios.Probes().Transport("v1") {
			seen[p.Name] = true
		}
		rules := map[string]bool{}
		for _, p := range v2 {
			Expect(p.Name).To(MatchRegexp(`^v2-[a-z0-9]+(-[a-z0-9]+)*$`))
			Expect(seen).NotTo(HaveKey(p.Name), "duplicate %s", p.Name)
			seen[p.Name] = true
			Expect(p.Script.Name()).To(Equal(p.Name))
			Expect(p.Origin).To(Or(ContainSubstring("Bitcoin Core"), ContainSubstring("BIP324")), p.Name)
			Expect(p.Origin).To(ContainSubstring("btcd"), p.Name)
			rules[p.Rule] = true
			for _, profile := range []scenarios.Model{scenarios.ModelCoreV2, scenarios.ModelBtcdV2} {
				r, ok := p.Expect[profile]
				Expect(ok).To(BeTrue(), "%s has no %s reaction of its own", p.Name, profile)
				Expect(r.End == scenarios.EndTimeout).To(Equal(p.Slow), "%s/%s: only slow probes wait for the peer timeout", p.Name, profile)
			}
		}
		Expect(rules).To(HaveLen(9))
		Expect(len(v2)).To(BeNumerically(">=", 16))
	})

	It("tells btcd --v2transport from Core: the 4095-garbage probe among others", func() {
		differ := map[string]bool{}
		for _, p := range v2 {
			if p.Expect[scenarios.ModelCoreV2].String() != p.Expect[scenarios.ModelBtcdV2].String() {
				differ[p.Name] = true
			}
		}
		Expect(differ).To(HaveKey("v2-garbage-4095"))
		// btcd reads a 4,111th byte before giving up: at 64+4,110 it still
		// waits, as Core does (real btcd --v2transport, the integration lanes).
		Expect(differ).NotTo(HaveKey("v2-4110-zero-bytes"))
	})

	It("is run for the v2 profiles after the v1 probes, and found by name", func() {
		Expect(scenarios.ModelCore.Probes()).To(HaveLen(len(scenarios.Probes().Transport("v1"))))
		Expect(scenarios.ModelBtcd.Probes()).To(HaveLen(len(scenarios.Probes().Transport("v1"))))
		both := scenarios.ModelBtcdV2.Probes()
		Expect(both).To(HaveLen(len(scenarios.Probes().Transport("v1")) + len(v2)))
		Expect(both[len(both)-1].Name).To(Equal(v2[len(v2)-1].Name))
		Expect(scenarios.ModelCoreV2.Probes()).To(HaveLen(len(both)))
		Expect(scenarios.ModelBtcdV2.V2()).To(BeTrue())
		Expect(scenarios.ModelBtcd.V2()).To(BeFalse())
		for _, p := range v2 {
			Expect(p.TransportOf()).To(Equal("v2"), p.Name)
		}
		sel, unknown := scenarios.Probes().Select("v2-rekey", "ping-after-verack")
		Expect(unknown).To(BeEmpty())
		Expect(sel[0].Name).To(Equal("v2-rekey"))
		_, ok := scenarios.Probes().Get("v2-garbage-4096")
		Expect(ok).To(BeTrue())
		Expect(scenarios.Probes().Transport("v1").Names()).NotTo(ContainElement("v2-rekey"), "the v1 catalog stays as it is")
	})

	It("falls back from btcd-v2 to btcd where btcd --v2transport does what btcd does", func() {
		p, _ := scenarios.Probes().Get("ping-after-verack")
		btcd, _ := p.ExpectFor(scenarios.ModelBtcd)
		r, ok := p.ExpectFor(scenarios.ModelBtcdV2)
		Expect(ok).To(BeTrue())
		Expect(r).To(Equal(btcd))
		first, _ := scenarios.Probes().Get("verack-before-version")
		r, _ = first.ExpectFor(scenarios.ModelBtcdV2)
		Expect(r.NonV1).To(BeTrue())
		Expect(scenarios.Models()).To(Equal([]scenarios.Model{"core", "core-v2", "btcd", "btcd-v2"}))
	})
})
