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
	all := scenarios.All()
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
		v2 := scenarios.All().Transport("v2")
		auto := scenarios.All().Transport("auto")
		Expect(len(v2) + len(auto)).To(BeNumerically(">=", 25))
		Expect(auto).NotTo(BeEmpty())
		for _, sc := range append(v2, auto...) {
			Expect(sc.Origin).NotTo(BeEmpty(), sc.Name)
			Expect(sc.Summary).NotTo(BeEmpty(), sc.Name)
			Expect(sc.HasTag("v2")).To(BeTrue(), sc.Name)
		}
		Expect(scenarios.All().Transport("v1")).NotTo(ContainElement(HaveField("Transport", "v2")))
	})

	DescribeTable("each v2 scenario's verdict, with the scenario's transport, quirks required (strict)",
		func(name string) {
			sc, ok := scenarios.All().Get(name)
			Expect(ok).To(BeTrue())
			opts := catalogOpts
			opts.Strict = true
			j := harness.Run(context.Background(), ourV2Client, opts, sc)[0]
			Expect(j).To(harness.PassVerdict(), "mock notes: %s", strings.Join(j.MockNotes, "\n"))
			Expect(j.Behaviour).To(Equal(sc.Expect.Behaviour))
			Expect(j.Witness.Connected).To(BeTrue())
			if sc.Expect.Complete {
				Expect(j).To(harness.CompleteHandshake())
				for _, q := range sc.Expect.Quirks {
					Expect(j).To(harness.HaveQuirk(q))
				}
			} else {
				Expect(j).To(harness.FailWith(sc.Expect.Kind, handshake.Phase(sc.Expect.Phase)))
			}
		},
		v2Entries(),
	)
})
