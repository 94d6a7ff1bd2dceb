package scenarios

import (
	"math/rand/v2"
	"slices"
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

// catalog is the v1 catalog: its themes, in the order the CLI lists them.
func catalog() []Scenario {
	return slices.Concat(
		catalogLog(),
		catalogOrder(),
		catalogFeatures(),
		catalogVersionFields(),
		catalogFraming(),
		catalogMalformed(),
		catalogVersionPolicy(),
		catalogConnection(),
		catalogDelivery(),
	)
}

// pseudoAlpha returns n printable letters, the same every run.
func pseudoAlpha(n int) []byte {
	b := pseudoRandom(n, 256)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return b
}
