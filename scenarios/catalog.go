package scenarios

import (
	"math/rand/v2"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Origins that many scenarios share.
const (
	logVerackSkipped = `seed log: "WARN verack{network=Mainnet}: server skipped verack message" (the verack came in the same read as the version and was dropped)`
	logSendCmpct     = `seed log: "command mismatch: expected verack got Ok(\"sendcmpct\\0\\0\\0\")"`
	logSendHeaders   = `seed log: "command mismatch: expected verack got Ok(\"sendheaders\\0\")"`
	logFillBuffer    = `seed log: "failed to fill whole buffer" (the peer hung up; the original tool then counted it)`
	logDeadline      = `seed log: "deadline has elapsed"`
	logLowVersion    = `seed log: "received version (70015) which is lower than the currently implemented one"`
	npVersion        = "src/net_processing.cpp, ProcessMessage VERSION branch"
	npVerack         = "src/net_processing.cpp, ProcessMessage VERACK branch and SendMessages"
	npPreVerack      = "src/net_processing.cpp: before verack only verack, sendheaders, sendcmpct, wtxidrelay, sendaddrv2, sendtxrcncl are processed"
	netV1            = "src/net.cpp, V1Transport::readHeader / GetMessage; src/protocol.h"
	recordedCoreV30  = "recorded: a Bitcoin Core v30.0 release on regtest answering our client, every message in a TCP segment of its own"
)

// Quirk and kind names (package handshake's public names; kept as strings
// so the catalog does not depend on one client).
const (
	qCoalesced        = "version-verack-coalesced"
	qVerackFirst      = "verack-before-version"
	qBeforeVersion    = "message-before-version"
	qSendCmpct        = "sendcmpct-before-verack"
	qSendHeaders      = "sendheaders-before-verack"
	qPing             = "ping-before-verack"
	qUnexpected       = "unexpected-message-before-verack"
	qDupVersion       = "duplicate-version"
	qOld              = "old-protocol-version"
	qNewer            = "newer-protocol-version"
	qNoRelay          = "version-without-relay"
	qShort            = "version-without-optional-fields"
	qTrailing         = "version-trailing-bytes"
	qNegTime          = "negative-timestamp"
	qAlert            = "alert"
	qBadChecksum      = "bad-checksum-ignored"
	qBadCommand       = "invalid-command-ignored"
	kTimeout          = "timeout"
	kPeerClosed       = "peer-closed"
	kReset            = "connection-reset"
	kBadMagic         = "bad-magic"
	kOversized        = "oversized-frame"
	kMalformed        = "malformed-message"
	kVersionTooLow    = "version-too-low"
	kSelfConnection   = "self-connection"
	phaseVersion      = "version"
	phaseVerack       = "verack"
	tagLog            = "log"
	tagCore           = "core"
	tagMalformed      = "malformed"
	tagTransport      = "transport"
	tagTiming         = "timing"
	tagImplementation = "implementation"
)

// core is Bitcoin Core's responder without its own peer timeout, so that
// the client's timeout, not the mock's, decides the timing scenarios.
func core() mockpeer.Profile {
	return mockpeer.CoreResponder().HandshakeTimeout(0)
}

// version is the version our scripted peers send, edited.
func version(edit func(v *wire.Version)) *wire.Version {
	v := &wire.Version{
		ProtocolVersion: wire.ProtocolVersion,
		Services:        mockpeer.CoreServices,
		Timestamp:       1_700_000_000,
		Nonce:           0x5ce0a1105ce0a110,
		UserAgent:       mockpeer.CoreUserAgent,
		StartHeight:     0,
		Relay:           true,
	}
	if edit != nil {
		edit(v)
	}
	return v
}

// replyWith answers the client's version with v and the rest, coalesced.
func replyWith(v *wire.Version, rest ...wire.Message) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		return c.Send(append([]wire.Message{c.VersionFor(v)}, rest...)...)
	}).Coalesced()
}

// frame writes a frame built for the connection's network.
func frame(build func(n wire.Network) wire.RawFrame) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error { return c.SendRaw(build(c.Network()).Bytes()) })
}

// versionFrame is a valid frame carrying v's payload, edited by edit.
func versionPayload(v *wire.Version, edit func(p []byte) []byte) func(n wire.Network) wire.RawFrame {
	return func(n wire.Network) wire.RawFrame {
		f := wire.NewRawFrame(n, v)
		return f.WithPayload(edit(f.Payload)).Resealed()
	}
}

