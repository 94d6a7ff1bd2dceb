package scenarios

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"syscall"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// V2 probes: the probe plays a BIP324 v2 client (the initiator) against the
// node, byte by byte where the rule is about bytes. They are a list of their
// own, beside the v1 probes: conform runs them for the v2 profiles (core-v2,
// btcd-v2) after the v1 probes, so the v1 catalog, and every table made
// from it, stays as it is. A v2 probe's Rule names the part of BIP324 it
// checks (garbage, terminator, aad, decoys, version-packet, detection,
// length, short-id, rekey).
//
// The reaction of a v2 node is in packets: the probe's connection decrypts
// what the node sends once the handshake is done, so an Observation lists
// the messages inside the packets (decoys are not messages). Before that,
// or on a connection that never became v2, what is not a v1 frame is
// "non-v1 bytes" (the node's key).
//
// Against a v1-only node (core, btcd) the probes that open with a key
// observe how the node treats 64 bytes that are not a v1 header: Core
// closes once it has read a header with the wrong magic, btcd once the
// length those bytes declare is over 4,000,000 (for a random key, all but
// 1 in 1,074 times; otherwise it reads that many bytes first). Probes that
// need a finished v2 handshake before their message have no v1
// expectation.

// Origins of the v2 probes.
const (
	originBIP324 = "BIP324 (bip-0324.mediawiki)"
	// Core's tests.
	originCoreV2Misbehaving = "Bitcoin Core test/functional/p2p_v2_misbehaving.py"
	originCoreV2Transport   = "Bitcoin Core test/functional/p2p_v2_transport.py"
	originCoreNetTests      = "Bitcoin Core src/test/net_tests.cpp v2transport_test"
	// Core's source.
	originCoreV2Garbage = "Bitcoin Core src/net.cpp V2Transport::ProcessReceivedGarbageBytes (\"V2 transport error: missing garbage terminator\" past MAX_GARBAGE_LEN+16 bytes)"
	originCoreV2Packet  = "Bitcoin Core src/net.cpp V2Transport::ProcessReceivedPacketBytes (\"packet decryption failure\"; \"packet too large\" over MAX_CONTENTS_LEN = 1+12+4,000,000)"
	originCoreV2MsgType = "Bitcoin Core src/net.cpp V2Transport::GetMessageType/GetReceivedMessage (an unknown short id: the message is dropped, the connection kept)"
	// btcd's source, v0.26.2 with --v2transport: peer/peer.go
	// negotiateInboundProtocol, readMessage, inHandler; v2transport v1.1.0
	// transport.go.
	originBtcdV2Term   = "btcd v2transport v1.1.0 CompleteHandshake: reads 16 bytes, then one at a time for 4,095 more, so it checks at most 4,110 bytes and never finds a terminator after 4,095 bytes of garbage (errGarbageTermNotRecv)"
	originBtcdV2Packet = "btcd v2transport v1.1.0 V2ReceivePacket (the first packet's AAD is the garbage received; a decryption error ends the negotiation; decoys skipped; any length up to maxContentLen = 2^24-1 is read)"
	originBtcdV2Peer   = "btcd v0.26.2 peer/peer.go negotiateInboundProtocol (RespondV2Handshake, CompleteHandshake, then the v1 negotiation in packets), inHandler (wire.ErrUnknownMessage skipped)"
	originBtcdV1Key    = "btcd v0.26.2 without --v2transport: the key read as a v1 header declares over 4,000,000 bytes (all but 1 in 1,074 random keys)"
	originCoreV1Key    = "Bitcoin Core -v2transport=0: V1Transport::readHeader, wrong MessageStart"
)

// Reactions of the v2 probes.
func coreV2Answers() Expectation {
	return Expectation{Sends: []string{wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack},
		Only: preVerackCommands(), End: EndOpen}
}

func btcdV2Answers() Expectation {
	return Expectation{Sends: []string{wire.CmdVersion, wire.CmdSendAddrV2, wire.CmdVerack},
		Only: preVerackCommands(), End: EndOpen}
}

// preVerackCommands are what a node may send before it has our verack.
func preVerackCommands() []string {
	return []string{wire.CmdVersion, wire.CmdVerack, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdSendTxRcncl, wire.CmdAlert}
}

