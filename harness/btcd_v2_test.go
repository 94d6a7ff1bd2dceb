package harness_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

// btcdV2Misses are the v2 scenarios where btcd v0.26.2's peer package with
// UsingV2Conn (v2transport v1.1.0) reaches none of the correct outcomes,
// and why (read from peer/peer.go and v2transport/transport.go).
var btcdV2Misses = map[string]string{
	"v2-garbage-4095":       "v2transport's terminator scan stops one byte short of 4095+16: the terminator after exactly 4095 bytes of garbage is never found and the handshake fails",
	"v1-only-closes-on-key": "negotiateOutboundProtocol returns ErrShouldDowngradeToV1 and the peer disconnects; the v1 redial is left to btcd's connection manager (server.go), not the peer package",
}

// btcdV2Races are scenarios whose mock picks its garbage length at
// random, as Core and btcd do: btcd misses them in 1 run of 4096 (the
// 4095-byte garbage above); the spec accepts either outcome.
var btcdV2Races = map[string]bool{"v2-core-v30-responder": true, "v2-btcd-responder": true}

var _ = Describe("the v2 scenarios against btcd's own v2 peer (peer.Config.UsingV2Conn)", func() {
	It("reaches every verdict except the documented differences", func() {
		v2 := scenarios.All().Transport("v2")
		auto := scenarios.All().Transport("auto")
		scs := append(v2, auto...)
		// 3 s: a v2 handshake under -race on a busy machine takes a while.
		opts := catalogOpts
		opts.ClientTimeout = 3 * time.Second
		js := harness.Run(context.Background(), btcdV2Client(opts.ClientTimeout), opts, scs...)
		Expect(js).To(HaveLen(len(scs)))
		missed := map[string]bool{}
		for _, j := range js {
			if !j.Passed() && !btcdV2Races[j.Scenario] {
				missed[j.Scenario] = true
				Expect(btcdV2Misses).To(HaveKey(j.Scenario), "btcd v2 unexpectedly misses %s: %v", j.Scenario, j.Reasons)
			}
		}
		for name, why := range btcdV2Misses {
			Expect(missed).To(HaveKey(name), "btcd v2 was expected to miss %s (%s) but passed", name, why)
		}
	})
})