// readUntil reads what the client sends until a message with command cmd
// arrives, the client leaves or d passes, without failing in any case: a
// hang-up after it leaves no unread bytes behind.
func readUntil(cmd string, d time.Duration) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		deadline := time.Now().Add(d)
		for {
			in, err := c.Next(deadline)
			if err != nil || in.Command == cmd {
				return nil
			}
		}
	})
}

// sent states how far a correct client takes part before it reaches v:
// the commands the mock must receive from it, in order.
func sent(v Verdict, cmds ...string) Verdict {
	v.Sent = cmds
	return v
}

// as labels v with behaviour b; alternatives are the other outcomes a
// correct client may reach.
func as(b Behaviour, v Verdict, alternatives ...Verdict) Verdict {
	v.Behaviour = b
	v.Or = alternatives
	return v
}

// strictAtVerack is the outcome of a client that refuses what only a
// misbehaving peer sends between its version and its verack (btcd ends
// the negotiation there): it has answered the version with its verack,
// then it fails, whatever kind it names.
func strictAtVerack() Verdict {
	return as(Rejecting, sent(Fails("", phaseVerack), wire.CmdVersion, wire.CmdVerack))
}

// handshakeAfter completes the handshake once the given steps have run.
func expectVersion() mockpeer.Step { return mockpeer.Expect(wire.CmdVersion) }

