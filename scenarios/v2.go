package scenarios

import (
	"slices"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Origins and names of the v2 scenarios.
const (
	bip324Text       = "BIP324 (bip-0324.mediawiki)"
	coreV2Transport  = "src/net.cpp V2Transport"
	coreMisbehaving  = "test/functional/p2p_v2_misbehaving.py"
	coreV2Functional = "test/functional/p2p_v2_transport.py"
	coreNetTests     = "src/test/net_tests.cpp v2transport_test"
	btcdScanBug      = "btcd v2transport v1.0.1/v1.1.0: the terminator scan stops one byte short, missing it after exactly 4095 bytes of garbage"
	recordedV2       = "recorded: btcd-v2-to-core-v30.pcap (a real btcd↔Core v30 v2 handshake)"

	kV2Decrypt      = "v2-decrypt"
	kV2NoTerminator = "v2-no-terminator"
	kV2Oversized    = "v2-oversized-packet"
	phaseV2         = "v2-handshake"
	qDecoy          = "v2-decoy"
	qDecoyFirst     = "v2-decoy-before-version-packet"
	qVersionPacket  = "v2-version-packet-contents"
	qShortID        = "v2-unknown-short-id"
	qLongForm       = "v2-long-form-command"
	tagV2           = "v2"
	transportV2     = "v2"
	transportAuto   = "auto"
	// sentKey: a client failing in the v2 handshake has sent its key
	// (the mock's witness, mockpeer.EventV2Key).
	sentKey = mockpeer.EventV2Key
)

// coreV2 is Core's responder with v2 as v says (no peer timeout of its own).
func coreV2(v mockpeer.V2) mockpeer.Profile {
	return core().V2Transport(&v)
}

// v1Only is Core with -v2transport=0: it reads a v2 key as a v1 header
// with a wrong magic and disconnects.
func v1Only() mockpeer.Profile { return core().V2Transport(nil) }

// v2Script is the v2 handshake as v says, then steps.
func v2Script(name string, v mockpeer.V2, steps ...mockpeer.Step) mockpeer.Script {
	return mockpeer.NewScript(name, append([]mockpeer.Step{mockpeer.V2Handshake(v)}, steps...)...)
}

// packetAfterVersion answers the client's version with a packet p (and
// nothing else), then holds or closes.
func packetAfterVersion(name string, p bip324.Packet, end mockpeer.Step) mockpeer.Script {
	return v2Script(name, mockpeer.V2{Garbage: 10}, expectVersion(), mockpeer.Send(p), end)
}

// longForm is the 13-byte message type of cmd followed by payload.
func longForm(cmd string, payload []byte) []byte {
	c := wire.CommandBytes(cmd)
	return append(append([]byte{0}, c[:]...), payload...)
}

// v2Scenario fills the fields every v2 scenario shares.
func v2Scenario(s Scenario) Scenario {
	if s.Transport == "" {
		s.Transport = transportV2
	}
	s.Tags = append([]string{tagV2}, s.Tags...)
	return s
}

// v2Catalog is the v2 and auto scenarios, in the order the CLI lists them.
func v2Catalog() []Scenario {
	list := slices.Concat(
		v2CatalogGarbage(),
		v2CatalogPackets(),
		v2CatalogBroken(),
		v2CatalogKeyTiming(),
		v2CatalogFallback(),
		v2CatalogMessages(),
	)
	for i := range list {
		list[i] = v2Scenario(list[i])
	}
	return list
}

// v2CatalogGarbage is Core's responder, and garbage of every length up to
// and past BIP324's limit.
func v2CatalogGarbage() []Scenario {
	return []Scenario{
		{
			Name: "v2-core-v30-responder", Tags: []string{tagCore, tagImplementation},
			Summary: "Bitcoin Core v30 with its default -v2transport=1: v1 detection, key, 0..4095 random garbage, terminator, version packet, then Core's messages in packets",
			Origin:  coreV2Transport + "; " + recordedV2,
			Script:  coreV2(mockpeer.V2{RandomGarbage: true}).Named("v2-core-v30-responder").Script(),
			Expect:  Completes(),
		},
		{
			Name: "v2-no-garbage", Tags: []string{tagCore},
			Summary: "no garbage at all: the terminator follows the key",
			Origin:  bip324Text + ": garbage is 0 to 4095 bytes",
			Script:  coreV2(mockpeer.V2{}).Named("v2-no-garbage").Script(),
			Expect:  Completes(),
		},
		{
			Name: "v2-garbage-4095", Tags: []string{tagImplementation},
			Summary: "the most garbage allowed, 4095 bytes, before the terminator",
			Origin:  btcdScanBug + " (about 1 in 4096 handshakes with Core fail)",
			Script:  coreV2(mockpeer.V2{Garbage: bip324.MaxGarbageLen}).Named("v2-garbage-4095").Script(),
			Expect:  Completes(),
		},
		{
			Name: "v2-garbage-4096", Tags: []string{tagMalformed},
			Summary: "4096 bytes of garbage, one over the limit: the terminator is past where a peer may look",
			Origin:  bip324Text + "; " + coreMisbehaving + " EXCESS_GARBAGE",
			Script:  coreV2(mockpeer.V2{Garbage: bip324.MaxGarbageLen + 1}).Named("v2-garbage-4096").Script(),
			Expect:  sent(Fails(kV2NoTerminator, phaseV2), sentKey),
		},
		{
			Name: "v2-garbage-no-terminator-flood", Tags: []string{tagMalformed},
			Summary: "8000 bytes of garbage and no terminator: give up after 4095+16 bytes, not at the deadline",
			Origin:  bip324Text + "; " + coreV2Transport + " (\"missing garbage terminator\")",
			Script:  v2Script("v2-garbage-no-terminator-flood", mockpeer.V2{Garbage: 8000, NoTerminator: true}, mockpeer.HoldOpen()),
			Expect:  sent(Fails(kV2NoTerminator, phaseV2), sentKey),
		},
		{
			Name: "v2-garbage-ends-with-terminator-prefix", Tags: []string{tagCore},
			Summary: "the garbage ends with the first 15 bytes of the terminator, then the terminator",
			Origin:  bip324Text + "; " + coreNetTests + " (garbage scanned byte by byte)",
			Script:  coreV2(mockpeer.V2{Garbage: 100, TerminatorPrefix: 15}).Named("v2-garbage-ends-with-terminator-prefix").Script(),
			Expect:  Completes(),
		},
	}
}

// v2CatalogPackets is decoys and the version packet's contents.
func v2CatalogPackets() []Scenario {
	return []Scenario{
		{
			Name: "v2-decoys-before-version-packet", Tags: []string{tagImplementation},
			Summary: "three decoy packets before the version packet, the first carrying the garbage as AAD",
			Origin:  "rust-bitcoin bip324 once failed on decoys before the version packet; " + bip324Text,
			Script:  coreV2(mockpeer.V2{Garbage: 30, DecoysBefore: 3, DecoySize: 50}).Named("v2-decoys-before-version-packet").Script(),
			Expect:  Completes(qDecoy, qDecoyFirst),
		},
		{
			Name: "v2-decoys-after-version-packet", Tags: []string{tagCore},
			Summary: "five decoy packets right after the version packet",
			Origin:  bip324Text + "; " + coreV2Functional,
			Script:  coreV2(mockpeer.V2{Garbage: 30, DecoysAfter: 5, DecoySize: 10}).Named("v2-decoys-after-version-packet").Script(),
			Expect:  Completes(qDecoy),
		},
		{
			Name: "v2-large-decoy", Tags: []string{tagTransport},
			Summary: "a 200,000-byte decoy before the version packet",
			Origin:  bip324Text + " (decoys of any size); " + coreNetTests,
			Script:  coreV2(mockpeer.V2{DecoysBefore: 1, DecoySize: 200_000}).Named("v2-large-decoy").Script(),
			Expect:  Completes(qDecoy, qDecoyFirst),
		},
		{
			Name: "v2-version-packet-contents", Tags: []string{tagCore},
			Summary: "a version packet with contents (reserved for future extensions, to be ignored)",
			Origin:  bip324Text + "; " + coreMisbehaving + " SEND_NON_EMPTY_VERSION_PACKET",
			Script:  coreV2(mockpeer.V2{VersionContents: []byte("future-extension")}).Named("v2-version-packet-contents").Script(),
			Expect:  Completes(qVersionPacket),
		},
	}
}

// v2CatalogBroken is handshakes that cannot succeed: a wrong terminator,
// tampered garbage, no AAD, another network's keys.
func v2CatalogBroken() []Scenario {
	return []Scenario{
		{
			Name: "v2-wrong-terminator", Tags: []string{tagMalformed},
			Summary: "16 wrong bytes in place of the terminator, then the version packet, then silence",
			Origin:  coreMisbehaving + " WRONG_GARBAGE_TERMINATOR",
			Script:  v2Script("v2-wrong-terminator", mockpeer.V2{Garbage: 20, WrongTerminator: true}, mockpeer.HoldOpen()),
			Expect:  sent(Fails(kTimeout, phaseV2), sentKey),
		},
		{
			Name: "v2-garbage-tampered", Tags: []string{tagMalformed},
			Summary: "the first packet authenticates other bytes than the garbage sent (AAD mismatch)",
			Origin:  coreMisbehaving + " WRONG_GARBAGE",
			Script:  v2Script("v2-garbage-tampered", mockpeer.V2{Garbage: 40, TamperAAD: true}, mockpeer.HoldOpen()),
			Expect:  sent(Fails(kV2Decrypt, phaseV2), sentKey),
		},
		{
			Name: "v2-no-aad", Tags: []string{tagMalformed},
			Summary: "the version packet carries no AAD though garbage was sent",
			Origin:  coreMisbehaving + " SEND_NO_AAD",
			Script:  v2Script("v2-no-aad", mockpeer.V2{Garbage: 40, NoAAD: true}, mockpeer.HoldOpen()),
			Expect:  sent(Fails(kV2Decrypt, phaseV2), sentKey),
		},
		{
			Name: "v2-other-network-keys", Tags: []string{tagMalformed},
			Summary: "keys derived with another network's magic: the terminator never matches",
			Origin:  bip324Text + " (the magic salts HKDF); " + coreNetTests,
			Script:  v2Script("v2-other-network-keys", mockpeer.V2{Garbage: 10, OtherNetwork: true}, mockpeer.HoldOpen()),
			Expect:  sent(Fails(kTimeout, phaseV2), sentKey),
		},
	}
}

// v2CatalogKeyTiming is when the key comes: early, slowly, or not at all.
func v2CatalogKeyTiming() []Scenario {
	return []Scenario{
		{
			Name: "v2-early-key", Tags: []string{tagCore},
			Summary: "sends its key and garbage on accept, before reading anything",
			Origin:  coreMisbehaving + " EARLY_KEY_RESPONSE",
			Script:  coreV2(mockpeer.V2{Garbage: 25, EarlyKey: true}).Named("v2-early-key").Script(),
			Expect:  Completes(),
		},
		{
			Name: "v2-key-dribbled", Tags: []string{tagTransport, tagTiming},
			Summary: "key and garbage one byte per write, 1 ms apart",
			Origin:  coreNetTests + " (bytes delivered in pieces); TCP gives no boundaries",
			Script:  coreV2(mockpeer.V2{Garbage: 36, Chunk: 1, ChunkDelay: time.Millisecond}).Named("v2-key-dribbled").Script(),
			Expect:  Completes(),
		},
		{
			Name: "v2-key-trickle-past-deadline", Tags: []string{tagTransport, tagTiming},
			Summary: "its key one byte every 100 ms, far slower than any handshake timeout",
			Origin:  "kyoto's v2 handshake had no timeout; every read needs a deadline",
			Script:  coreV2(mockpeer.V2{Chunk: 1, ChunkDelay: 100 * time.Millisecond}).Named("v2-key-trickle-past-deadline").Script(),
			Expect:  sent(Fails(kTimeout, phaseV2), sentKey),
		},
		{
			Name: "v2-silent-after-key", Tags: []string{tagTransport, tagTiming},
			Summary: "reads our key and never answers",
			Origin:  "kyoto's v2 handshake had no timeout",
			Script:  mockpeer.NewScript("v2-silent-after-key", mockpeer.HoldOpen()),
			Expect:  sent(Fails(kTimeout, phaseV2), sentKey),
		},
		{
			Name: "v2-key-then-silence", Tags: []string{tagTransport, tagTiming},
			Summary: "answers with its key and garbage, then neither terminator nor version packet",
			Origin:  "kyoto's v2 handshake had no timeout; " + bip324Text,
			Script:  v2Script("v2-key-then-silence", mockpeer.V2{Garbage: 64, NoTerminator: true}, mockpeer.HoldOpen()),
			Expect:  sent(Fails(kTimeout, phaseV2), sentKey),
		},
	}
}

// v2CatalogFallback is v1-only peers meeting a v2 key.
func v2CatalogFallback() []Scenario {
	return []Scenario{
		{
			Name: "v1-only-closes-on-key", Tags: []string{tagCore}, Transport: transportAuto,
			Summary: "a v1-only node (-v2transport=0): our key is a bad v1 header and it hangs up; auto reconnects with v1",
			Origin:  coreV2Transport + " ShouldReconnectV1 (\"retrying with v1 transport protocol\"); recorded: core-v30-outbound-to-v1-mock.pcap",
			Script:  v1Only().Named("v1-only-closes-on-key").Script(),
			Expect:  Completes(),
		},
		{
			Name: "v1-only-closes-on-key-v2-only", Tags: []string{tagCore},
			Summary: "the same v1-only node, with a client told to use v2 only: no fallback",
			Origin:  coreV2Functional + " (v2 to a v1 peer without fallback fails)",
			Script:  v1Only().Named("v1-only-closes-on-key-v2-only").Script(),
			Expect:  sent(Fails("", phaseV2), sentKey),
		},
		{
			Name: "v1-only-hangs-on-key", Tags: []string{tagImplementation, tagTiming}, Transport: transportAuto,
			Summary: "a v1-only node that waits for the rest of a 'payload' after our key instead of hanging up",
			Origin:  "nakamoto's v1 fallback stalled by a v1-only responder that hangs on a 64-byte key; " + coreV2Transport + " reconnects only when the peer disconnects",
			Script:  v1Only().OnBroken(mockpeer.Reply()).Named("v1-only-hangs-on-key").Script(),
			Expect: as(CoreLike, sent(Fails(kTimeout, phaseV2), sentKey),
				// A client that also falls back after a v2 timeout completes.
				as(Tolerant, Completes())),
		},
	}
}

// v2CatalogMessages is the packets that carry messages: lengths, tampering,
// short ids and long forms, rekeying, and btcd's responder.
func v2CatalogMessages() []Scenario {
	return []Scenario{
		{
			Name: "v2-oversized-packet", Tags: []string{tagMalformed, tagImplementation},
			Summary: "after our version, a packet whose length field declares 16,777,215 bytes: refuse it before allocating",
			Origin:  "btcd v2transport allocates a packet's declared length (up to 16 MiB) before reading it; " + coreV2Transport + " (\"packet too large\")",
			Script:  packetAfterVersion("v2-oversized-packet", bip324.Packet{Declared: 1<<24 - 1}, mockpeer.HoldOpen()),
			Expect:  Fails(kV2Oversized, phaseVersion),
		},
		{
			Name: "v2-length-over-core-limit", Tags: []string{tagMalformed},
			Summary: "a length field declaring 4,000,014 bytes of contents, one over Core's limit",
			Origin:  coreV2Transport + "::MAX_CONTENTS_LEN; " + coreNetTests,
			Script:  packetAfterVersion("v2-length-over-core-limit", bip324.Packet{Declared: bip324.MaxContentsLen + 1}, mockpeer.HoldOpen()),
			Expect:  Fails(kV2Oversized, phaseVersion),
		},
		{
			Name: "v2-length-lies-then-close", Tags: []string{tagMalformed, tagTransport},
			Summary: "a length field declaring 1000 bytes, 20 bytes of them, then a hang-up",
			Origin:  logFillBuffer + " (its v2 form)",
			Script:  packetAfterVersion("v2-length-lies-then-close", bip324.Packet{Declared: 1000, Contents: make([]byte, 20)}, readAndClose()),
			Expect:  Fails(kPeerClosed, phaseVersion),
		},
		{
			Name: "v2-tampered-packet", Tags: []string{tagMalformed},
			Summary: "a packet after the version packet whose bytes do not authenticate",
			Origin:  bip324Text + "; " + coreV2Transport + " (a packet that fails to decrypt disconnects)",
			Script: v2Script("v2-tampered-packet", mockpeer.V2{}, expectVersion(), mockpeer.Do(func(c *mockpeer.Conn) error {
				return c.Send(bip324.Packet{Declared: 8, Contents: make([]byte, 8+bip324.Expansion-bip324.LengthLen)})
			}), mockpeer.HoldOpen()),
			Expect: Fails(kV2Decrypt, phaseVersion),
		},
		{
			Name: "v2-unknown-short-id-before-verack", Tags: []string{tagCore},
			Summary: "a message with the unassigned short id 200 between version and verack (dropped, connection kept)",
			Origin:  bip324Text + " (unknown ids are ignored); " + coreNetTests,
			Script: v2Script("v2-unknown-short-id-before-verack", mockpeer.V2{Garbage: 5}, expectVersion(), mockpeer.ReplyVersion(nil),
				mockpeer.Send(bip324.Packet{Contents: []byte{200, 1, 2, 3}}), mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(qShortID),
		},
		{
			Name: "v2-long-form-sendcmpct", Tags: []string{tagCore},
			Summary: "sendcmpct before verack in the 13-byte long form, though it has short id 20",
			Origin:  bip324Text + " (both forms are the same message); src/net.cpp V2Transport::GetMessageType",
			Script: v2Script("v2-long-form-sendcmpct", mockpeer.V2{Garbage: 5}, expectVersion(), mockpeer.ReplyVersion(nil),
				mockpeer.Send(bip324.Packet{Contents: longForm(wire.CmdSendCmpct, wire.SendCmpct{Version: 2}.AppendPayload(nil))}),
				mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()),
			Expect: Completes(qLongForm, qSendCmpct),
		},
		{
			Name: "v2-burst-across-rekey", Tags: []string{tagTransport},
			Summary: "once the client's verack arrives, 500 inv packets in one write: the ciphers rekey after every 224 packets",
			Origin:  bip324Text + " (REKEY_INTERVAL 224); " + coreNetTests,
			Script:  coreV2(mockpeer.V2{Garbage: 10}).After(wire.CmdFeeFilter, burst(500)...).Coalesced().Named("v2-burst-across-rekey").Script(),
			Expect:  Completes(),
		},
		{
			Name: "v2-btcd-responder", Tags: []string{tagImplementation},
			Summary: "btcd v0.26.2 with --v2transport: random garbage, its v1 messages in packets, and a terminator scan that misses ours after exactly 4095 bytes",
			Origin:  "btcd v0.26.2 peer/peer.go with UsingV2Conn; " + btcdScanBug,
			Script: mockpeer.BtcdResponder().HandshakeTimeout(0).V2Transport(&mockpeer.V2{RandomGarbage: true}).
				Named("v2-btcd-responder").Script(),
			// A client that happens to send exactly 4095 bytes of garbage
			// (1 in 4096 with Core's random length) is dropped by btcd.
			Expect: as(CoreLike, Completes(), as(Rejecting, sent(Fails("", phaseV2), sentKey))),
		},
	}
}

// readAndClose reads what the client sends for 200 ms, then closes: a
// hang-up after the client's bytes are read is a FIN, not a RST.
func readAndClose() mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		deadline := time.Now().Add(200 * time.Millisecond)
		for {
			if _, err := c.Next(deadline); err != nil {
				return c.Close()
			}
		}
	})
}
