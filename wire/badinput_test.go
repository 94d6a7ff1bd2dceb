package wire_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

// The bad-input catalog at the codec level (issue 6): each malformed input,
// read by a Reader and its payload decoded, yields one typed error kind,
// and costs a bounded number of bytes however much it claims.
var _ = Describe("bad-input catalog", func() {
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
	garbage := func() []byte {
		rng := rand.New(rand.NewPCG(7, 7))
		return randBytes(rng, 100)
	}()

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
		Entry("empty stream", []byte{}, io.EOF),
		Entry("one byte then EOF", []byte{0xf9}, io.ErrUnexpectedEOF),
		Entry("half a header then EOF", frame("verack", nil)[:12], io.ErrUnexpectedEOF),
		Entry("23 header bytes then EOF", frame("verack", nil)[:23], io.ErrUnexpectedEOF),
		Entry("version header, no payload, EOF", version(100)[:wire.HeaderSize], io.ErrUnexpectedEOF),
		Entry("length claims 100 more than sent", ping.WithLength(108).Bytes(), io.ErrUnexpectedEOF),
		Entry("garbage", garbage, wire.ErrBadMagic),
		Entry("an HTTP response", []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), wire.ErrBadMagic),
		Entry("a TLS ClientHello start", []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, wire.ErrBadMagic),
		Entry("testnet3 magic", ping.WithMagic(wire.Testnet3).Bytes(), wire.ErrBadMagic),
		Entry("testnet4 magic", ping.WithMagic(wire.Testnet4).Bytes(), wire.ErrBadMagic),
		Entry("signet magic", ping.WithMagic(wire.Signet).Bytes(), wire.ErrBadMagic),
		Entry("regtest magic", ping.WithMagic(wire.Regtest).Bytes(), wire.ErrBadMagic),
		Entry("zero magic", ping.WithMagicBytes([4]byte{}).Bytes(), wire.ErrBadMagic),
		Entry("byte-swapped magic", ping.WithMagicBytes([4]byte{0xd9, 0xb4, 0xbe, 0xf9}).Bytes(), wire.ErrBadMagic),
		Entry("declared length 4,000,001", ping.WithLength(wire.MaxPayload+1).Bytes(), wire.ErrPayloadTooLarge),
		Entry("declared length 2^31", ping.WithLength(1<<31).Bytes(), wire.ErrPayloadTooLarge),
		Entry("declared length 0xFFFFFFFF", ping.WithLength(0xFFFFFFFF).Bytes(), wire.ErrPayloadTooLarge),
		Entry("checksum bits inverted", ping.WithBadChecksum().Bytes(), wire.ErrBadChecksum),
		Entry("zero checksum on an empty payload", wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithChecksum([4]byte{}).Bytes(), wire.ErrBadChecksum),
		Entry("empty command", ping.WithCommandBytes(cmdBytes("")).Bytes(), wire.ErrBadCommand),
		Entry("command with 0x01", ping.WithCommandBytes(cmdBytes("pi\x01g")).Bytes(), wire.ErrBadCommand),
		Entry("command with DEL", ping.WithCommandBytes(cmdBytes("ping\x7f")).Bytes(), wire.ErrBadCommand),
		Entry("non-ASCII command (UTF-8)", ping.WithCommandBytes(cmdBytes("p\xc3\xafng")).Bytes(), wire.ErrBadCommand),
		Entry("command not NUL-padded after its NUL", ping.WithCommandBytes(cmdBytes("ping\x00\x00x")).Bytes(), wire.ErrBadCommand),
		Entry("command padded with 0xff", ping.WithCommandBytes([12]byte{'p', 'i', 'n', 'g', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).Bytes(), wire.ErrBadCommand),
		Entry("version: empty payload", version(0), wire.ErrTruncated),
		Entry("version: cut in services", version(8), wire.ErrTruncated),
		Entry("version: cut in timestamp", version(15), wire.ErrTruncated),
		Entry("version: cut in addr_recv", version(45), wire.ErrTruncated),
		Entry("version: cut in addr_from", version(60), wire.ErrTruncated),
		Entry("version: addr_from without nonce", version(72), wire.ErrTruncated),
		Entry("version: cut in nonce", version(79), wire.ErrTruncated),
		Entry("version: user agent shorter than declared", version(90), wire.ErrTruncated),
		Entry("version: user agent CompactSize cut", func() []byte {
			v := fullVersion()
			v.Tail = wire.TailNoUserAgent
			return frame("version", append(v.AppendPayload(nil), 0xfd, 0x01))
		}(), wire.ErrTruncated),
		Entry("version: start height cut", version(99), wire.ErrTruncated),
		Entry("version: user agent of 257 bytes", func() []byte {
			v := fullVersion()
			v.UserAgent = strings.Repeat("a", 257)
			return wire.AppendMessage(nil, wire.Mainnet, v)
		}(), wire.ErrUserAgentTooLong),
		Entry("version: user agent length 0xffffffff", withUA(0xfe, 0xff, 0xff, 0xff, 0xff), wire.ErrUserAgentTooLong),
		Entry("version: user agent length 2^64-1", withUA(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), wire.ErrUserAgentTooLong),
		Entry("version: 6 in 3 bytes", withUA(0xfd, 0x06, 0x00), wire.ErrNonCanonical),
		Entry("version: 6 in 5 bytes", withUA(0xfe, 0x06, 0, 0, 0), wire.ErrNonCanonical),
		Entry("version: 6 in 9 bytes", withUA(0xff, 0x06, 0, 0, 0, 0, 0, 0, 0), wire.ErrNonCanonical),
		Entry("ping of 4 bytes", frame("ping", []byte{1, 2, 3, 4}), wire.ErrTruncated),
		Entry("pong of 0 bytes", frame("pong", nil), wire.ErrTruncated),
		Entry("sendcmpct of 8 bytes", frame("sendcmpct", make([]byte, 8)), wire.ErrTruncated),
		Entry("sendtxrcncl of 11 bytes", frame("sendtxrcncl", make([]byte, 11)), wire.ErrTruncated),
		Entry("feefilter of 3 bytes", frame("feefilter", make([]byte, 3)), wire.ErrTruncated),
	)
})
