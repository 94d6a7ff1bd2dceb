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

// ourClient is our own client as the harness runs it: 1 s handshake timeout.
var ourClient = harness.GoClient(handshake.Config{Timeout: time.Second})

var catalogOpts = harness.Options{ClientTimeout: time.Second, Slack: 500 * time.Millisecond}

func catalogEntries() []TableEntry {
	var entries []TableEntry
	for _, sc := range scenarios.All() {
		entries = append(entries, Entry(fmt.Sprintf("%s: %s", sc.Name, sc.Expect), sc.Name))
	}
	return entries
}

var _ = Describe("the scenario catalog against our client", func() {
	DescribeTable("each scenario's verdict",
		func(name string) {
			sc, ok := scenarios.Get(name)
			Expect(ok).To(BeTrue())
			j := harness.RunOne(context.Background(), ourClient, sc, catalogOpts)
			Expect(j).To(harness.PassVerdict(), "mock notes: %s", strings.Join(j.MockNotes, "\n"))
			if sc.Expect.Complete {
				Expect(j).To(harness.CompleteHandshake())
				for _, q := range sc.Expect.Quirks {
					Expect(j).To(harness.HaveQuirk(q))
				}
			} else {
				Expect(j).To(harness.FailWithKind(sc.Expect.Kind))
				if sc.Expect.Phase != "" {
					Expect(j).To(harness.FailInPhase(sc.Expect.Phase))
				}
			}
		},
		catalogEntries(),
	)
})
