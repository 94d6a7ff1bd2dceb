package harness_test

import (
	"context"
	"os"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

// btcdMisses are the scenarios where btcd v0.26.2's peer package reaches
// none of the outcomes a correct client may reach, and why (read from
// peer/peer.go and wire/v2). The README's table is this map.
var btcdMisses = map[string]string{
	"sendheaders-before-verack":                 "waitToFinishNegotiation accepts only sendaddrv2 and verack; a known message such as sendheaders is ErrInvalidHandshake",
	"sendcmpct-sendheaders-burst-before-verack": "same: sendheaders during negotiation is ErrInvalidHandshake (sendcmpct alone is unknown to btcd and skipped)",
	"version-trailing-bytes":                    "MsgVersion.BtcDecode rejects bytes after relay (Core ignores them)",
}

// btcdBehaviours are the scenarios where btcd reaches another correct
// outcome than Core: it drops peers that send what no correct peer sends
// (rejecting), and its minimum protocol version is 209 (tolerant).
var btcdBehaviours = map[string]scenarios.Behaviour{
	"verack-before-version":          scenarios.Rejecting, // readRemoteVersionMsg requires version first
	"message-before-version":         scenarios.Rejecting,
	"duplicate-version":              scenarios.Rejecting, // ErrInvalidHandshake during negotiation
	"ping-before-verack":             scenarios.Rejecting,
	"unknown-and-ping-before-verack": scenarios.Rejecting,
	"feefilter-before-verack":        scenarios.Rejecting,
	"verack-with-payload":            scenarios.Rejecting, // wire's limit for verack is 0 bytes
	"bad-checksum-before-verack":     scenarios.Rejecting, // ReadMessage's checksum error ends the negotiation
	"version-below-minimum":          scenarios.Tolerant,  // MinAcceptableProtocolVersion is 209
	"version-209":                    scenarios.Tolerant,
}

// btcdRaces are scenarios btcd misses only when a race goes one way; the
// spec accepts either outcome for them.
var btcdRaces = map[string]string{
	"close-after-verack": "btcd reads frames straight from the socket and writes its own verack before reading the peer's; when that write draws a reset before btcd reads, the reset discards the peer's verack still unread in the kernel",
}

var _ = Describe("the scenario catalog against btcd's peer package", func() {
	It("reaches every verdict except the documented differences", func() {
		js := harness.Run(context.Background(), btcdClient(time.Second), catalogOpts, scenarios.All().Transport("v1")...)
		Expect(js).To(HaveLen(len(scenarios.All().Transport("v1"))))
		missed := map[string]bool{}
		for _, j := range js {
			if _, racy := btcdRaces[j.Scenario]; racy {
				continue
			}
			if !j.Passed() {
				missed[j.Scenario] = true
				Expect(btcdMisses).To(HaveKey(j.Scenario), "btcd unexpectedly misses %s: %v", j.Scenario, j.Reasons)
			}
		}
		for name := range btcdMisses {
			Expect(missed).To(HaveKey(name), "btcd was expected to miss %s (%s) but passed", name, btcdMisses[name])
		}
		for _, j := range js {
			if want, ok := btcdBehaviours[j.Scenario]; ok {
				Expect(j.Behaviour).To(Equal(want), j.Scenario)
			}
		}
		readme, err := os.ReadFile("../README.md")
		Expect(err).NotTo(HaveOccurred())
		for name, why := range btcdMisses {
			Expect(string(readme)).To(MatchRegexp("(?m)^\\| `%s` \\| (fails|completes) \\| %s \\|$", regexp.QuoteMeta(name), regexp.QuoteMeta(why)),
				"README's btcd table must list %s", name)
		}
		for name, why := range btcdRaces {
			Expect(string(readme)).To(MatchRegexp("(?m)^\\| `%s` \\| fails at random \\| %s \\|$", regexp.QuoteMeta(name), regexp.QuoteMeta(why)),
				"README's btcd table must list %s", name)
		}
	})
})
