package wire_test

import (
	"bytes"
	"net/netip"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Published version messages, byte for byte.
var (
	// The 60002 hexdump in the "version" section of the Bitcoin wiki's
	// Protocol documentation (https://en.bitcoin.it/wiki/Protocol_documentation#version):
	// a Satoshi 0.7.2 client with unroutable addresses, no relay byte
	// (60002 predates BIP37). Header included: magic, "version", length
	// 100, checksum 35 8d 49 32.
	wikiVersionFrame = unhex(`
		f9 be b4 d9 76 65 72 73 69 6f 6e 00 00 00 00 00
		64 00 00 00 35 8d 49 32 62 ea 00 00 01 00 00 00
		00 00 00 00 11 b2 d0 50 00 00 00 00 01 00 00 00
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 ff ff
		00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
		00 00 00 00 00 00 00 00 ff ff 00 00 00 00 00 00
		3b 2e b3 5d 8c e6 17 65 0f 2f 53 61 74 6f 73 68
		69 3a 30 2e 37 2e 32 2f c0 3e 03 00`)

	// The annotated 70002 example of the Bitcoin developer reference
	// (https://developer.bitcoin.org/reference/p2p_networking.html#version,
	// formerly bitcoin.org/en/developer-reference#version), payload only;
	// the reference replaced the real addresses with RFC 5737 ones.
	devRefVersionPayload = unhex(`
		72110100
		0100000000000000
		bc8f5e5400000000
		0100000000000000 00000000000000000000ffffc61b6409 208d
		0100000000000000 00000000000000000000ffffcb0071c0 208d
		128035cbc97953f8
		0f 2f5361746f7368693a302e392e332f
		cf050500
		01`)
	// Its header on mainnet. The same framed bytes are a test vector in
	// Programming Bitcoin's network tests (checksum 5f1a69d2, length 0x65).
	devRefVersionHeader = unhex("f9beb4d9 76657273696f6e0000000000 65000000 5f1a69d2")
)

func mapped4(a, b, c, d byte) [16]byte {
	return [16]byte{10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d}
}

// fullVersion is a version with every group present and distinctive values.
func fullVersion() *wire.Version {
	return &wire.Version{
		ProtocolVersion: 70016,
		Services:        wire.NodeNetwork | wire.NodeWitness | wire.NodeNetworkLimited,
		Timestamp:       1_700_000_000,
		AddrRecv:        wire.NetAddress{Services: 1, IP: mapped4(192, 0, 2, 1), Port: 8333},
		AddrFrom:        wire.NetAddress{Services: 0x409, IP: mapped4(198, 51, 100, 7), Port: 18444},
		Nonce:           0x0123456789abcdef,
		UserAgent:       "/Satoshi:27.0.0/",
		StartHeight:     850_000,
		Relay:           false,
	}
}

func decodeVersion(b []byte) (*wire.Version, error) {
	v := new(wire.Version)
	return v, v.DecodePayload(b)
}

var _ = Describe("Version", func() {
	Describe("published vectors", func() {
		It("decodes the Bitcoin wiki's 60002 hexdump field by field and re-encodes it byte for byte", func() {
			r := wire.NewReader(bytes.NewReader(wikiVersionFrame), wire.Mainnet)
			f, err := r.Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal("version"))
			Expect(f.Header.Length).To(Equal(uint32(100)))
			Expect(f.Header.Checksum).To(Equal([4]byte{0x35, 0x8d, 0x49, 0x32}))

			v, err := decodeVersion(f.Payload)
			Expect(err).NotTo(HaveOccurred())
			Expect(v.ProtocolVersion).To(Equal(int32(60002)))
			Expect(v.Services).To(Equal(wire.NodeNetwork))
			Expect(v.Timestamp).To(Equal(int64(1355854353))) // Tue Dec 18 2012 18:12:33 UTC
			Expect(v.AddrRecv).To(Equal(wire.NetAddress{Services: 1, IP: mapped4(0, 0, 0, 0), Port: 0}))
			Expect(v.AddrFrom).To(Equal(wire.NetAddress{Services: 0, IP: mapped4(0, 0, 0, 0), Port: 0}))
			Expect(v.Nonce).To(Equal(uint64(0x6517e68c5db32e3b)))
			Expect(v.UserAgent).To(Equal("/Satoshi:0.7.2/"))
			Expect(v.StartHeight).To(Equal(int32(212672)))
			Expect(v.Relay).To(BeTrue(), "absent relay means true")
			Expect(v.Tail).To(Equal(wire.TailNoRelay))
			Expect(v.TrailingBytes).To(BeZero())

			Expect(v.AppendPayload(nil)).To(Equal(wikiVersionFrame[wire.HeaderSize:]))
			Expect(wire.AppendMessage(nil, wire.Mainnet, v)).To(Equal(wikiVersionFrame))
		})

		It("decodes the developer reference's 70002 example field by field and re-encodes it byte for byte", func() {
			v, err := decodeVersion(devRefVersionPayload)
			Expect(err).NotTo(HaveOccurred())
			Expect(v.ProtocolVersion).To(Equal(int32(70002)))
			Expect(v.Services).To(Equal(wire.NodeNetwork))
			Expect(v.Timestamp).To(Equal(int64(1415483324)))
			Expect(v.AddrRecv.Services).To(Equal(wire.NodeNetwork))
			Expect(v.AddrRecv.AddrPort()).To(Equal(netip.MustParseAddrPort("198.27.100.9:8333")))
			Expect(v.AddrFrom.Services).To(Equal(wire.NodeNetwork))
			Expect(v.AddrFrom.AddrPort()).To(Equal(netip.MustParseAddrPort("203.0.113.192:8333")))
			Expect(v.Nonce).To(Equal(uint64(0xf85379c9cb358012)))
			Expect(v.UserAgent).To(Equal("/Satoshi:0.9.3/"))
			Expect(v.StartHeight).To(Equal(int32(329167)))
			Expect(v.Relay).To(BeTrue())
			Expect(v.Tail).To(Equal(wire.TailFull))

			Expect(v.AppendPayload(nil)).To(Equal(devRefVersionPayload))
			frame := wire.AppendMessage(nil, wire.Mainnet, v)
			Expect(frame[:wire.HeaderSize]).To(Equal(devRefVersionHeader))
			Expect(frame[wire.HeaderSize:]).To(Equal(devRefVersionPayload))
		})
	})

	Describe("optional tail (NP, VERSION branch: each group read only if bytes remain)", func() {
		It("decodes the 46-byte minimal form with relay true", func() {
			min := fullVersion()
			min.Tail = wire.TailMinimal
			b := min.AppendPayload(nil)
			Expect(b).To(HaveLen(wire.VersionMinSize))
			Expect(wire.VersionMinSize).To(Equal(46))

			v, err := decodeVersion(b)
			Expect(err).NotTo(HaveOccurred())
			Expect(v.Tail).To(Equal(wire.TailMinimal))
			Expect(v.Relay).To(BeTrue())
			Expect(v.ProtocolVersion).To(Equal(min.ProtocolVersion))
			Expect(v.Services).To(Equal(min.Services))
			Expect(v.Timestamp).To(Equal(min.Timestamp))
			Expect(v.AddrRecv).To(Equal(min.AddrRecv))
			Expect(v.AddrFrom.IsZero()).To(BeTrue())
			Expect(v.Nonce).To(BeZero())
			Expect(v.UserAgent).To(BeEmpty())
			Expect(v.StartHeight).To(BeZero())
			Expect(v.AppendPayload(nil)).To(Equal(b))
		})

		DescribeTable("every tail round-trips with its size",
			func(tail wire.VersionTail, size int) {
				in := fullVersion()
				in.Tail = tail
				b := in.AppendPayload(nil)
				Expect(b).To(HaveLen(size))
				out, err := decodeVersion(b)
				Expect(err).NotTo(HaveOccurred())
				Expect(out.Tail).To(Equal(tail))
				Expect(out.AppendPayload(nil)).To(Equal(b))
				if tail != wire.TailFull {
					Expect(out.Relay).To(BeTrue(), "absent relay means true")
				}
				want := *in
				want.Relay = out.Relay
				switch tail {
				case wire.TailMinimal:
					want.AddrFrom, want.Nonce = wire.NetAddress{}, 0
					fallthrough
				case wire.TailNoUserAgent:
					want.UserAgent = ""
					fallthrough
				case wire.TailNoStartHeight:
					want.StartHeight = 0
				}
				Expect(*out).To(Equal(want))
			},
			Entry("full", wire.TailFull, 46+34+1+16+4+1),
			Entry("no relay", wire.TailNoRelay, 46+34+1+16+4),
			Entry("no start height", wire.TailNoStartHeight, 46+34+1+16),
			Entry("no user agent", wire.TailNoUserAgent, 46+34),
			Entry("minimal", wire.TailMinimal, 46),
		)

		It("accepts exactly the group boundaries and calls every other cut ErrTruncated", func() {
			full := fullVersion().AppendPayload(nil)
			ua := len("/Satoshi:27.0.0/")
			boundaries := map[int]wire.VersionTail{
				46:        wire.TailMinimal,
				80:        wire.TailNoUserAgent,
				81 + ua:   wire.TailNoStartHeight,
				85 + ua:   wire.TailNoRelay,
				len(full): wire.TailFull,
			}
			Expect(len(full)).To(Equal(86 + ua))
			for n := 0; n <= len(full); n++ {
				v, err := decodeVersion(full[:n])
				if tail, ok := boundaries[n]; ok {
					Expect(err).NotTo(HaveOccurred(), "%d bytes", n)
					Expect(v.Tail).To(Equal(tail), "%d bytes", n)
					continue
				}
				Expect(err).To(MatchError(wire.ErrTruncated), "%d bytes", n)
				Expect(wire.IsRecoverable(err)).To(BeTrue(), "Core drops the version and keeps the peer")
			}
		})

		DescribeTable("a partial group is ErrTruncated",
			func(cut func([]byte) []byte, detail string) {
				_, err := decodeVersion(cut(fullVersion().AppendPayload(nil)))
				Expect(err).To(MatchError(wire.ErrTruncated))
				Expect(err.Error()).To(ContainSubstring(detail))
			},
			Entry("empty payload", func(b []byte) []byte { return nil }, "required"),
			Entry("required fields cut in addr_recv", func(b []byte) []byte { return b[:45] }, "required"),
			Entry("addr_from only half there", func(b []byte) []byte { return b[:46+13] }, "addr_from"),
			Entry("addr_from without nonce (72 bytes)", func(b []byte) []byte { return b[:72] }, "addr_from"),
			Entry("nonce cut", func(b []byte) []byte { return b[:79] }, "addr_from"),
			Entry("user agent shorter than its length", func(b []byte) []byte { return b[:85] }, "user agent"),
			Entry("start height 1 byte", func(b []byte) []byte { return b[:97+1] }, "start height"),
			Entry("start height 3 bytes", func(b []byte) []byte { return b[:97+3] }, "start height"),
		)

		DescribeTable("relay byte",
			func(relay []byte, want bool) {
				in := fullVersion()
				in.Tail = wire.TailNoRelay
				v, err := decodeVersion(append(in.AppendPayload(nil), relay...))
				Expect(err).NotTo(HaveOccurred())
				Expect(v.Relay).To(Equal(want))
			},
			Entry("absent means true", []byte{}, true),
			Entry("0 is false", []byte{0}, false),
			Entry("1 is true", []byte{1}, true),
			Entry("any non-zero is true, as Core reads a bool", []byte{2}, true),
		)

		DescribeTable("trailing bytes after relay are ignored and counted",
			func(extra int) {
				b := append(fullVersion().AppendPayload(nil), bytes.Repeat([]byte{0xee}, extra)...)
				v, err := decodeVersion(b)
				Expect(err).NotTo(HaveOccurred())
				Expect(v.TrailingBytes).To(Equal(extra))
				Expect(v.Tail).To(Equal(wire.TailFull))
				Expect(v.Relay).To(BeFalse())
				// Re-encoding drops them.
				Expect(v.AppendPayload(nil)).To(Equal(b[:len(b)-extra]))
			},
			Entry("none", 0),
			Entry("one", 1),
			Entry("a BIP37-era padding of 32", 32),
			Entry("a kilobyte", 1024),
		)
	})

	Describe("user agent (CompactSize length, at most MAX_SUBVERSION_LENGTH = 256)", func() {
		withUA := func(lengthPrefix []byte, body []byte) []byte {
			in := fullVersion()
			in.Tail = wire.TailNoUserAgent
			b := append(in.AppendPayload(nil), lengthPrefix...)
			b = append(b, body...)
			return append(b, 1, 0, 0, 0, 1)
		}

		DescribeTable("lengths",
			func(n int, wantErr error) {
				in := fullVersion()
				in.UserAgent = strings.Repeat("u", n)
				v, err := decodeVersion(in.AppendPayload(nil))
				if wantErr != nil {
					Expect(err).To(MatchError(wantErr))
					Expect(wire.IsRecoverable(err)).To(BeTrue())
					return
				}
				Expect(err).NotTo(HaveOccurred())
				Expect(v.UserAgent).To(Equal(in.UserAgent))
				Expect(v.StartHeight).To(Equal(in.StartHeight), "fields after the user agent line up")
			},
			Entry("empty", 0, nil),
			Entry("252, the largest one-byte length", 252, nil),
			Entry("253, the smallest three-byte length", 253, nil),
			Entry("256, the limit", 256, nil),
			Entry("257 is ErrUserAgentTooLong", 257, wire.ErrUserAgentTooLong),
			Entry("1000 is ErrUserAgentTooLong", 1000, wire.ErrUserAgentTooLong),
		)

		It("rejects a length over 256 before reading the bytes", func() {
			// 0xffffffff declared, nothing behind it.
			_, err := decodeVersion(withUA([]byte{0xfe, 0xff, 0xff, 0xff, 0xff}, nil)[:85])
			Expect(err).To(MatchError(wire.ErrUserAgentTooLong))
			_, err = decodeVersion(withUA([]byte{0xff, 0, 0, 0, 0, 1, 0, 0, 0}, nil))
			Expect(err).To(MatchError(wire.ErrUserAgentTooLong))
		})

		DescribeTable("non-canonical CompactSize is ErrNonCanonical (ReadCompactSize, src/serialize.h)",
			func(prefix []byte) {
				_, err := decodeVersion(withUA(prefix, []byte("abc")))
				Expect(err).To(MatchError(wire.ErrNonCanonical))
				Expect(wire.IsRecoverable(err)).To(BeTrue())
			},
			Entry("3 in 3 bytes", []byte{0xfd, 0x03, 0x00}),
			Entry("252 in 3 bytes", []byte{0xfd, 0xfc, 0x00}),
			Entry("3 in 5 bytes", []byte{0xfe, 0x03, 0, 0, 0}),
			Entry("0xffff in 5 bytes", []byte{0xfe, 0xff, 0xff, 0, 0}),
			Entry("3 in 9 bytes", []byte{0xff, 0x03, 0, 0, 0, 0, 0, 0, 0}),
		)

		It("accepts the canonical three-byte form of 253..256", func() {
			body := strings.Repeat("x", 253)
			v, err := decodeVersion(withUA([]byte{0xfd, 0xfd, 0x00}, []byte(body)))
			Expect(err).NotTo(HaveOccurred())
			Expect(v.UserAgent).To(Equal(body))
			Expect(v.StartHeight).To(Equal(int32(1)))
		})

		It("calls a cut CompactSize ErrTruncated", func() {
			in := fullVersion()
			in.Tail = wire.TailNoUserAgent
			b := append(in.AppendPayload(nil), 0xfd, 0x01)
			_, err := decodeVersion(b)
			Expect(err).To(MatchError(wire.ErrTruncated))
		})

		It("keeps any bytes, as Core does before sanitizing for display", func() {
			in := fullVersion()
			in.UserAgent = "/evil\x1b[31m\x00\xff/"
			v, err := decodeVersion(in.AppendPayload(nil))
			Expect(err).NotTo(HaveOccurred())
			Expect(v.UserAgent).To(Equal(in.UserAgent))
		})

		It("encodes an over-long user agent as it is, for mock peers that send one on purpose", func() {
			in := fullVersion()
			in.UserAgent = strings.Repeat("z", 300)
			b := in.AppendPayload(nil)
			Expect(b[80:83]).To(Equal([]byte{0xfd, 0x2c, 0x01}))
			_, err := decodeVersion(b)
			Expect(err).To(MatchError(wire.ErrUserAgentTooLong))
		})
	})

	It("is what Decode returns for the version command", func() {
		m, err := wire.Decode(wire.CmdVersion, devRefVersionPayload)
		Expect(err).NotTo(HaveOccurred())
		Expect(m).To(BeAssignableToTypeOf(&wire.Version{}))
		Expect(m.Command()).To(Equal("version"))
		Expect(m.(*wire.Version).UserAgent).To(Equal("/Satoshi:0.9.3/"))
		_, err = wire.Decode(wire.CmdVersion, devRefVersionPayload[:50])
		Expect(err).To(MatchError(wire.ErrTruncated))
	})

	It("resets the receiver before decoding", func() {
		v := fullVersion()
		v.TrailingBytes = 9
		min := &wire.Version{ProtocolVersion: 70016, Tail: wire.TailMinimal}
		Expect(v.DecodePayload(min.AppendPayload(nil))).To(Succeed())
		Expect(v.UserAgent).To(BeEmpty())
		Expect(v.TrailingBytes).To(BeZero())
		Expect(v.Nonce).To(BeZero())
	})

	It("names its tails", func() {
		Expect(wire.TailFull.String()).To(Equal("full"))
		Expect(wire.TailNoRelay.String()).To(Equal("no-relay"))
		Expect(wire.TailNoStartHeight.String()).To(Equal("no-start-height"))
		Expect(wire.TailNoUserAgent.String()).To(Equal("no-user-agent"))
		Expect(wire.TailMinimal.String()).To(Equal("minimal"))
		Expect(wire.VersionTail(9).String()).To(Equal("VersionTail(9)"))
	})
})

