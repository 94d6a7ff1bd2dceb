package scenarios

import (
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// catalogOrder is the reference responders, and peers that send the
// handshake's messages out of order, twice or among others.
func catalogOrder() []Scenario {
	return []Scenario{
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
	}
}

// catalogFeatures is feature negotiation sent on the other side of the verack.
func catalogFeatures() []Scenario {
	return []Scenario{
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
	}
}
