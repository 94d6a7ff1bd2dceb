package scenarios

import (
	"strings"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// probesChecksumCommand is rule 7: bad checksums and invalid commands.
func probesChecksumCommand() []Probe {
	return []Probe{
		{
			Name: "bad-checksum-version", Rule: "7",
			Summary: "our version with a wrong checksum",
			Origin:  origin(originCoreNet+": message dropped, connection kept", originBtcdPeer+": a read error ends the negotiation"),
			Alive:   answersVersion(),
			Script:  mockpeer.NewScript("bad-checksum-version", rawFrame(func(n wire.Network) wire.RawFrame { return versionFrame(n).WithBadChecksum() })),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "bad-checksum-after-verack", Rule: "7",
			Summary: "a ping with a wrong checksum, then a good ping, after the handshake",
			Origin:  origin(originCoreNet, originBtcdPeer+": a malformed message gets a reject and a disconnect (except from 127.0.0.1 on regtest)"),
			Script: mockpeer.NewScript("bad-checksum-after-verack", steps(fullHandshake(), one(
				frameThenPing(func(n wire.Network) wire.RawFrame { return wire.NewRawFrame(n, wire.Ping{Nonce: 1}).WithBadChecksum() })))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
		{
			Name: "invalid-command-after-verack", Rule: "7",
			Summary: "a frame whose command has a control byte (valid UTF-8), then a ping, after the handshake",
			Origin:  origin(originCoreNet+": invalid message type, dropped", originBtcdPeer+": valid UTF-8, so merely an unknown command"),
			Script: mockpeer.NewScript("invalid-command-after-verack", steps(fullHandshake(), one(
				frameThenPing(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, wire.Ping{Nonce: 1}).WithCommandBytes([wire.CommandSize]byte{'p', 'i', 0x01})
				})))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: pongs(),
			},
		},
		{
			Name: "non-utf8-command-after-verack", Rule: "7",
			Summary: "a frame whose command is not UTF-8, then a ping, after the handshake",
			Origin:  origin(originCoreNet+": invalid message type, dropped", originBtcdPeer+": invalid command is a malformed message"),
			Script: mockpeer.NewScript("non-utf8-command-after-verack", steps(fullHandshake(), one(
				frameThenPing(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, wire.Ping{Nonce: 1}).WithCommandBytes([wire.CommandSize]byte{'p', 'i', 0xff})
				})))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
		{
			Name: "unknown-command-after-verack", Rule: "7",
			Summary: "an unknown command, then a ping, after the handshake",
			Origin:  origin(originCoreNP+": unknown message types are ignored", originBtcdPeer+": wire.ErrUnknownMessage skipped after the handshake"),
			Script: mockpeer.NewScript("unknown-command-after-verack", steps(fullHandshake(), one(
				thenPing(func(c *mockpeer.Conn) error { return c.Send(wire.Raw{Cmd: "xyzzy", Payload: []byte{1, 2, 3}}) })))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: pongs(),
			},
		},
	}
}

// probesMagicLength is rules 8 and 9: another network's magic, a length
// over the limit.
func probesMagicLength() []Probe {
	return []Probe{
		{
			Name: "wrong-magic", Rule: "8",
			Summary: "the 24-byte header of a version with mainnet's magic, nothing more",
			Origin:  origin(originCoreNet+": wrong magic, disconnect after the header", originCoreV2WrongMagic, originBtcdPeer+": btcd reads (discards) the declared payload before failing", originBtcdV2),
			Alive:   closesAfterPayload(versionFrame(wire.Regtest).Payload),
			Script: mockpeer.NewScript("wrong-magic", rawHeader(func(n wire.Network) wire.RawFrame {
				return versionFrame(n).WithMagic(otherNetwork(n))
			})),
			Expect: map[Model]Expectation{
				ModelCore:   disconnects(),
				ModelCoreV2: disconnects(),
				ModelBtcd:   ignores(),
				ModelBtcdV2: btcdV2Key(),
			},
		},
		{
			Name: "wrong-magic-frame", Rule: "8",
			Summary: "a whole version frame with mainnet's magic",
			Origin:  origin(originCoreNet, originCoreV2WrongMagic, originBtcdPeer, originBtcdV2),
			Script: mockpeer.NewScript("wrong-magic-frame", rawFrame(func(n wire.Network) wire.RawFrame {
				return versionFrame(n).WithMagic(otherNetwork(n))
			})),
			Expect: map[Model]Expectation{
				ModelCore:   disconnects(),
				ModelCoreV2: disconnects(),
				ModelBtcd:   disconnects(),
				ModelBtcdV2: btcdV2Key().Then(EndClosed),
			},
		},
		{
			Name: "oversized-header", Rule: "9",
			Summary: "a version header declaring 4,000,001 bytes, nothing more",
			Origin:  origin(originCoreNet+": MAX_PROTOCOL_MESSAGE_LENGTH", originBtcdPeer+": wire.MaxProtocolMessageLength, checked before the payload"),
			Script: mockpeer.NewScript("oversized-header", rawHeader(func(n wire.Network) wire.RawFrame {
				return versionFrame(n).WithLength(wire.MaxPayload + 1)
			})),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "oversized-header-after-verack", Rule: "9",
			Summary: "a block header declaring 4,000,001 bytes after the handshake",
			Origin:  origin(originCoreNet, originBtcdPeer+": a malformed message gets a reject and a disconnect"),
			Script: mockpeer.NewScript("oversized-header-after-verack", steps(fullHandshake(), one(rawHeader(func(n wire.Network) wire.RawFrame {
				return wire.NewRawFrame(n, wire.Raw{Cmd: "block"}).WithLength(wire.MaxPayload + 1)
			})))...),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
	}
}

// probesMalformedVersion is rules 10 and 11: a version that does not
// parse, and the node's own nonce.
func probesMalformedVersion() []Probe {
	return []Probe{
		{
			Name: "truncated-version", Rule: "10",
			Summary: "a version cut after 50 bytes (inside addr_from), checksum matching",
			Origin:  origin(originCoreNP+": a version that does not deserialize is dropped; the peer times out later", originBtcdPeer),
			Alive:   answersVersion(),
			Script: mockpeer.NewScript("truncated-version", rawFrame(func(n wire.Network) wire.RawFrame {
				f := versionFrame(n)
				return f.WithPayload(f.Payload[:50]).Resealed()
			})),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "long-user-agent", Rule: "10",
			Summary: "a version whose user agent has 257 bytes",
			Origin:  origin(originCoreNP+": MAX_SUBVERSION_LENGTH, version dropped", originBtcdPeer+": MaxUserAgentLen"),
			Alive:   answersVersion(),
			Script: mockpeer.NewScript("long-user-agent", mockpeer.ReplyVersion(probeVersion(wire.ProtocolVersion, func(v *wire.Version) {
				v.UserAgent = "/" + strings.Repeat("x", wire.MaxUserAgentLen) + "/"
			}))),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "self-connection", Rule: "11",
			Summary: "our version carries the nonce the node sent on another, unfinished, inbound connection",
			Origin:  origin(originCoreNonce+": an inbound nonce is not ours to check, so Core answers", originBtcdPeer+": sentNonces holds every nonce btcd sent"),
			Script:  mockpeer.NewScript("self-connection", echoNodeNonce(defaultProbeObserve)),
			Expect: map[Model]Expectation{
				ModelCore: replies(wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack),
				ModelBtcd: disconnects(),
			},
		},
	}
}

// probesV2Key is the BIP324 note of PROTOCOL.md §5: a v2 key where a v1
// version belongs.
func probesV2Key() []Probe {
	return []Probe{
		{
			Name: "v2-key", Rule: "v2",
			Summary: "64 bytes that open a BIP324 handshake instead of a v1 version",
			Origin:  origin(originCoreV2, originCoreNet+" with -v2transport=0: wrong magic", originBtcdPeer+": the length read from those bytes is over 4,000,000", originBtcdV2),
			Script:  mockpeer.NewScript("v2-key", mockpeer.SendRaw(v2Key())),
			Expect: map[Model]Expectation{
				ModelCore:   disconnects(),
				ModelCoreV2: coreV2Key(),
				ModelBtcd:   disconnects(),
				ModelBtcdV2: btcdV2Key(),
			},
		},
	}
}
