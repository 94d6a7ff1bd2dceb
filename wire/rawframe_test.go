package wire_test

import (
	"bytes"
	"io"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("RawFrame", func() {
	ping := wire.Ping{Nonce: 0xfeedface}

	It("starts as the frame AppendMessage writes", func() {
		for _, m := range []wire.Message{ping, wire.Verack{}, fullVersion(), wire.Raw{Cmd: "x", Payload: []byte{1}}} {
			f := wire.NewRawFrame(wire.Signet, m)
			Expect(f.Bytes()).To(Equal(wire.AppendMessage(nil, wire.Signet, m)))
			Expect(f.AppendTo([]byte{9})).To(Equal(append([]byte{9}, f.Bytes()...)))
		}
	})

	It("changes only its copy", func() {
		f := wire.NewRawFrame(wire.Mainnet, ping)
		orig := f.Bytes()
		_ = f.WithBadChecksum().WithMagic(wire.Regtest).WithLength(1).WithCommandBytes(cmdBytes("x")).Truncated(2)
		Expect(f.Bytes()).To(Equal(orig))
	})

	It("inverts every checksum bit in WithBadChecksum", func() {
		f := wire.NewRawFrame(wire.Mainnet, ping)
		bad := f.WithBadChecksum()
		for i := range bad.Checksum {
			Expect(bad.Checksum[i]).To(Equal(^f.Checksum[i]))
		}
	})

	It("cuts only the payload in Truncated, and not past its end", func() {
		f := wire.NewRawFrame(wire.Mainnet, ping)
		t := f.Truncated(3)
		Expect(t.Payload).To(HaveLen(3))
		Expect(t.Length).To(Equal(uint32(8)), "the header still declares 8")
		Expect(f.Truncated(100).Payload).To(Equal(f.Payload))
		Expect(f.Truncated(-1).Payload).To(BeEmpty(), "a negative length means none, not a panic")
		Expect(cap(t.Payload)).To(Equal(3), "appending to it cannot overwrite the original")
	})

	It("reseals a replaced payload", func() {
		f := wire.NewRawFrame(wire.Mainnet, ping).WithPayload([]byte{1, 2})
		Expect(f.Length).To(Equal(uint32(8)))
		r := f.Resealed()
		Expect(r.Length).To(Equal(uint32(2)))
		Expect(r.Checksum).To(Equal(wire.Checksum([]byte{1, 2})))
	})

	// Each broken variant, read back by a Reader, optionally followed by a
	// good verack: first is the error for the broken frame, second what the
	// next Next returns (nil: the verack, so the stream is still in line).
	DescribeTable("broken variants read back with the expected error",
		func(f wire.RawFrame, follow bool, first, second error) {
			stream := f.AppendTo(nil)
			if follow {
				stream = wire.AppendMessage(stream, wire.Mainnet, wire.Verack{})
			}
			r := wire.NewReader(bytes.NewReader(stream), wire.Mainnet)
			_, err := r.Next()
			Expect(err).To(beKind(first))
			next, err := r.Next()
			Expect(err).To(beKind(second))
			if second == nil {
				Expect(next.Command()).To(Equal("verack"))
			}
		},
		Entry("WithMagic(testnet3): fatal", wire.NewRawFrame(wire.Mainnet, ping).WithMagic(wire.Testnet3), true, wire.ErrBadMagic, wire.ErrBadMagic),
		Entry("WithMagicBytes(GET ): fatal", wire.NewRawFrame(wire.Mainnet, ping).WithMagicBytes([4]byte{'G', 'E', 'T', ' '}), true, wire.ErrBadMagic, wire.ErrBadMagic),
		Entry("WithBadChecksum: recoverable", wire.NewRawFrame(wire.Mainnet, ping).WithBadChecksum(), true, wire.ErrBadChecksum, nil),
		Entry("WithChecksum(empty) on a ping", wire.NewRawFrame(wire.Mainnet, ping).WithChecksum(wire.Checksum(nil)), true, wire.ErrBadChecksum, nil),
		Entry("WithPayload without Resealed", wire.NewRawFrame(wire.Mainnet, ping).WithPayload(make([]byte, 8)), true, wire.ErrBadChecksum, nil),
		Entry("WithPayload and Resealed is valid", wire.NewRawFrame(wire.Mainnet, ping).WithPayload(make([]byte, 3)).Resealed(), true, nil, nil),
		Entry("WithLength(MaxPayload+1): fatal", wire.NewRawFrame(wire.Mainnet, ping).WithLength(wire.MaxPayload+1), true, wire.ErrPayloadTooLarge, wire.ErrPayloadTooLarge),
		Entry("WithLength(0xFFFFFFFF): fatal", wire.NewRawFrame(wire.Mainnet, ping).WithLength(0xFFFFFFFF), true, wire.ErrPayloadTooLarge, wire.ErrPayloadTooLarge),
		Entry("WithLength(100): waits for bytes that never come", wire.NewRawFrame(wire.Mainnet, ping).WithLength(100), true, io.ErrUnexpectedEOF, io.ErrUnexpectedEOF),
		// One byte short: the reader takes 7 payload bytes, the checksum
		// fails, and the leftover byte puts the next header out of line.
		Entry("WithLength one short: checksum, then out of line", wire.NewRawFrame(wire.Mainnet, ping).WithLength(7), true, wire.ErrBadChecksum, wire.ErrBadMagic),
		Entry("WithCommandBytes(non-printable): recoverable", wire.NewRawFrame(wire.Mainnet, ping).WithCommandBytes(cmdBytes("ping\x07")), true, wire.ErrBadCommand, nil),
		Entry("WithCommandBytes(NUL inside)", wire.NewRawFrame(wire.Mainnet, ping).WithCommandBytes(cmdBytes("pi\x00ng")), true, wire.ErrBadCommand, nil),
		Entry("WithCommandBytes(all NUL)", wire.NewRawFrame(wire.Mainnet, ping).WithCommandBytes([12]byte{}), true, wire.ErrBadCommand, nil),
		Entry("WithCommandBytes(0xff…)", wire.NewRawFrame(wire.Mainnet, ping).WithCommandBytes([12]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), true, wire.ErrBadCommand, nil),
		Entry("Truncated(3) at the end of the stream", wire.NewRawFrame(wire.Mainnet, ping).Truncated(3), false, io.ErrUnexpectedEOF, io.ErrUnexpectedEOF),
		Entry("Truncated(0) at the end of the stream", wire.NewRawFrame(wire.Mainnet, fullVersion()).Truncated(0), false, io.ErrUnexpectedEOF, io.ErrUnexpectedEOF),
		// Followed by a frame, a truncated payload swallows the start of
		// that frame: checksum error, then the rest is too short.
		Entry("Truncated(3) followed by a verack", wire.NewRawFrame(wire.Mainnet, ping).Truncated(3), true, wire.ErrBadChecksum, io.ErrUnexpectedEOF),
	)
})
