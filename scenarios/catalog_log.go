package scenarios

import (
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// catalogLog is what the original tool's log of real peers showed.
func catalogLog() []Scenario {
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
			Script:  core().Before(wire.CmdVerack, wire.SendCmpct{Announce: false, Version: 2}).Named("sendcmpct-before-verack").Script(),
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
	}
}
