package harness_test

import (
	"context"
	"fmt"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Running the whole catalog against a Go client with plain testing. In a
// test, report each failed judgement with t.Errorf instead of printing it:
//
//	func TestMyClient(t *testing.T) {
//		for _, j := range harness.Run(t.Context(), client, opts, scenarios.All()...) {
//			if !j.Passed() {
//				t.Errorf("%s: %v", j.Scenario, j.Reasons)
//			}
//		}
//	}
//
// With Ginkgo, see the package documentation.
func ExampleRun() {
	// Our own client, which speaks the transport each scenario asks for
	// (v1, v2 or auto); yours is a harness.Client (see Client's
	// example).
	client := harness.GoClient(handshake.Config{Timeout: time.Second})
	opts := harness.Options{ClientTimeout: time.Second}

	js := harness.Run(context.Background(), client, opts, scenarios.All()...)
	for _, j := range js {
		if !j.Passed() {
			fmt.Printf("%s: expected %s: %v\n", j.Scenario, j.Expected, j.Reasons)
		}
	}
	_, failed := js.Counts()
	fmt.Println("failed:", failed)
	// Output: failed: 0
}

// Any client written in Go is a Client: attempt the handshake with
// addr on net, by ctx's deadline, and say what happened in an Outcome.
// Here the client is handshake.Dial; FromResult turns its Result into an
// Outcome with kind, phase and quirks. It speaks v1 only, so it is judged
// on the v1 scenarios.
func ExampleClient() {
	client := harness.Client(func(ctx context.Context, addr string, net wire.Network) harness.Outcome {
		res, _ := handshake.Dial(ctx, addr, handshake.Config{Network: net})
		return harness.FromResult(res)
	})
	scs, _ := scenarios.All().Select("sendheaders-before-verack", "verack-skipped-closed")
	for _, j := range harness.Run(context.Background(), client, harness.Options{ClientTimeout: time.Second}, scs...) {
		fmt.Println(j.Scenario, "passed:", j.Passed())
	}
	// Output:
	// sendheaders-before-verack passed: true
	// verack-skipped-closed passed: true
}

// Judging an external command. This one exits 0 without connecting: it
// claims a handshake the mock peer never saw, which the harness does not
// believe.
func ExampleCommandClient() {
	client := harness.CommandClient("true {addr}")
	sc, _ := scenarios.All().Get("core-v30-responder")
	j := harness.Run(context.Background(), client, harness.Options{ClientTimeout: time.Second}, sc)[0]
	fmt.Println("completed:", j.Outcome.Completed, "passed:", j.Passed())
	for _, r := range j.Reasons {
		fmt.Println(r)
	}
	// Output:
	// completed: true passed: false
	// the client never connected to the mock peer (it reported success)
}

// Probing a node: here a mock playing Bitcoin Core, judged against the
// Core model. conform runs every probe of the model (no probes given).
func ExampleRunProbes() {
	node := mockpeer.NewServer()
	defer node.Close()
	node.SetDefaultScript(mockpeer.CoreResponder().V2Transport(nil).Script())

	probes, _ := scenarios.Probes().Select("ping-before-verack", "wrong-magic")
	js := harness.RunProbes(context.Background(), node.Addr(), harness.ProbeOptions{Model: scenarios.ModelCore}, probes...)
	for _, j := range js {
		fmt.Println(j.Probe, j.Verdict(), j.Observation.Summary())
	}
	// Output:
	// ping-before-verack pass nothing → open
	// wrong-magic pass nothing → closed
}
