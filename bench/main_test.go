package bench_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks, after the suite and every benchmark have run, that no
// goroutine is left behind (issue 6, item 4: a leak check in every
// suite). The suite has no specs; the benchmarks start servers, peers and
// clients, and must stop them all.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/onsi/ginkgo/v2/internal/interrupt_handler.(*InterruptHandler).registerForInterrupts.func2"))
}