// nodeLeft reports an error that says the node closed or reset the
// connection: on a v2 probe's way to its message, that is the reaction.
func nodeLeft(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// v2Stimulus plays the v2 handshake as v says and then, when it completed,
// each of then: the probe's message is all of it. The node leaving on the
// way is its reaction (the close is in the transcript), not a failure of
// the probe; a node that sends no key in time, or breaks its own side of
// the handshake, fails the probe's setup (error).
func v2Stimulus(v mockpeer.V2, then ...func(c *mockpeer.Conn) error) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		if err := c.V2Handshake(v); err != nil {
			if nodeLeft(err) {
				return nil
			}
			return err
		}
		for _, f := range then {
			if err := f(c); err != nil {
				if nodeLeft(err) {
					return nil
				}
				return err
			}
		}
		return nil
	})
}

// sendOurVersion sends the probe's version (in a packet on a v2 connection).
func sendOurVersion(c *mockpeer.Conn) error {
	return c.Send(c.VersionFor(probeVersion(wire.ProtocolVersion, nil)))
}

// v2Handshake is the setup of the probes that need a finished v2 and
// version handshake before their message: a correct v2 handshake, our
// version, the node's verack, our verack, and quiet.
func v2Handshake() []mockpeer.Step {
	return append([]mockpeer.Step{mockpeer.V2Handshake(mockpeer.V2{RandomGarbage: true})}, fullHandshake()...)
}

// v1Prefix is the first n bytes of a v1 version frame for the connection's
// network, and sendRest the rest of it: the node then has our version.
func v1Prefix(n int) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error { return c.SendRaw(versionFrame(c.Network()).Bytes()[:n]) })
}

func sendRest(from int) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error { return c.SendRaw(versionFrame(c.Network()).Bytes()[from:]) })
}

// v1PrefixLen is the 16 bytes a v2 responder compares with magic‖"version".
const v1PrefixLen = 4 + wire.CommandSize

// rekeyBurst is how many pings the rekey probe sends (and has answered)
// before its own: with the handshake's packets, both directions pass
// BIP324's rekey interval of 224 packets.
const rekeyBurst = 224

// pingBurst sends n pings in one write and waits for the pong of the last.
func pingBurst(n int) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		msgs := make([]wire.Message, n)
		for i := range msgs {
			msgs[i] = wire.Ping{Nonce: 0xb0b0_0000 + uint64(i)}
		}
		if err := c.Send(msgs...); err != nil {
			return err
		}
		last := uint64(0xb0b0_0000 + n - 1)
		deadline := time.Now().Add(c.StepTimeout())
		for {
			in, err := c.Next(deadline)
			if err != nil {
				return fmt.Errorf("waiting for the pong of ping %d of %d: %w", n, n, err)
			}
			if p, ok := in.Message.(wire.Pong); ok && p.Nonce == last {
				return nil
			}
		}
	}).Coalesced()
}

// Oversized packet: the declared contents length, one over Core's limit.
const oversizedContents = 1 + wire.CommandSize + wire.MaxPayload + 1

// unknownShortID is a short message id BIP324 does not assign (Core's test
// picks one in 33..255).
const unknownShortID = 0xff

// withV1Key is more, plus the reaction of the v1 models to a v2 key: they
// disconnect.
func withV1Key(more map[Model]Expectation) map[Model]Expectation {
	out := map[Model]Expectation{ModelCore: disconnects(), ModelBtcd: disconnects()}
	for k, v := range more {
		out[k] = v
	}
	return out
}

// v1KeyOrigin is where the v1 models' reaction to a v2 key comes from.
func v1KeyOrigin() string { return origin(originCoreV1Key, originBtcdV1Key) }

// v2ProbeCatalog is every v2 probe, in the order conform runs them.
func v2ProbeCatalog() []Probe {
	return slices.Concat(
		v2ProbesHandshake(),
		v2ProbesDetection(),
		v2ProbesPackets(),
	)
}

