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

// btcdMisses are the scenarios where btcd v0.26.2's peer package does not
// reach the verdict a Core-like client reaches, and why (read from
// peer/peer.go and wire/v2). The README's table is this map.
var btcdMisses = map[string]string{
	"sendheaders-before-verack":                 "waitToFinishNegotiation accepts only sendaddrv2 and verack; a known message such as sendheaders is ErrInvalidHandshake",
	"sendcmpct-sendheaders-burst-before-verack": "same: sendheaders during negotiation is ErrInvalidHandshake (sendcmpct alone is unknown to btcd and skipped)",
	"ping-before-verack":                        "same: ping during negotiation is ErrInvalidHandshake",
	"unknown-and-ping-before-verack":            "the unknown command is skipped, the ping is ErrInvalidHandshake",
	"feefilter-before-verack":                   "feefilter during negotiation is ErrInvalidHandshake",
	"duplicate-version":                         "a second version during negotiation is ErrInvalidHandshake (Core ignores it)",
	"verack-before-version":                     "readRemoteVersionMsg requires version to be the first message",
	"message-before-version":                    "readRemoteVersionMsg requires version to be the first message",
	"version-trailing-bytes":                    "MsgVersion.BtcDecode rejects bytes after relay (Core ignores them)",
	"verack-with-payload":                       "wire's per-command limit for verack is 0 bytes (Core never reads a verack's payload)",
	"bad-checksum-before-verack":                "ReadMessage's checksum error ends the negotiation (Core drops the frame and goes on)",
	"version-below-minimum":                     "btcd accepts versions down to 209 (MinAcceptableProtocolVersion), Core refuses below 31800",
	"version-209":                               "btcd accepts 209, its own minimum; Core refuses below 31800",
}

// btcdRaces are scenarios btcd misses only when a race goes one way; the
// spec accepts either outcome for them.
var btcdRaces = map[string]string{
	"close-after-verack": "btcd reads frames straight from the socket and writes its own verack before reading the peer's; when that write draws a reset before btcd reads, the reset discards the peer's verack still unread in the kernel",
}

var _ = Describe("the scenario catalog against btcd's peer package", func() {
	It("reaches every verdict except the documented differences", func() {
		js := harness.Run(context.Background(), btcdClient(time.Second), scenarios.All(), catalogOpts)
		Expect(js).To(HaveLen(len(scenarios.All())))
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
