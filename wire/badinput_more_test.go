package wire_test

import (
	"bytes"
	"io"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

// More of the bad-input catalog (issue 6, item 3), so that each category
// the issue names is covered field by field: a cut inside every field of
// the version's required part and of addr_from, CompactSize forms that are
// oversized or non-canonical in every width, lengths that lie in both
// directions, and commands broken in the ways Core's IsMessageTypeValid
// checks. Same rules as the first table: one typed kind each, and a
// bounded number of bytes allocated however much the input claims.
var _ = Describe("bad-input catalog, field by field", func() {
	frame := func(cmd string, payload []byte) []byte {
		return wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: cmd, Payload: payload})
	}
	ping := wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 3})
	version := func(n int) []byte { return frame("version", fullVersion().AppendPayload(nil)[:n]) }
	withUA := func(prefix ...byte) []byte {
		v := fullVersion()
		v.Tail = wire.TailNoUserAgent
		return frame("version", append(append(v.AppendPayload(nil), prefix...), "abcdef"...))
	}
	magicThen := func(rest byte) []byte {
		m := wire.Mainnet.Magic()
		return append(m[:], bytes.Repeat([]byte{rest}, wire.HeaderSize-4)...)
	}

	DescribeTable("input → error kind, with allocation bounded",
		func(stream []byte, want error) {
			const runs = 20
			readers := make([]*wire.Reader, runs+1)
			for i := range readers {
				readers[i] = wire.NewReader(bytes.NewReader(stream), wire.Mainnet)
			}
			var err error
			allocated := bytesAllocated(runs, func(i int) {
				var f wire.Frame
				f, err = readers[i].Next()
				if err == nil {
					_, err = wire.Decode(f.Command(), f.Payload)
				}
			})
			Expect(err).To(MatchError(want))
			Expect(allocated).To(BeNumerically("<", 2048), "bytes allocated beyond the reader's buffer")
		},
		// The version's required 46 bytes: every field cut.
		Entry("version: cut in protocol version", version(2), wire.ErrTruncated),
		Entry("version: cut in addr_recv services", version(25), wire.ErrTruncated),
		Entry("version: cut in addr_recv address", version(35), wire.ErrTruncated),
		Entry("version: cut in addr_from services", version(50), wire.ErrTruncated),
		Entry("version: cut in addr_from port", version(71), wire.ErrTruncated),
		// CompactSize of the user agent: oversized in each width, and
		// non-canonical where the value would be legal.
		Entry("version: user agent length 257 (3-byte form)", withUA(0xfd, 0x01, 0x01), wire.ErrUserAgentTooLong),
		Entry("version: user agent length 65,536 (5-byte form)", withUA(0xfe, 0, 0, 1, 0), wire.ErrUserAgentTooLong),
		Entry("version: 253 in 5 bytes", withUA(0xfe, 0xfd, 0, 0, 0), wire.ErrNonCanonical),
		Entry("version: 65,535 in 9 bytes", withUA(0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0), wire.ErrNonCanonical),
		// Lengths that lie.
		Entry("length claims 4 of a ping's 8 bytes", ping.WithLength(4).Bytes(), wire.ErrBadChecksum),
		Entry("length claims exactly 4,000,000, 8 bytes follow", ping.WithLength(wire.MaxPayload).Bytes(), io.ErrUnexpectedEOF),
		Entry("right magic, 0xff in every other header byte", magicThen(0xff), wire.ErrPayloadTooLarge),
		// Commands.
		Entry("command starting with NUL", ping.WithCommandBytes(cmdBytes("\x00ping")).Bytes(), wire.ErrBadCommand),
		Entry("command with a tab", ping.WithCommandBytes(cmdBytes("ping\t")).Bytes(), wire.ErrBadCommand),
		Entry("command of twelve 0xff", ping.WithCommandBytes([12]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).Bytes(), wire.ErrBadCommand),
		// Garbage of other shapes.
		Entry("24 bytes of 0xff", bytes.Repeat([]byte{0xff}, wire.HeaderSize), wire.ErrBadMagic),
		Entry("right magic then EOF", magicThen(0)[:4], io.ErrUnexpectedEOF),
	)
})