// v2ProbesHandshake is the parts of the v2 handshake: garbage, its
// terminator, the AAD, decoys, the version packet.
func v2ProbesHandshake() []Probe {
	return []Probe{
		{
			Name: "v2-garbage-0", Rule: "garbage",
			Summary: "a v2 handshake with no garbage, then our version",
			Origin:  origin(originBIP324+": garbage of 0 to 4095 bytes", originCoreNetTests+" (normal scenario, responder)", originBtcdV2Peer, v1KeyOrigin()),
			Script:  mockpeer.NewScript("v2-garbage-0", v2Stimulus(mockpeer.V2{Garbage: 0}, sendOurVersion)),
			Expect:  withV1Key(map[Model]Expectation{ModelCoreV2: coreV2Answers(), ModelBtcdV2: btcdV2Answers()}),
		},
		{
			Name: "v2-garbage-4095", Rule: "garbage",
			Summary: "a v2 handshake with 4,095 bytes of garbage (the most BIP324 allows), then our version",
			Origin:  origin(originBIP324+": garbage of 0 to 4095 bytes", originCoreV2Garbage+": accepted up to 4095+16", originBtcdV2Term+": btcd closes", v1KeyOrigin()),
			Script:  mockpeer.NewScript("v2-garbage-4095", v2Stimulus(mockpeer.V2{Garbage: 4095}, sendOurVersion)),
			Expect:  withV1Key(map[Model]Expectation{ModelCoreV2: coreV2Answers(), ModelBtcdV2: disconnects()}),
		},
		{
			Name: "v2-garbage-4096", Rule: "garbage",
			Summary: "a v2 handshake with 4,096 bytes of garbage, one too many, then our version",
			Origin: origin(originCoreV2Misbehaving+" EXCESS_GARBAGE (\"missing garbage terminator\")", originCoreNetTests+" (too long garbage, responder)",
				originCoreV2Garbage, originBtcdV2Term, v1KeyOrigin()),
			Script: mockpeer.NewScript("v2-garbage-4096", v2Stimulus(mockpeer.V2{Garbage: 4096}, sendOurVersion)),
			Expect: withV1Key(map[Model]Expectation{ModelCoreV2: disconnects(), ModelBtcdV2: disconnects()}),
		},
		{
			Name: "v2-wrong-terminator", Rule: "terminator", Slow: true,
			Summary: "a v2 handshake whose garbage terminator is wrong (the node keeps looking for it)",
			Origin: origin(originCoreV2Misbehaving+" WRONG_GARBAGE_TERMINATOR (\"version handshake timeout\")", originCoreV2Garbage+": fewer than 4,111 bytes came, so it waits",
				originBtcdV2Term+": it waits for more bytes until its negotiate timeout", v1KeyOrigin()),
			Script: mockpeer.NewScript("v2-wrong-terminator", v2Stimulus(mockpeer.V2{Garbage: 100, WrongTerminator: true})),
			Expect: withV1Key(map[Model]Expectation{ModelCoreV2: timesOut(), ModelBtcdV2: timesOut()}),
		},
		{
			Name: "v2-tampered-garbage", Rule: "aad",
			Summary: "a v2 handshake whose first packet authenticates other garbage than the garbage sent",
			Origin: origin(originCoreV2Misbehaving+" WRONG_GARBAGE (\"packet decryption failure\")", originBIP324+": the garbage is the AAD of the first packet",
				originCoreV2Packet, originBtcdV2Packet, v1KeyOrigin()),
			Script: mockpeer.NewScript("v2-tampered-garbage", v2Stimulus(mockpeer.V2{Garbage: 100, TamperAAD: true})),
			Expect: withV1Key(map[Model]Expectation{ModelCoreV2: disconnects(), ModelBtcdV2: disconnects()}),
		},
		{
			Name: "v2-no-aad", Rule: "aad",
			Summary: "a v2 handshake whose first packet, after 100 bytes of garbage, has no AAD",
			Origin:  origin(originCoreV2Misbehaving+" SEND_NO_AAD (\"packet decryption failure\")", originCoreV2Packet, originBtcdV2Packet, v1KeyOrigin()),
			Script:  mockpeer.NewScript("v2-no-aad", v2Stimulus(mockpeer.V2{Garbage: 100, NoAAD: true})),
			Expect:  withV1Key(map[Model]Expectation{ModelCoreV2: disconnects(), ModelBtcdV2: disconnects()}),
		},
		{
			Name: "v2-decoys-before-version", Rule: "decoys",
			Summary: "10 decoy packets (ignore bit) between the terminator and the version packet, then our version",
			Origin: origin(originCoreV2Misbehaving+" (every case sends 0 to 10 decoys of 1 to 100 bytes before the version packet)", originBIP324+": decoys are ignored",
				originCoreNetTests+" (normal scenario: decoys before the version packet)", originBtcdV2Packet, v1KeyOrigin()),
			Script: mockpeer.NewScript("v2-decoys-before-version", v2Stimulus(mockpeer.V2{Garbage: 50, DecoysBefore: 10, DecoySize: 100}, sendOurVersion)),
			Expect: withV1Key(map[Model]Expectation{ModelCoreV2: coreV2Answers(), ModelBtcdV2: btcdV2Answers()}),
		},
		{
			Name: "v2-version-packet-contents", Rule: "version-packet",
			Summary: "a version packet with 5 bytes of contents (a future transport version), then our version",
			Origin: origin(originCoreV2Misbehaving+" SEND_NON_EMPTY_VERSION_PACKET (no disconnection)", originBIP324+": version packet contents are ignored",
				"btcd v2transport v1.1.0 CompleteHandshake (the version packet's contents are not looked at)", v1KeyOrigin()),
			Script: mockpeer.NewScript("v2-version-packet-contents", v2Stimulus(mockpeer.V2{Garbage: 20, VersionContents: []byte{1, 2, 3, 4, 5}}, sendOurVersion)),
			Expect: withV1Key(map[Model]Expectation{ModelCoreV2: coreV2Answers(), ModelBtcdV2: btcdV2Answers()}),
		},
	}
}

