package scenarios

import (
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// catalogVersionFields is versions a client must accept: old and new
// protocol versions, short and long encodings, edge values.
func catalogVersionFields() []Scenario {
	return []Scenario{
		{
			Name: "alert-for-old-version", Tags: []string{tagCore},
			Summary: "a 70012 peer sends the final alert before its verack",
			Origin:  npVersion + " (alert for common versions ≤ 70012)",
			Script: core().Version(func(v *wire.Version) { v.ProtocolVersion = 70012 }).Before(wire.CmdVerack, wire.Alert{}).
				Named("alert-for-old-version").Script(),
			Expect: Completes(qAlert, qOld),
		},
		{
			Name: "minimal-version-46-bytes", Tags: []string{tagCore},
			Summary: "a version with only the 46 required bytes",
			Origin:  npVersion + " (optional fields read only if bytes remain)",
			Script: mockpeer.NewScript("minimal-version-46-bytes", expectVersion(),
				replyWith(version(func(v *wire.Version) { v.Tail = wire.TailMinimal }), wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(qShort),
		},
		{
			Name: "version-without-relay", Tags: []string{tagCore},
			Summary: "a version without the relay byte (absent means true)",
			Origin:  npVersion + "; BIP37",
			Script: mockpeer.NewScript("version-without-relay", expectVersion(),
				replyWith(version(func(v *wire.Version) { v.Tail = wire.TailNoRelay }), wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(qNoRelay),
		},
		{
			Name: "version-trailing-bytes", Tags: []string{tagCore},
			Summary: "a version with bytes after relay (Core ignores them; btcd disconnects)",
			Origin:  npVersion + "; btcd v0.26.2 rejects them",
			Script: mockpeer.NewScript("version-trailing-bytes", expectVersion(),
				frame(versionPayload(version(nil), func(p []byte) []byte { return append(p, 0xde, 0xad) })),
				mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(qTrailing),
		},
		{
			Name: "newer-protocol-version", Tags: []string{tagCore},
			Summary: "a peer announcing protocol 70100 (treated as 70016)",
			Origin:  "src/node/protocol_version.h; Core uses min(ours, theirs)",
			Script:  core().Version(func(v *wire.Version) { v.ProtocolVersion = 70100 }).Named("newer-protocol-version").Script(),
			Expect:  Completes(qNewer),
		},
		{
			Name: "negative-timestamp", Tags: []string{tagCore},
			Summary: "a version with a negative timestamp (Core clamps it to 0)",
			Origin:  npVersion,
			Script: mockpeer.NewScript("negative-timestamp", expectVersion(),
				replyWith(version(func(v *wire.Version) { v.Timestamp = -1 }), wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(qNegTime),
		},
		{
			Name: "pre-bip31-peer", Tags: []string{tagCore},
			Summary: "a peer at protocol 60000: pings without nonces, an alert after verack",
			Origin:  "BIP31; src/node/protocol_version.h",
			Script:  core().Version(func(v *wire.Version) { v.ProtocolVersion = 60000 }).Named("pre-bip31-peer").Script(),
			Expect:  Completes(qOld),
		},
		{
			Name: "user-agent-256-bytes", Tags: []string{tagCore},
			Summary: "a user agent of exactly 256 bytes, the most Core accepts",
			Origin:  "src/net_processing.cpp MAX_SUBVERSION_LENGTH",
			Script: mockpeer.NewScript("user-agent-256-bytes", expectVersion(),
				replyWith(version(func(v *wire.Version) { v.UserAgent = "/" + string(pseudoAlpha(254)) + "/" }), wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(),
		},
		{
			Name: "empty-user-agent-no-services", Tags: []string{tagCore},
			Summary: "an empty user agent and no services (a light client)",
			Origin:  npVersion,
			Script: mockpeer.NewScript("empty-user-agent-no-services", expectVersion(),
				replyWith(version(func(v *wire.Version) { v.UserAgent, v.Services = "", 0 }), wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(),
		},
	}
}

// catalogVersionPolicy is versions a client refuses by policy: below its
// minimum, or carrying its own nonce.
func catalogVersionPolicy() []Scenario {
	return []Scenario{
		{
			Name: "version-below-minimum", Tags: []string{tagCore},
			Summary: "a peer at protocol 31799, one below Core's minimum",
			Origin:  "src/node/protocol_version.h MIN_PEER_PROTO_VERSION; PROTOCOL.md §5 rule 1",
			Script: mockpeer.NewScript("version-below-minimum", expectVersion(),
				replyWith(version(func(v *wire.Version) { v.ProtocolVersion = 31799 }), wire.Verack{}), mockpeer.HoldOpen()),
			Expect: as(CoreLike, sent(Fails(kVersionTooLow, phaseVersion), wire.CmdVersion),
				// The minimum is a policy: btcd's is 209.
				as(Tolerant, Completes())),
		},
		{
			Name: "version-209", Tags: []string{tagImplementation},
			Summary: "a peer at protocol 209 (btcd's lowest accepted; below Core's minimum)",
			Origin:  "btcd v0.26.2 peer/peer.go MinAcceptableProtocolVersion",
			Script: mockpeer.NewScript("version-209", expectVersion(),
				replyWith(version(func(v *wire.Version) { v.ProtocolVersion = 209; v.Tail = wire.TailNoRelay }), wire.Verack{}), mockpeer.HoldOpen()),
			Expect: as(CoreLike, sent(Fails(kVersionTooLow, phaseVersion), wire.CmdVersion),
				// The minimum is a policy: btcd's is 209.
				as(Tolerant, Completes())),
		},
		{
			Name: "nonce-echoed", Tags: []string{tagCore},
			Summary: "answers with our own version nonce: a connection to ourselves",
			Origin:  "src/net.cpp CheckIncomingNonce; PROTOCOL.md §5 rule 11",
			Script: mockpeer.NewScript("nonce-echoed", expectVersion(), mockpeer.Do(func(c *mockpeer.Conn) error {
				v := c.VersionFor(nil)
				if pv := c.PeerVersion(); pv != nil {
					v.Nonce = pv.Nonce
				}
				return c.Send(v, wire.Verack{})
			}).Coalesced(), mockpeer.HoldOpen()),
			Expect: as(Rejecting, sent(Fails(kSelfConnection, phaseVersion), wire.CmdVersion),
				// Core checks the nonce of inbound peers only (CheckIncomingNonce): its
				// outbound side completes, and its inbound side finds the loop.
				as(CoreLike, Completes())),
		},
	}
}
