package wire_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

// header builds 24 header bytes field by field.
func header(magic [4]byte, cmd [wire.CommandSize]byte, length uint32, sum [4]byte) []byte {
	b := append([]byte{}, magic[:]...)
	b = append(b, cmd[:]...)
	b = binary.LittleEndian.AppendUint32(b, length)
	return append(b, sum[:]...)
}

func cmdBytes(s string) [wire.CommandSize]byte {
	var c [wire.CommandSize]byte
	if len(s) > wire.CommandSize {
		panic("command longer than 12 bytes")
	}
	copy(c[:], s)
	return c
}

var _ = Describe("Header", func() {
	mainnet := wire.Mainnet.Magic()

	It("parses the 24 bytes and writes them back unchanged", func() {
		// verack on mainnet: the smallest real frame.
		b := unhex("f9beb4d9 76657261636b000000000000 00000000 5df6e0e2")
		h, err := wire.ParseHeader(b, wire.Mainnet, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(h.Magic).To(Equal(mainnet))
		Expect(h.CommandName()).To(Equal("verack"))
		Expect(h.Length).To(BeZero())
		Expect(h.Checksum).To(Equal(wire.Checksum(nil)))
		Expect(h.AppendHeader(nil)).To(Equal(b))
		Expect(h.ValidCommand()).To(BeTrue())
	})

	It("reads only the first 24 bytes", func() {
		b := header(mainnet, cmdBytes("ping"), 8, [4]byte{1, 2, 3, 4})
		h, err := wire.ParseHeader(append(b, 0xde, 0xad), wire.Mainnet, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(h.AppendHeader(nil)).To(Equal(b))
	})

	It("reports fewer than 24 bytes as ErrShortHeader", func() {
		b := header(mainnet, cmdBytes("verack"), 0, wire.Checksum(nil))
		for n := range wire.HeaderSize {
			_, err := wire.ParseHeader(b[:n], wire.Mainnet, 0)
			Expect(err).To(MatchError(wire.ErrShortHeader), "%d bytes", n)
		}
	})

	DescribeTable("wrong magic is ErrBadMagic and not recoverable",
		func(magic [4]byte) {
			_, err := wire.ParseHeader(header(magic, cmdBytes("version"), 100, [4]byte{}), wire.Mainnet, 0)
			Expect(err).To(MatchError(wire.ErrBadMagic))
			Expect(wire.IsRecoverable(err)).To(BeFalse())
		},
		Entry("testnet3", wire.Testnet3.Magic()),
		Entry("testnet4", wire.Testnet4.Magic()),
		Entry("signet", wire.Signet.Magic()),
		Entry("regtest", wire.Regtest.Magic()),
		Entry("byte-swapped mainnet", [4]byte{0xd9, 0xb4, 0xbe, 0xf9}),
		Entry("one bit off", [4]byte{0xf9, 0xbe, 0xb4, 0xd8}),
		Entry("zeros", [4]byte{}),
		Entry("HTTP", [4]byte{'H', 'T', 'T', 'P'}),
	)

	It("checks the magic before the length, as V1Transport::readHeader does", func() {
		_, err := wire.ParseHeader(header(wire.Regtest.Magic(), cmdBytes("version"), 0xFFFFFFFF, [4]byte{}), wire.Mainnet, 0)
		Expect(err).To(MatchError(wire.ErrBadMagic))
	})

	DescribeTable("declared length against MAX_PROTOCOL_MESSAGE_LENGTH (src/net.h)",
		func(length, limit uint32, wantErr bool) {
			h, err := wire.ParseHeader(header(mainnet, cmdBytes("block"), length, [4]byte{}), wire.Mainnet, limit)
			if !wantErr {
				Expect(err).NotTo(HaveOccurred())
				Expect(h.Length).To(Equal(length))
				return
			}
			Expect(err).To(MatchError(wire.ErrPayloadTooLarge))
			Expect(wire.IsRecoverable(err)).To(BeFalse())
			Expect(err.Error()).To(ContainSubstring("block"))
		},
		Entry("0", uint32(0), uint32(0), false),
		Entry("MaxPayload (4,000,000) accepted", uint32(wire.MaxPayload), uint32(0), false),
		Entry("MaxPayload+1 rejected", uint32(wire.MaxPayload+1), uint32(0), true),
		Entry("0xFFFFFFFF rejected", uint32(0xFFFFFFFF), uint32(0), true),
		Entry("2^31 rejected", uint32(1<<31), uint32(0), true),
		Entry("a lower limit is honoured: at it", uint32(1000), uint32(1000), false),
		Entry("a lower limit is honoured: above it", uint32(1001), uint32(1000), true),
		Entry("a limit above MaxPayload means MaxPayload", uint32(wire.MaxPayload+1), uint32(wire.MaxPayload+100), true),
	)

	It("rejects 0xFFFFFFFF with a few small allocations, never the payload", func() {
		b := header(mainnet, cmdBytes("version"), 0xFFFFFFFF, [4]byte{})
		allocs := testing.AllocsPerRun(100, func() {
			_, err := wire.ParseHeader(b, wire.Mainnet, 0)
			if err == nil {
				panic("accepted")
			}
		})
		Expect(allocs).To(BeNumerically("<=", 5))
		Expect(bytesAllocated(100, func(int) { _, _ = wire.ParseHeader(b, wire.Mainnet, 0) })).To(BeNumerically("<", 1024))
	})

	It("parses a valid header without allocating", func() {
		b := header(mainnet, cmdBytes("ping"), 8, [4]byte{})
		Expect(testing.AllocsPerRun(100, func() { _, _ = wire.ParseHeader(b, wire.Mainnet, 0) })).To(BeZero())
	})

	DescribeTable("command bytes (CMessageHeader::IsMessageTypeValid)",
		func(c [wire.CommandSize]byte, valid bool) {
			Expect((wire.Header{Command: c}).ValidCommand()).To(Equal(valid))
		},
		Entry("version", cmdBytes("version"), true),
		Entry("one letter", cmdBytes("a"), true),
		Entry("all 12 bytes used", cmdBytes("sendaddrv2xy"), true),
		Entry("space is printable (0x20)", cmdBytes("a b"), true),
		Entry("tilde is printable (0x7e)", cmdBytes("~"), true),
		Entry("empty (all NULs)", cmdBytes(""), false),
		Entry("NUL then letters", cmdBytes("\x00version"), false),
		Entry("non-NUL after the first NUL", cmdBytes("ver\x00sion"), false),
		Entry("a byte in the last position after padding", [wire.CommandSize]byte{'p', 'i', 'n', 'g', 0, 0, 0, 0, 0, 0, 0, 1}, false),
		Entry("control byte 0x01", cmdBytes("\x01"), false),
		Entry("0x1f", cmdBytes("ping\x1f"), false),
		Entry("tab", cmdBytes("ve\trsion"), false),
		Entry("newline", cmdBytes("verack\n"), false),
		Entry("DEL 0x7f", cmdBytes("ping\x7f"), false),
		Entry("0x80", cmdBytes("\x80ping"), false),
		Entry("0xff", cmdBytes("ping\xff"), false),
		Entry("UTF-8 é", cmdBytes("caf\xc3\xa9"), false),
		Entry("all 0xff", [wire.CommandSize]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false),
	)

	It("pads and strips command names", func() {
		Expect(wire.CommandBytes("ping")).To(Equal(cmdBytes("ping")))
		Expect(wire.CommandBytes("abcdefghijklmnop")).To(Equal(cmdBytes("abcdefghijkl")))
		h := wire.Header{Command: cmdBytes("sendheaders")}
		Expect(h.CommandName()).To(Equal("sendheaders"))
		h.Command = cmdBytes("custom")
		Expect(h.CommandName()).To(Equal("custom"))
		h.Command = cmdBytes("")
		Expect(h.CommandName()).To(BeEmpty())
	})

	Describe("checksum", func() {
		It("is 5d f6 e0 e2 for an empty payload", func() {
			want := [4]byte{0x5d, 0xf6, 0xe0, 0xe2}
			Expect(wire.Checksum(nil)).To(Equal(want))
			Expect(wire.Checksum(nil)).To(Equal(want))
			Expect(wire.Checksum([]byte{})).To(Equal(want))
			first := sha256.Sum256(nil)
			second := sha256.Sum256(first[:])
			Expect([4]byte(second[:4])).To(Equal(want))
		})

		It("is the first four bytes of SHA256(SHA256(payload))", func() {
			// "hello" → 9595c9df…, the example on the Bitcoin wiki's
			// Protocol documentation page (Common standards, Hashes).
			Expect(wire.Checksum([]byte("hello"))).To(Equal([4]byte{0x95, 0x95, 0xc9, 0xdf}))
			payload := bytes.Repeat([]byte{0xab}, 1000)
			first := sha256.Sum256(payload)
			second := sha256.Sum256(first[:])
			Expect(wire.Checksum(payload)).To(Equal([4]byte(second[:4])))
		})

		It("does not allocate", func() {
			p := make([]byte, 100)
			Expect(testing.AllocsPerRun(100, func() { _ = wire.Checksum(p) })).To(BeZero())
		})
	})
})