// pseudoRandom returns n bytes from a fixed seed: the same bytes every run.
func pseudoRandom(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func burst(n int) []wire.Message {
	inv := make([]byte, 1+36)
	inv[0], inv[1] = 1, 1 // one MSG_TX entry
	msgs := make([]wire.Message, n)
	for i := range msgs {
		msgs[i] = wire.Raw{Cmd: wire.CmdInv, Payload: inv}
	}
	return msgs
}

func catalog() []Scenario {
	cmpct := wire.SendCmpct{Announce: false, Version: 2}
	return []Scenario{
		// --- seen in the original tool's log of real peers ---
		{
			Name: "version-verack-coalesced", Tags: []string{tagLog},
			Summary: "version, wtxidrelay, sendaddrv2 and verack arrive in one TCP write",
			// Real peers' messages do arrive together (the original tool's
			// reader found several in one read), but Bitcoin Core writes
			// each in a segment of its own (recordedCoreV30): the
			// coalescing is this scenario's, not core-v30-responder's.
			Origin: logVerackSkipped,
			Script: mockpeer.NewScript("version-verack-coalesced", expectVersion(), replyWith(nil, wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(qCoalesced),
		},
		{
			Name: "verack-skipped-held", Tags: []string{tagLog, tagTiming},
			Summary: "sends its version, never a verack, and keeps the connection open",
			Origin:  logDeadline,
			Script:  core().Without(wire.CmdVerack).Named("verack-skipped-held").Script(),
			Expect:  sent(Fails(kTimeout, phaseVerack), wire.CmdVersion, wire.CmdVerack),
		},
		{
			Name: "verack-skipped-closed", Tags: []string{tagLog},
			Summary: "sends its version, then hangs up without a verack",
			Origin:  logFillBuffer,
			// The client's reply (its verack) is read before the hang-up:
			// closing with unread bytes would send a RST, not a FIN, and
			// the client would see a reset or an end of stream by a race.
			Script: mockpeer.NewScript("verack-skipped-closed", expectVersion(), replyWith(nil),
				readUntil(wire.CmdVerack, time.Second), mockpeer.Do((*mockpeer.Conn).Close)),
			Expect: sent(Fails(kPeerClosed, phaseVerack), wire.CmdVersion, wire.CmdVerack),
		},
		{
			Name: "sendcmpct-before-verack", Tags: []string{tagLog},
			Summary: "sends sendcmpct between its version and its verack",
			Origin:  logSendCmpct,
			Script:  core().Before(wire.CmdVerack, cmpct).Named("sendcmpct-before-verack").Script(),
			Expect:  Completes(qSendCmpct),
		},
		{
			Name: "sendheaders-before-verack", Tags: []string{tagLog},
			Summary: "sends sendheaders between its version and its verack",
			Origin:  logSendHeaders,
			Script:  core().Before(wire.CmdVerack, wire.SendHeaders{}).Named("sendheaders-before-verack").Script(),
			Expect:  Completes(qSendHeaders),
		},
		{
			Name: "sendcmpct-sendheaders-burst-before-verack", Tags: []string{tagLog},
			Summary: "two sendcmpct (versions 1 and 2) and sendheaders before verack, as older nodes did",
			Origin:  logSendCmpct + "; " + logSendHeaders,
			Script: core().Before(wire.CmdVerack, wire.SendHeaders{}, wire.SendCmpct{Version: 2}, wire.SendCmpct{Version: 1}).
				Named("sendcmpct-sendheaders-burst-before-verack").Script(),
			Expect: Completes(qSendCmpct, qSendHeaders),
		},
		{
			Name: "protocol-70015", Tags: []string{tagLog},
			Summary: "a peer at protocol 70015: no wtxidrelay or sendaddrv2 is negotiated",
			Origin:  logLowVersion,
			Script:  core().Version(func(v *wire.Version) { v.ProtocolVersion, v.UserAgent = 70015, "/Satoshi:0.20.1/" }).Named("protocol-70015").Script(),
			Expect:  Completes(qOld),
		},
		{
			Name: "protocol-70012", Tags: []string{tagLog},
			Summary: "a peer at protocol 70012 (BIP130): no feature negotiation, a final alert after verack",
			Origin:  logLowVersion + "; src/node/protocol_version.h SENDHEADERS_VERSION",
			Script:  core().Version(func(v *wire.Version) { v.ProtocolVersion, v.UserAgent = 70012, "/Satoshi:0.12.1/" }).Named("protocol-70012").Script(),
			Expect:  Completes(qOld),
		},
		// --- peer behaviours from docs/PROTOCOL.md ---
		{
			Name: "core-v30-responder", Tags: []string{tagCore, tagImplementation},
			Summary: "a faithful Bitcoin Core v30 responder: one TCP segment per message, drops an unfinished handshake at 60 s",
			Origin:  npVersion + "; " + npVerack + "; " + recordedCoreV30,
			Script:  coreV30(mockpeer.CorePeerTimeout),
			Expect:  Completes(),
		},
		{
			Name: "btcd-v0.26.2-responder", Tags: []string{tagImplementation},
			Summary: "a btcd v0.26.2 responder: version, sendaddrv2, verack, header and payload written separately; drops an unfinished handshake at 30 s",
			Origin:  "btcd v0.26.2 peer/peer.go, observed on loopback in regtest",
			Script:  btcdV0262(mockpeer.BtcdNegotiateTimeout),
			Expect:  Completes(),
		},
		{
			Name: "verack-before-version", Tags: []string{tagCore},
			Summary: "sends verack first, then its version",
			Origin:  "PROTOCOL.md §5 rule 3 (Core ignores it); observed in small implementations",
			Script:  mockpeer.NewScript("verack-before-version", expectVersion(), mockpeer.Send(wire.Verack{}), replyWith(nil), mockpeer.HoldOpen()),
			Expect: as(Tolerant, Completes(qVerackFirst),
				// Core ignores the early verack, answers the version and waits
				// for a verack that never comes.
				as(CoreLike, sent(Fails(kTimeout, phaseVerack), wire.CmdVersion, wire.CmdVerack)),
				as(Rejecting, sent(Fails("", phaseVersion), wire.CmdVersion))),
		},
		{
			Name: "message-before-version", Tags: []string{tagCore},
			Summary: "sends sendheaders before its version",
			Origin:  "PROTOCOL.md §5 rule 3: messages before version are ignored",
			Script: mockpeer.NewScript("message-before-version", expectVersion(), mockpeer.Send(wire.SendHeaders{}),
				replyWith(nil, wire.Verack{}), mockpeer.HoldOpen()),
			Expect: as(CoreLike, Completes(qBeforeVersion), as(Rejecting, sent(Fails("", phaseVersion), wire.CmdVersion))),
		},
		{
			Name: "duplicate-version", Tags: []string{tagCore},
			Summary: "sends its version twice before verack",
			Origin:  npVersion + ` ("redundant version message" is ignored)`,
			Script:  core().After(wire.CmdVersion, version(nil)).Named("duplicate-version").Script(),
			Expect:  as(CoreLike, Completes(qDupVersion), strictAtVerack()),
		},
		{
			Name: "duplicate-verack", Tags: []string{tagCore},
			Summary: "sends verack twice",
			Origin:  npVerack + " (a second verack is ignored)",
			Script:  core().After(wire.CmdVerack, wire.Verack{}).Named("duplicate-verack").Script(),
			Expect:  Completes(),
		},
		{
			Name: "unknown-command-before-verack", Tags: []string{tagCore},
			Summary: "sends an unknown command between version and verack",
			Origin:  npPreVerack + "; unknown commands are ignored",
			Script:  core().Before(wire.CmdVerack, wire.Raw{Cmd: "xversion", Payload: []byte{1, 2, 3}}).Named("unknown-command-before-verack").Script(),
			Expect:  Completes(qUnexpected),
		},
		{
			Name: "ping-before-verack", Tags: []string{tagCore},
			Summary: "sends a ping before verack (Core would not answer it; btcd disconnects such a peer)",
			Origin:  npPreVerack,
			Script:  core().Before(wire.CmdVerack, wire.Ping{Nonce: 7}).Named("ping-before-verack").Script(),
			Expect:  as(CoreLike, Completes(qPing), strictAtVerack()),
		},
		{
			Name: "unknown-and-ping-before-verack", Tags: []string{tagCore},
			Summary: "sends an unknown command and a ping before verack",
			Origin:  npPreVerack,
			Script: core().Before(wire.CmdVerack, wire.Raw{Cmd: "getdata"}, wire.Ping{Nonce: 9}).
				Named("unknown-and-ping-before-verack").Script(),
			Expect: as(CoreLike, Completes(qUnexpected, qPing), strictAtVerack()),
		},
		{
			Name: "feefilter-before-verack", Tags: []string{tagCore},
			Summary: "sends feefilter before verack (Core sends it only after)",
			Origin:  npPreVerack,
			Script:  core().Before(wire.CmdVerack, wire.FeeFilter{FeeRate: 1000}).Named("feefilter-before-verack").Script(),
			Expect:  as(CoreLike, Completes(qUnexpected), strictAtVerack()),
		},
		{
			Name: "sendtxrcncl-before-verack", Tags: []string{tagCore},
			Summary: "announces Erlay (sendtxrcncl) between version and verack, as Core with -txreconciliation does",
			Origin:  npPreVerack + "; BIP330",
			Script:  core().Before(wire.CmdVerack, wire.SendTxRcncl{Version: 1, Salt: 42}).Named("sendtxrcncl-before-verack").Script(),
			Expect:  Completes(),
		},
		{
			Name: "wtxidrelay-after-verack", Tags: []string{tagCore},
			Summary: "sends wtxidrelay after its verack (Core disconnects a peer that does this)",
			Origin:  "PROTOCOL.md §5 rule 5",
			Script:  core().After(wire.CmdVerack, wire.WtxidRelay{}).Named("wtxidrelay-after-verack").Script(),
			Expect:  Completes(),
		},
		{
			Name: "sendaddrv2-after-verack", Tags: []string{tagCore},
			Summary: "sends sendaddrv2 after its verack",
			Origin:  "PROTOCOL.md §5 rule 5",
			Script:  core().After(wire.CmdVerack, wire.SendAddrV2{}).Named("sendaddrv2-after-verack").Script(),
			Expect:  Completes(),
		},
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
		{
			Name: "verack-with-payload", Tags: []string{tagCore},
			Summary: "a verack carrying 4 stray payload bytes (Core does not read them)",
			Origin:  npVerack,
			Script: mockpeer.NewScript("verack-with-payload", expectVersion(), replyWith(nil),
				frame(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, wire.Verack{}).WithPayload([]byte{1, 2, 3, 4}).Resealed()
				}), mockpeer.HoldOpen()),
			Expect: as(CoreLike, Completes(), strictAtVerack()),
		},
		{
			Name: "bad-checksum-before-verack", Tags: []string{tagCore, tagMalformed},
			Summary: "a frame with a bad checksum between version and verack (dropped, connection kept)",
			Origin:  netV1 + "; PROTOCOL.md §5 rule 7",
			Script: mockpeer.NewScript("bad-checksum-before-verack", expectVersion(), replyWith(nil),
				frame(func(n wire.Network) wire.RawFrame { return wire.NewRawFrame(n, wire.Ping{Nonce: 1}).WithBadChecksum() }),
				mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()),
			Expect: as(CoreLike, Completes(qBadChecksum), strictAtVerack()),
		},
		{
			Name: "invalid-command-bytes", Tags: []string{tagCore, tagMalformed},
			Summary: "a frame whose command has a control byte and bytes after the NUL (dropped, connection kept)",
			Origin:  netV1 + " (CMessageHeader::IsCommandValid); PROTOCOL.md §5 rule 7",
			Script: mockpeer.NewScript("invalid-command-bytes", expectVersion(), replyWith(nil),
				frame(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, wire.Verack{}).WithCommandBytes([12]byte{'v', 'e', 'r', 0x01, 'c', 'k', 0, 'x'})
				}),
				mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()),
			Expect: as(CoreLike, Completes(qBadCommand), strictAtVerack()),
		},
		{
			Name: "wrong-magic", Tags: []string{tagMalformed},
			Summary: "answers with testnet3's magic",
			Origin:  netV1 + "; the original tool had wrong magics for signet/testnet",
			Script: mockpeer.NewScript("wrong-magic", expectVersion(),
				frame(func(n wire.Network) wire.RawFrame {
					other := wire.Testnet3
					if n == wire.Testnet3 {
						other = wire.Mainnet
					}
					return wire.NewRawFrame(n, version(nil)).WithMagic(other)
				}), mockpeer.HoldOpen()),
			Expect: sent(Fails(kBadMagic, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "length-over-limit", Tags: []string{tagMalformed},
			Summary: "a header declaring 4,000,001 bytes",
			Origin:  "src/net.h MAX_PROTOCOL_MESSAGE_LENGTH; PROTOCOL.md §5 rule 9",
			Script: mockpeer.NewScript("length-over-limit", expectVersion(),
				frame(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, version(nil)).WithLength(wire.MaxPayload + 1)
				}), mockpeer.HoldOpen()),
			Expect: sent(Fails(kOversized, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "length-0xffffffff", Tags: []string{tagMalformed},
			Summary: "a header declaring 4 GiB: must be refused before any allocation",
			Origin:  "src/net.h MAX_PROTOCOL_MESSAGE_LENGTH",
			Script: mockpeer.NewScript("length-0xffffffff", expectVersion(),
				frame(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, version(nil)).WithLength(0xffffffff)
				}), mockpeer.HoldOpen()),
			Expect: sent(Fails(kOversized, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "length-lies-then-close", Tags: []string{tagMalformed, tagTransport},
			Summary: "a version header declaring 1000 bytes, 20 bytes of payload, then a hang-up",
			Origin:  logFillBuffer,
			Script: mockpeer.NewScript("length-lies-then-close", expectVersion(),
				frame(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, version(nil)).WithLength(1000).Truncated(20)
				}), mockpeer.Do((*mockpeer.Conn).Close)),
			Expect: sent(Fails(kPeerClosed, phaseVersion), wire.CmdVersion),
		},
		{
			Name: "truncated-version", Tags: []string{tagMalformed},
			Summary: "a version cut inside the addr_from/nonce group (a partial group)",
			Origin:  npVersion + "; PROTOCOL.md §5 rule 10 (Core drops it)",
			Script: mockpeer.NewScript("truncated-version", expectVersion(),
				frame(versionPayload(version(nil), func(p []byte) []byte { return p[:46+10] })),
				mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()),
			Expect: as(Rejecting, sent(Fails(kMalformed, phaseVersion), wire.CmdVersion),
				// Core drops a version it cannot parse and waits for another.
				as(CoreLike, sent(Fails(kTimeout, phaseVersion), wire.CmdVersion))),
		},
		{
			Name: "user-agent-257-bytes", Tags: []string{tagMalformed},
			Summary: "a user agent of 257 bytes, one over Core's limit",
			Origin:  "src/net_processing.cpp MAX_SUBVERSION_LENGTH; PROTOCOL.md §5 rule 10",
			Script: mockpeer.NewScript("user-agent-257-bytes", expectVersion(),
				replyWith(version(func(v *wire.Version) { v.UserAgent = "/" + string(pseudoAlpha(255)) + "/" }), wire.Verack{}), mockpeer.HoldOpen()),
			Expect: as(Rejecting, sent(Fails(kMalformed, phaseVersion), wire.CmdVersion),
				// Core drops a version it cannot parse and waits for another.
				as(CoreLike, sent(Fails(kTimeout, phaseVersion), wire.CmdVersion))),
		},
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

// pseudoAlpha returns n printable letters, the same every run.
func pseudoAlpha(n int) []byte {
	b := pseudoRandom(n, 256)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return b
}
