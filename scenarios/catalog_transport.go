package scenarios

import (
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// catalogConnection is peers that stay silent, hang up or reset.
func catalogConnection() []Scenario {
	return []Scenario{
		// --- transport faults ---
		{
			Name: "silent-after-accept", Tags: []string{tagTransport, tagTiming},
			Summary: "accepts the connection and never says anything",
			Origin:  logDeadline,
			Script:  mockpeer.NewScript("silent-after-accept", mockpeer.HoldOpen()),
			Expect:  sent(Fails(kTimeout, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "close-before-version", Tags: []string{tagTransport},
			Summary: "reads our version and hangs up",
			Origin:  logFillBuffer,
			Script:  mockpeer.NewScript("close-before-version", expectVersion(), mockpeer.Do((*mockpeer.Conn).Close)),
			Expect:  sent(Fails(kPeerClosed, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "reset-before-version", Tags: []string{tagTransport},
			Summary: "reads our version and resets the connection (RST)",
			Origin:  "observed: peers at their connection limit",
			Script:  mockpeer.NewScript("reset-before-version", expectVersion(), mockpeer.Do((*mockpeer.Conn).Reset)),
			Expect:  sent(Fails(kReset, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "reset-mid-handshake", Tags: []string{tagTransport},
			Summary: "sends its version, waits for our verack, then resets",
			Origin:  "observed: peers that evict on connection limits mid-handshake",
			Script:  mockpeer.NewScript("reset-mid-handshake", expectVersion(), replyWith(nil), mockpeer.Expect(wire.CmdVerack), mockpeer.Do((*mockpeer.Conn).Reset)),
			Expect:  sent(Fails(kReset, phaseVerack), wire.CmdVersion, wire.CmdVerack),
		},
		{
			Name: "half-close-before-verack", Tags: []string{tagTransport},
			Summary: "sends its version, then closes its write side (FIN) without a verack",
			Origin:  logFillBuffer,
			Script:  mockpeer.NewScript("half-close-before-verack", expectVersion(), replyWith(nil), mockpeer.Do((*mockpeer.Conn).CloseWrite), mockpeer.HoldOpen()),
			Expect:  sent(Fails(kPeerClosed, phaseVerack), wire.CmdVersion, wire.CmdVerack),
		},
		{
			Name: "close-after-verack", Tags: []string{tagTransport},
			Summary: "completes the handshake and hangs up at once (the handshake did complete)",
			Origin:  "observed: crawlers and peers at their limit",
			// The client's verack is read before the hang-up: it is the
			// witness that the client completed its side.
			Script: mockpeer.NewScript("close-after-verack", expectVersion(), replyWith(nil, wire.Verack{}),
				readUntil(wire.CmdVerack, time.Second), mockpeer.Do((*mockpeer.Conn).Close)),
			Expect: Completes(),
		},
	}
}

// catalogDelivery is how the bytes arrive: one at a time, split, too
// slowly, not in Bitcoin's framing, in a flood, or late.
func catalogDelivery() []Scenario {
	return []Scenario{
		{
			Name: "one-byte-at-a-time", Tags: []string{tagTransport, tagTiming},
			Summary: "writes version and verack one byte per TCP write",
			Origin:  "the original tool read the socket once and lost bytes",
			Script: mockpeer.NewScript("one-byte-at-a-time", expectVersion(),
				mockpeer.Send(version(nil), wire.Verack{}).Dribble(1, 0), mockpeer.HoldOpen()),
			Expect: Completes(),
		},
		{
			Name: "header-split-across-writes", Tags: []string{tagTransport},
			Summary: "every header arrives in two writes, 10 ms apart, split mid-command",
			Origin:  "TCP gives no message boundaries; btcd writes header and payload separately",
			Script: mockpeer.NewScript("header-split-across-writes", expectVersion(),
				mockpeer.Send(version(nil), wire.Verack{}).Dribble(10, 10*time.Millisecond), mockpeer.HoldOpen()),
			Expect: Completes(),
		},
		{
			Name: "trickle-past-deadline", Tags: []string{tagTransport, tagTiming},
			Summary: "sends its version one byte every 100 ms, far slower than any handshake timeout",
			Origin:  "slowloris-style peers; every read needs a deadline",
			Script: mockpeer.NewScript("trickle-past-deadline", expectVersion(),
				mockpeer.Send(version(nil), wire.Verack{}).Dribble(1, 100*time.Millisecond), mockpeer.HoldOpen()),
			Expect: sent(Fails(kTimeout, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "http-reply", Tags: []string{tagTransport, tagMalformed},
			Summary: "answers with an HTTP response instead of a Bitcoin header",
			Origin:  "observed: web servers on port 8333",
			Script: mockpeer.NewScript("http-reply", expectVersion(),
				mockpeer.SendRaw([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")), mockpeer.HoldOpen()),
			Expect: sent(Fails(kBadMagic, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "bip324-v2-responder", Tags: []string{tagTransport},
			Summary: "answers like a BIP324 v2-only node: a 64-byte ElligatorSwift key and garbage, no v1 header",
			Origin:  "BIP324; PROTOCOL.md §5 (v2 transport on)",
			Script: mockpeer.NewScript("bip324-v2-responder", expectVersion(),
				mockpeer.SendRaw(pseudoRandom(64+123, 324)), mockpeer.HoldOpen()),
			Expect: sent(Fails(kBadMagic, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "burst-10000-after-verack", Tags: []string{tagTransport},
			Summary: "once the client's verack arrives, 10,000 inv messages in the write of Core's post-verack messages",
			Origin:  "flooding peers; the client must stay bounded",
			// After the client's verack, not with the mock's own: the mock
			// reads that verack first (the witness of completion), where a
			// flood written before it could stall on a client that has
			// already left. Coalesced, so the flood is one write.
			Script: core().After(wire.CmdFeeFilter, burst(10_000)...).Coalesced().Named("burst-10000-after-verack").Script(),
			Expect: Completes(),
		},
		{
			Name: "slow-verack", Tags: []string{tagTiming},
			Summary: "its verack comes 300 ms after its version",
			Origin:  "busy nodes answer late",
			Script: mockpeer.NewScript("slow-verack", expectVersion(), replyWith(nil),
				mockpeer.Do(func(c *mockpeer.Conn) error { return c.Sleep(300 * time.Millisecond) }), mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(),
		},
	}
}