// v2ProbesDetection is how a node tells a v2 key from v1 bytes.
func v2ProbesDetection() []Probe {
	return []Probe{
		{
			Name: "v2-v1-prefix-15", Rule: "detection",
			Summary: "the first 15 of the 16 bytes magic‖\"version\", then a pause",
			Origin: origin(originCoreV2Transport+" (check v1 prefix detection: \"detecting\" after 15 bytes)", originCoreV2Misbehaving+" EARLY_KEY_RESPONSE",
				"Bitcoin Core src/net.cpp V2Transport::ProcessReceivedMaybeV1Bytes", "btcd v2transport v1.1.0 RespondV2Handshake (reads byte by byte until one differs or 16 match)",
				"v1-only nodes: a header is 24 bytes"),
			Alive:  []mockpeer.Step{sendRest(v1PrefixLen - 1), mockpeer.Expect(wire.CmdVersion)},
			Script: mockpeer.NewScript("v2-v1-prefix-15", v1Prefix(v1PrefixLen-1)),
			Expect: map[Model]Expectation{ModelCore: ignores(), ModelBtcd: ignores(), ModelCoreV2: ignores(), ModelBtcdV2: ignores()},
		},
		{
			Name: "v2-v1-header", Rule: "detection",
			Summary: "a v1 version for the node's network: the node falls back to v1",
			Origin: origin(originCoreNetTests+" (send correct network's V1 header)", originCoreV2Transport+" (V1 nodes can sync with V2 nodes)",
				"btcd v2transport v1.1.0 RespondV2Handshake (ErrUseV1Protocol), peer.go negotiateInboundProtocol (downgraded)"),
			Script: mockpeer.NewScript("v2-v1-header", sendVersion(wire.ProtocolVersion)),
			Expect: map[Model]Expectation{
				ModelCore: coreV2Answers(), ModelCoreV2: coreV2Answers(),
				ModelBtcd: btcdV2Answers(), ModelBtcdV2: btcdV2Answers(),
			},
		},
		{
			Name: "v2-wrong-network-v1-header", Rule: "detection",
			Summary: "signet's magic, \"version\" and 11 more bytes, all at once",
			Origin: origin(originCoreV2Transport+" (wrong network prefix detection: \"V1 peer with wrong MessageStart\")", originCoreNetTests+" (send wrong network's V1 header)",
				originCoreV2WrongMagic, originBtcdV2+": fewer than 64 bytes came, so it waits after its key", "v1-only nodes: wrong magic (btcd: the declared length, \"some\", is over 4,000,000)"),
			Script: mockpeer.NewScript("v2-wrong-network-v1-header", mockpeer.Do(func(c *mockpeer.Conn) error {
				m := wire.Signet.Magic()
				if c.Network() == wire.Signet {
					m = wire.Mainnet.Magic()
				}
				b := append(append(m[:], v1VersionCommand()...), "somepayload"...)
				return c.SendRaw(b)
			})),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(), ModelBtcd: disconnects(),
				ModelCoreV2: disconnects(), ModelBtcdV2: {NonV1: true, End: EndOpen},
			},
		},
		{
			Name: "v2-4111-zero-bytes", Rule: "garbage",
			Summary: "64 + 4,111 zero bytes: a key, then garbage with no terminator where the last one could end",
			Origin: origin(originCoreV2Transport+" (detection of missing garbage terminator: 64+4095+16 zero bytes)", originCoreV2Garbage,
				originBtcdV2Term+": closed after 64+4,110", "v1-only nodes: magic 0 is wrong (btcd: it declares 0 bytes, then the magic fails)"),
			Script: mockpeer.NewScript("v2-4111-zero-bytes", mockpeer.SendRaw(make([]byte, 64+4095+16))),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(), ModelBtcd: disconnects(),
				ModelCoreV2: {NonV1: true, End: EndClosed}, ModelBtcdV2: {NonV1: true, End: EndClosed},
			},
		},
		{
			Name: "v2-4110-zero-bytes", Rule: "garbage",
			Summary: "64 + 4,110 zero bytes: a terminator could still end at the next byte",
			Origin: origin(originCoreV2Transport+" (detection of missing garbage terminator: no disconnection one byte before)", originCoreV2Garbage,
				originBtcdV2Term+": still reading after 64+4,110 (it reads a 4,111th byte before it gives up); closed after 64+4,111", "v1-only nodes: magic 0 is wrong"),
			Script: mockpeer.NewScript("v2-4110-zero-bytes", mockpeer.SendRaw(make([]byte, 64+4095+15))),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(), ModelBtcd: disconnects(),
				ModelCoreV2: {NonV1: true, End: EndOpen}, ModelBtcdV2: {NonV1: true, End: EndOpen},
			},
		},
	}
}

