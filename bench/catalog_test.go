package bench_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

// catalogTimeout is the client's handshake timeout in the catalog run: it
// bounds the scenarios where the peer stalls, which dominate the wall time.
// The slowest peer that must still complete (slow-verack) answers after
// 300 ms, so the bound leaves it room.
const catalogTimeout = 500 * time.Millisecond

// BenchmarkCatalog runs the whole in-process scenario catalog
// (harness.Run, our GoClient, every scenario a mock peer of its own, 64 at
// a time) and reports its wall time; every scenario must pass. One op is
// one run of the catalog.
func BenchmarkCatalog(b *testing.B) {
	if err := benchCatalog(b, scenarios.All().Transport("v1")); err != nil {
		b.Fatal(err)
	}
}

func benchCatalog(b *testing.B, scs []scenarios.Scenario) error {
	client := harness.GoClient(handshake.Config{Timeout: catalogTimeout})
	opts := harness.Options{ClientTimeout: catalogTimeout, Slack: catalogTimeout}
	var total time.Duration
	runs := 0
	for b.Loop() {
		start := time.Now()
		js := harness.Run(context.Background(), client, opts, scs...)
		total += time.Since(start)
		runs++
		if err := catalogFailures(js); err != nil {
			return err
		}
	}
	b.ReportMetric((total / time.Duration(runs)).Seconds(), "s/catalog")
	b.ReportMetric(float64(len(scs)), "scenarios")
	return nil
}

// catalogFailures describes the scenarios our client did not pass.
func catalogFailures(js []harness.Judgement) error {
	var failed []string
	for _, j := range js {
		if !j.Passed() {
			failed = append(failed, fmt.Sprintf("%s: %s", j.Scenario, strings.Join(j.Reasons, "; ")))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d scenarios failed:\n%s", len(failed), len(js), strings.Join(failed, "\n"))
	}
	return nil
}
