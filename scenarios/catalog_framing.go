package scenarios

import (
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// versionFixedSize is the part of a version payload every version has:
// version (4), services (8), timestamp (8) and addr_recv (26).
const versionFixedSize = 4 + 8 + 8 + 26

// catalogFraming is frames a correct client drops or refuses: a stray
// payload, a bad checksum, an invalid command, another network's magic.
func catalogFraming() []Scenario {
	return []Scenario{
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
	}
}

// catalogMalformed is declared lengths over the limit or lying, and
// versions that do not parse.
func catalogMalformed() []Scenario {
	return []Scenario{
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
				frame(versionPayload(version(nil), func(p []byte) []byte { return p[:versionFixedSize+10] })),
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
	}
}