// v2ProbesPackets is packets once the handshake is done: a length over the
// limit, an unknown short id, rekeying.
func v2ProbesPackets() []Probe {
	return []Probe{
		{
			Name: "v2-oversized-packet", Rule: "length",
			Summary: "after the handshake, a packet declaring 4,000,014 bytes of contents (one over Core's limit), nothing more",
			Origin:  origin(originCoreV2Packet, originBIP324, originBtcdV2Packet+": btcd waits for the 4 MB"),
			// btcd reads the declared bytes: the rest of the packet (not
			// authentic) makes it close.
			Alive: []mockpeer.Step{mockpeer.SendRaw(make([]byte, oversizedContents+17)), mockpeer.Do((*mockpeer.Conn).ExpectClosed)},
			Script: mockpeer.NewScript("v2-oversized-packet", steps(v2Handshake(), one(
				mockpeer.Send(bip324.Packet{Declared: oversizedContents})))...),
			Expect: map[Model]Expectation{ModelCoreV2: disconnects(), ModelBtcdV2: ignores()},
		},
		{
			Name: "v2-unknown-short-id", Rule: "short-id",
			Summary: "after the handshake, a message with short id 255 (unassigned), then a ping",
			Origin:  origin(originCoreNetTests+" (unknown short id: no message, connection kept)", originCoreV2MsgType, originBtcdV2Peer),
			Script: mockpeer.NewScript("v2-unknown-short-id", steps(v2Handshake(), one(
				thenPing(func(c *mockpeer.Conn) error {
					return c.Send(bip324.Packet{Contents: []byte{unknownShortID, 1, 2, 3}})
				})))...),
			Expect: map[Model]Expectation{ModelCoreV2: pongs(), ModelBtcdV2: pongs()},
		},
		{
			Name: "v2-rekey", Rule: "rekey",
			Summary: "after the handshake, 224 pings (each way past BIP324's rekey every 224 packets), then a ping",
			Origin: origin(originBIP324+": FSChaCha20Poly1305 rekeys every 224 packets", originCoreNetTests+" (many packets, decoys)",
				"btcd v2transport v1.1.0 chacha.go (rekeying)"),
			Script: mockpeer.NewScript("v2-rekey", steps(v2Handshake(), one(pingBurst(rekeyBurst), mockpeer.Send(wire.Ping{Nonce: 0x2e6e7})))...),
			Expect: map[Model]Expectation{ModelCoreV2: pongs(), ModelBtcdV2: pongs()},
		},
	}
}

// v1VersionCommand is "version" padded to 12 bytes.
func v1VersionCommand() []byte {
	c := wire.CommandBytes(wire.CmdVersion)
	return c[:]
}
