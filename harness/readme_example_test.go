package harness_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// myClient is the client under test: any Go function that attempts the
// handshake with addr on net by ctx's deadline and says what happened.
func myClient(ctx context.Context, addr string, net wire.Network) harness.Outcome {
	res, _ := handshake.Dial(ctx, addr, handshake.Config{Network: net})
	return harness.FromResult(res)
}

// With plain testing: the client against the v1 catalog, scenarios in parallel.
func TestMyClientAgainstTheCatalog(t *testing.T) {
	opts := harness.Options{ClientTimeout: time.Second}
	for _, j := range harness.Run(t.Context(), harness.Client(myClient), opts, scenarios.All().Transport("v1")...) {
		if !j.Passed() {
			t.Errorf("%s: expected %s: %v", j.Scenario, j.Expected, j.Reasons)
		}
	}
}

// With Ginkgo and Gomega: a mock peer in a spec, and one Entry per scenario.
var _ = Describe("my client", func() {
	It("completes with a Core peer that sends sendheaders before its verack", func(ctx SpecContext) {
		// A mock peer, ready on return, closed (and its scripts checked) at cleanup.
		srv := mockpeer.NewServer(mockpeer.WithFailHandler(Fail))
		DeferCleanup(srv.Close)
		srv.SetDefaultScript(mockpeer.CoreResponder().Before(wire.CmdVerack, wire.SendHeaders{}).Script())

		res, err := handshake.Dial(ctx, srv.Addr(), handshake.Config{Network: wire.Regtest, Timeout: time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(harness.CompleteHandshake())
		Expect(res).To(harness.HaveQuirk(handshake.QuirkSendHeadersBeforeVerack))
	})

	var entries []TableEntry
	for _, sc := range scenarios.All().Transport("v1") {
		entries = append(entries, Entry(sc.Name, sc))
	}
	DescribeTable("against each scenario of the catalog",
		func(ctx SpecContext, sc scenarios.Scenario) {
			js := harness.Run(ctx, harness.Client(myClient), harness.Options{ClientTimeout: time.Second}, sc)
			Expect(js).To(harness.PassVerdict())
		},
		entries,
	)
})