var _ = Describe("NetAddress", func() {
	It("stores IPv4 mapped and gives it back unmapped", func() {
		ap := netip.MustParseAddrPort("203.0.113.5:18444")
		a := wire.NetAddress{Services: wire.NodeNetwork, IP: ap.Addr().As16(), Port: ap.Port()}
		Expect(a.IP).To(Equal(mapped4(203, 0, 113, 5)))
		Expect(a.Port).To(Equal(uint16(18444)))
		Expect(a.Services).To(Equal(wire.NodeNetwork))
		Expect(a.AddrPort()).To(Equal(netip.MustParseAddrPort("203.0.113.5:18444")))
		Expect(a.IsZero()).To(BeFalse())
	})

	It("keeps IPv6 addresses", func() {
		ap := netip.MustParseAddrPort("[2001:db8::1]:8333")
		a := wire.NetAddress{IP: ap.Addr().As16(), Port: ap.Port()}
		Expect(a.AddrPort()).To(Equal(ap))
	})

	It("writes the port big-endian", func() {
		v := &wire.Version{AddrRecv: wire.NetAddress{Port: 8333}, Tail: wire.TailMinimal}
		b := v.AppendPayload(nil)
		Expect(b[44:46]).To(Equal([]byte{0x20, 0x8d}))
	})

	It("is zero when all zero, as Core sends addr_from", func() {
		Expect(wire.NetAddress{}.IsZero()).To(BeTrue())
	})
})

