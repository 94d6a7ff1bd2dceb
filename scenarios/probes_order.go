package scenarios

import (
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// probesVersion is rules 1 and 2: a version below a minimum, a second
// version or verack.
func probesVersion() []Probe {
	return []Probe{
		{
			Name: "version-below-minimum", Rule: "1",
			Summary: "version 31799, one below Core's minimum",
			Origin:  origin(originCoreNP+": obsolete version", originBtcdPeer+": btcd accepts down to 209"),
			Script:  mockpeer.NewScript("version-below-minimum", sendVersion(wire.MinPeerProtoVersion-1)),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: replies(wire.CmdVersion, wire.CmdVerack),
			},
		},
		{
			Name: "version-below-btcd-minimum", Rule: "1",
			Summary: "version 208, one below btcd's minimum (209)",
			Origin:  origin(originCoreNP, originBtcdPeer+": the reject is not sent, btcd cannot encode one for a peer below 70002"),
			Script:  mockpeer.NewScript("version-below-btcd-minimum", sendVersion(208)),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "duplicate-version-before-verack", Rule: "2",
			Summary: "a second version after the node's verack, before ours",
			Origin:  origin(originCoreNP+": redundant version", originBtcdPeer+": any known message but verack during negotiation"),
			Alive:   completesAndAnswersPing(),
			Script:  mockpeer.NewScript("duplicate-version-before-verack", steps(openHandshake(), one(sendVersion(wire.ProtocolVersion)))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "duplicate-version-after-verack", Rule: "2",
			Summary: "a second version once the handshake is complete",
			Origin:  origin(originCoreNP+": redundant version", originBtcdPeer+": duplicate version message"),
			Alive:   answersPing(),
			Script:  mockpeer.NewScript("duplicate-version-after-verack", steps(fullHandshake(), one(sendVersion(wire.ProtocolVersion)))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
		{
			Name: "duplicate-verack", Rule: "2",
			Summary: "a second verack once the handshake is complete",
			Origin:  origin(originCoreNP+": VERACK ignored when already successfully connected", originBtcdPeer+": duplicate verack message"),
			Alive:   answersPing(),
			Script:  mockpeer.NewScript("duplicate-verack", steps(fullHandshake(), one(mockpeer.Send(wire.Verack{})))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
	}
}

// probesBeforeVersion is rule 3: a first message other than version.
func probesBeforeVersion() []Probe {
	return []Probe{
		{
			Name: "verack-before-version", Rule: "3",
			Summary: "verack as the first message",
			Origin:  origin(originCoreNP+": non-version message before version", originCoreV2, originBtcdPeer+": a version message must precede all others", originBtcdV2),
			Alive:   answersVersion(),
			Script:  mockpeer.NewScript("verack-before-version", mockpeer.Send(wire.Verack{})),
			Expect: map[Model]Expectation{
				ModelCore:   ignores(),
				ModelCoreV2: coreV2Key(),
				ModelBtcd:   rejectsAndDisconnects(),
				ModelBtcdV2: btcdV2Key(),
			},
		},
		{
			Name: "ping-before-version", Rule: "3",
			Summary: "ping as the first message",
			Origin:  origin(originCoreNP+": non-version message before version", originCoreV2, originBtcdPeer+": a version message must precede all others", originBtcdV2),
			Alive:   answersVersion(),
			Script:  mockpeer.NewScript("ping-before-version", mockpeer.Send(wire.Ping{Nonce: 0x5eed})),
			Expect: map[Model]Expectation{
				ModelCore:   ignores(),
				ModelCoreV2: coreV2Key(),
				ModelBtcd:   rejectsAndDisconnects(),
				ModelBtcdV2: btcdV2Key(),
			},
		},
		{
			Name: "unknown-before-version", Rule: "3",
			Summary: "an unknown command as the first message",
			Origin:  origin(originCoreNP, originCoreV2, originBtcdPeer+": wire.ErrUnknownMessage ends the negotiation without a reject", originBtcdV2),
			Alive:   answersVersion(),
			Script:  mockpeer.NewScript("unknown-before-version", mockpeer.Send(wire.Raw{Cmd: "xyzzy", Payload: []byte{1, 2, 3}})),
			Expect: map[Model]Expectation{
				ModelCore:   ignores(),
				ModelCoreV2: coreV2Key(),
				ModelBtcd:   disconnects(),
				ModelBtcdV2: btcdV2Key(),
			},
		},
	}
}

// probesAroundVerack is rules 4 and 5: what comes before the verack, and
// feature negotiation after it.
func probesAroundVerack() []Probe {
	return []Probe{
		{
			Name: "ping-before-verack", Rule: "4",
			Summary: "ping between the versions and our verack",
			Origin:  origin(originCoreNP+": only handshake messages before verack", originBtcdPeer+": a known message other than verack/sendaddrv2 ends the negotiation"),
			Alive:   completesAndAnswersPing(),
			Script:  mockpeer.NewScript("ping-before-verack", steps(openHandshake(), one(mockpeer.Send(wire.Ping{Nonce: 0x5eed})))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "sendheaders-before-verack", Rule: "4",
			Summary: "sendheaders between the versions and our verack",
			Origin:  origin(originCoreNP+": sendheaders is processed before verack", originBtcdPeer),
			Alive:   completesAndAnswersPing(),
			Script:  mockpeer.NewScript("sendheaders-before-verack", steps(openHandshake(), one(mockpeer.Send(wire.SendHeaders{})))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "getaddr-before-verack", Rule: "4",
			Summary: "getaddr between the versions and our verack",
			Origin:  origin(originCoreNP+": ignored before verack", originBtcdPeer),
			Alive:   completesAndAnswersPing(),
			Script:  mockpeer.NewScript("getaddr-before-verack", steps(openHandshake(), one(mockpeer.Send(wire.GetAddr{})))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "negotiation-before-verack", Rule: "4",
			Summary: "sendcmpct, wtxidrelay, sendaddrv2, sendtxrcncl before our verack, then a ping",
			Origin:  origin(originCoreNP+": these are processed before verack", originBtcdPeer+": sendcmpct, wtxidrelay and sendtxrcncl are unknown to btcd and skipped"),
			Script: mockpeer.NewScript("negotiation-before-verack", steps(openHandshake(), one(
				mockpeer.Send(wire.SendCmpct{Version: 2}, wire.WtxidRelay{}, wire.SendAddrV2{}, wire.SendTxRcncl{Version: 1, Salt: 7}, wire.Verack{}),
				settle(settleQuiet),
				mockpeer.Send(wire.Ping{Nonce: 0xfeedface})))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: pongs(),
			},
		},
		{
			Name: "wtxidrelay-after-verack", Rule: "5",
			Summary: "wtxidrelay once the handshake is complete",
			Origin:  origin(originCoreNP+": wtxidrelay received after verack", originBtcdPeer+": unknown command, skipped"),
			Alive:   answersPing(),
			Script:  mockpeer.NewScript("wtxidrelay-after-verack", steps(fullHandshake(), one(mockpeer.Send(wire.WtxidRelay{})))...),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: ignores(),
			},
		},
		{
			Name: "sendaddrv2-after-verack", Rule: "5",
			Summary: "sendaddrv2 once the handshake is complete",
			Origin:  origin(originCoreNP+": sendaddrv2 received after verack", originBtcdPeer),
			Script:  mockpeer.NewScript("sendaddrv2-after-verack", steps(fullHandshake(), one(mockpeer.Send(wire.SendAddrV2{})))...),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: disconnects(),
			},
		},
	}
}

// probesTimeouts is rule 6: a peer that stops short of finishing the
// handshake.
func probesTimeouts() []Probe {
	return []Probe{
		{
			Name: "silent-peer", Rule: "6", Slow: true,
			Summary: "connect and send nothing",
			Origin:  originCoreTimout,
			Script:  mockpeer.NewScript("silent-peer"),
			Expect: map[Model]Expectation{
				ModelCore: timesOut(),
				ModelBtcd: timesOut(),
			},
		},
		{
			Name: "no-verack", Rule: "6", Slow: true,
			Summary: "send our version, never our verack",
			Origin:  originCoreTimout,
			Script:  mockpeer.NewScript("no-verack", sendVersion(wire.ProtocolVersion)),
			Expect: map[Model]Expectation{
				ModelCore: replies(wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack).Then(EndTimeout),
				ModelBtcd: replies(wire.CmdVersion, wire.CmdSendAddrV2, wire.CmdVerack).Then(EndTimeout),
			},
		},
	}
}

// probesAfterHandshake is rules 12 and 13: a ping once the handshake is
// complete, and what the node sends before its verack.
func probesAfterHandshake() []Probe {
	return []Probe{
		{
			Name: "ping-after-verack", Rule: "12",
			Summary: "a ping once the handshake is complete",
			Origin:  origin(originCoreNP+": PING", originBtcdPeer),
			Script:  mockpeer.NewScript("ping-after-verack", steps(fullHandshake(), one(mockpeer.Send(wire.Ping{Nonce: 0x1234abcd})))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: pongs(),
			},
		},
		{
			Name: "pre-verack-messages", Rule: "13",
			Summary: "our version at 70016, and no verack: what comes before the node has our verack",
			Origin:  origin(originCoreNP+": VERSION branch", originBtcdPeer),
			Script:  mockpeer.NewScript("pre-verack-messages", sendVersion(wire.ProtocolVersion)),
			Expect: map[Model]Expectation{
				ModelCore: {Sends: []string{wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack}, Only: preVerackCommands(), End: EndOpen},
				ModelBtcd: {Sends: []string{wire.CmdVersion, wire.CmdSendAddrV2, wire.CmdVerack}, Only: preVerackCommands(), End: EndOpen},
			},
		},
		{
			Name: "pre-verack-messages-70012", Rule: "13",
			Summary: "our version at 70012, and no verack: Core adds its final alert",
			Origin:  origin(originCoreNP+": VERSION branch, alert for common versions <= 70012", originBtcdPeer),
			Script:  mockpeer.NewScript("pre-verack-messages-70012", sendVersion(wire.SendHeadersVersion)),
			Expect: map[Model]Expectation{
				ModelCore: {Sends: []string{wire.CmdVersion, wire.CmdVerack, wire.CmdAlert}, Only: preVerackCommands(), End: EndOpen},
				ModelBtcd: {Sends: []string{wire.CmdVersion, wire.CmdVerack}, Only: preVerackCommands(), End: EndOpen},
			},
		},
	}
}
