package harness_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

// ourV2Client is our client with the scenario's transport; its garbage
// is fixed below 4095 bytes so that btcd's scan defect (v2-btcd-responder)
// does not make one run in 4096 take the scenario's other outcome.
var ourV2Client = harness.GoClient(handshake.Config{Timeout: time.Second, V2GarbageLen: 1000})

func v2Entries() []TableEntry {
	all, _ := scenarios.ForTransport("all")
	var entries []TableEntry
	for _, sc := range all {
		if sc.HasTag("v2") {
			entries = append(entries, Entry(fmt.Sprintf("%s (%s): %s", sc.Name, sc.TransportOf(), sc.Expect), sc.Name))
		}
	}
	return entries
}

var _ = Describe("the v2 scenario catalog against our client", func() {
	It("has at least 25 v2 scenarios, each with an origin, a summary and a transport", func() {
		v2, ok := scenarios.ForTransport("v2")
		Expect(ok).To(BeTrue())
		auto, _ := scenarios.ForTransport("auto")
		Expect(len(v2) + len(auto)).To(BeNumerically(">=", 25))
		Expect(auto).NotTo(BeEmpty())
		for _, sc := range append(v2, auto...) {
			Expect(sc.Origin).NotTo(BeEmpty(), sc.Name)
			Expect(sc.Summary).NotTo(BeEmpty(), sc.Name)
			Expect(sc.HasTag("v2")).To(BeTrue(), sc.Name)
		}
		v1, _ := scenarios.ForTransport("v1")
		Expect(v1).To(HaveLen(len(scenarios.All())))
	})

	DescribeTable("each v2 scenario's verdict, with the scenario's transport, quirks required (strict)",
		func(name string) {
			sc, ok := scenarios.Get(name)
			Expect(ok).To(BeTrue())
			opts := catalogOpts
			opts.Strict = true
			j := harness.RunOne(context.Background(), ourV2Client, sc, opts)
			Expect(j).To(harness.PassVerdict(), "mock notes: %s", strings.Join(j.MockNotes, "\n"))
			Expect(j.Behaviour).To(Equal(sc.Expect.Behaviour))
			Expect(j.Witness.Connected).To(BeTrue())
			if sc.Expect.Complete {
				Expect(j).To(harness.CompleteHandshake())
				for _, q := range sc.Expect.Quirks {
					Expect(j).To(harness.HaveQuirk(q))
				}
			} else {
				if sc.Expect.Kind != "" { // "" accepts any kind
					Expect(j).To(harness.FailWithKind(sc.Expect.Kind))
				}
				Expect(j).To(harness.FailInPhase(sc.Expect.Phase))
			}
		},
		v2Entries(),
	)
})