var _ = Describe("CompactSize", func() {
	DescribeTable("canonical encodings round-trip",
		func(v uint64, enc string) {
			b := wire.AppendCompactSize(nil, v)
			Expect(b).To(Equal(unhex(enc)))
			got, n, err := wire.ReadCompactSize(append(b, 0xaa))
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(v))
			Expect(n).To(Equal(len(b)))
		},
		Entry("0", uint64(0), "00"),
		Entry("0xfc", uint64(0xfc), "fc"),
		Entry("0xfd", uint64(0xfd), "fdfd00"),
		Entry("256", uint64(256), "fd0001"),
		Entry("0xffff", uint64(0xffff), "fdffff"),
		Entry("0x10000", uint64(0x10000), "fe00000100"),
		Entry("0xffffffff", uint64(0xffffffff), "feffffffff"),
		Entry("0x100000000", uint64(0x100000000), "ff0000000001000000"),
		Entry("max uint64", ^uint64(0), "ffffffffffffffffff"),
	)

	DescribeTable("bad encodings",
		func(enc []byte, want error) {
			_, _, err := wire.ReadCompactSize(enc)
			Expect(err).To(MatchError(want))
		},
		Entry("empty", []byte{}, wire.ErrTruncated),
		Entry("0xfd with one byte", []byte{0xfd, 0x01}, wire.ErrTruncated),
		Entry("0xfe with three bytes", []byte{0xfe, 1, 2, 3}, wire.ErrTruncated),
		Entry("0xff with seven bytes", []byte{0xff, 1, 2, 3, 4, 5, 6, 7}, wire.ErrTruncated),
		Entry("0 in 3 bytes", []byte{0xfd, 0, 0}, wire.ErrNonCanonical),
		Entry("0xfc in 3 bytes", []byte{0xfd, 0xfc, 0}, wire.ErrNonCanonical),
		Entry("0xffff in 5 bytes", []byte{0xfe, 0xff, 0xff, 0, 0}, wire.ErrNonCanonical),
		Entry("0xffffffff in 9 bytes", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, wire.ErrNonCanonical),
	)
})
