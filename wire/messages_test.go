package wire_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("handshake-phase messages", func() {
	DescribeTable("round trip: payload bytes, Decode, and a frame through Reader",
		func(m wire.Message, cmd string, payload string) {
			want := unhex(payload)
			Expect(m.Command()).To(Equal(cmd))
			Expect(m.AppendPayload(nil)).To(Equal(want))
			Expect(m.AppendPayload(nil)).To(Equal(want))

			got, err := wire.Decode(cmd, want)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(m))

			frame := wire.AppendMessage([]byte("prefix"), wire.Regtest, m)
			Expect(frame[:6]).To(Equal([]byte("prefix")), "AppendMessage appends")
			frame = frame[6:]
			Expect(frame).To(HaveLen(wire.HeaderSize + len(want)))
			Expect(wire.AppendMessage(nil, wire.Regtest, wire.Raw{Cmd: cmd, Payload: want})).To(Equal(frame))

			f, err := wire.NewReader(bytes.NewReader(frame), wire.Regtest).Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal(cmd))
			Expect(f.Header.Length).To(Equal(uint32(len(want))))
			Expect(f.Header.Checksum).To(Equal(wire.Checksum(want)))
			Expect(f.Payload).To(Equal(want))
		},
		Entry("verack", wire.Verack{}, "verack", ""),
		Entry("ping with nonce (BIP31)", wire.Ping{Nonce: 0x1122334455667788}, "ping", "8877665544332211"),
		Entry("ping without nonce (pre-BIP31)", wire.Ping{NoNonce: true}, "ping", ""),
		Entry("pong", wire.Pong{Nonce: 0x1122334455667788}, "pong", "8877665544332211"),
		Entry("sendheaders", wire.SendHeaders{}, "sendheaders", ""),
		Entry("sendcmpct high-bandwidth v2", wire.SendCmpct{Announce: true, Version: 2}, "sendcmpct", "01 0200000000000000"),
		Entry("sendcmpct low-bandwidth v1", wire.SendCmpct{Announce: false, Version: 1}, "sendcmpct", "00 0100000000000000"),
		Entry("wtxidrelay", wire.WtxidRelay{}, "wtxidrelay", ""),
		Entry("sendaddrv2", wire.SendAddrV2{}, "sendaddrv2", ""),
		Entry("sendtxrcncl", wire.SendTxRcncl{Version: 1, Salt: 0x0102030405060708}, "sendtxrcncl", "01000000 0807060504030201"),
		Entry("feefilter 1000 sat/kvB", wire.FeeFilter{FeeRate: 1000}, "feefilter", "e803000000000000"),
		Entry("feefilter max int64", wire.FeeFilter{FeeRate: 1<<63 - 1}, "feefilter", "ffffffffffffff7f"),
		Entry("getaddr", wire.GetAddr{}, "getaddr", ""),
		Entry("unknown command kept raw", wire.Raw{Cmd: "foo", Payload: []byte{1, 2, 3}}, "foo", "010203"),
		Entry("alert kept raw", wire.Raw{Cmd: "alert", Payload: []byte{0xab}}, "alert", "ab"),
		Entry("getheaders kept raw", wire.Raw{Cmd: "getheaders", Payload: []byte{0x80, 0x11, 0x01, 0x00, 0x00}}, "getheaders", "8011010000"),
		Entry("raw with an empty payload", wire.Raw{Cmd: "mempool"}, "mempool", ""),
	)

	DescribeTable("short payloads are ErrTruncated and recoverable",
		func(cmd string, sizes []int) {
			for _, n := range sizes {
				_, err := wire.Decode(cmd, make([]byte, n))
				Expect(err).To(MatchError(wire.ErrTruncated), "%s with %d bytes", cmd, n)
				Expect(wire.IsRecoverable(err)).To(BeTrue())
				Expect(err.Error()).To(ContainSubstring(cmd))
			}
		},
		Entry("ping: 1..7 bytes (empty is the pre-BIP31 form)", "ping", []int{1, 4, 7}),
		Entry("pong: 0..7 bytes", "pong", []int{0, 1, 7}),
		Entry("sendcmpct: 0..8 bytes", "sendcmpct", []int{0, 1, 8}),
		Entry("sendtxrcncl: 0..11 bytes", "sendtxrcncl", []int{0, 4, 11}),
		Entry("feefilter: 0..7 bytes", "feefilter", []int{0, 7}),
	)

	DescribeTable("extra payload bytes are ignored, as Core reads only its fields",
		func(cmd string, payload string, want wire.Message) {
			got, err := wire.Decode(cmd, unhex(payload))
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(want))
		},
		Entry("verack with a payload", "verack", "00ff", wire.Verack{}),
		Entry("sendheaders with a payload", "sendheaders", "01", wire.SendHeaders{}),
		Entry("wtxidrelay with a payload", "wtxidrelay", "01", wire.WtxidRelay{}),
		Entry("sendaddrv2 with a payload", "sendaddrv2", "01", wire.SendAddrV2{}),
		Entry("getaddr with a payload", "getaddr", "01", wire.GetAddr{}),
		Entry("ping with 9 bytes", "ping", "0100000000000000 ff", wire.Ping{Nonce: 1}),
		Entry("pong with 9 bytes", "pong", "0200000000000000 ff", wire.Pong{Nonce: 2}),
		Entry("sendcmpct announce byte 2 is true (a bool)", "sendcmpct", "02 0200000000000000", wire.SendCmpct{Announce: true, Version: 2}),
		Entry("feefilter with 9 bytes", "feefilter", "0100000000000000 00", wire.FeeFilter{FeeRate: 1}),
	)

	It("copies a Raw payload out of the caller's buffer", func() {
		buf := []byte{1, 2, 3}
		m, err := wire.Decode("inv", buf)
		Expect(err).NotTo(HaveOccurred())
		buf[0] = 9
		Expect(m).To(Equal(wire.Raw{Cmd: "inv", Payload: []byte{1, 2, 3}}))
		Expect(m.(wire.Raw).String()).To(Equal("inv(3 bytes)"))
	})

	It("decodes an empty ping as NoNonce and re-encodes it empty", func() {
		var p wire.Ping
		p.Nonce = 7
		Expect(p.DecodePayload(nil)).To(Succeed())
		Expect(p).To(Equal(wire.Ping{NoNonce: true}))
		Expect(p.AppendPayload(nil)).To(BeEmpty())
	})

	It("keeps unknown commands with their payload through the Reader", func() {
		payload := bytes.Repeat([]byte{0x42}, 3000)
		stream := wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: "cfcheckpt", Payload: payload})
		stream = wire.AppendMessage(stream, wire.Mainnet, wire.Verack{})
		r := wire.NewReader(bytes.NewReader(stream), wire.Mainnet)
		f, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		m, err := wire.Decode(f.Command(), f.Payload)
		Expect(err).NotTo(HaveOccurred())
		Expect(m).To(Equal(wire.Raw{Cmd: "cfcheckpt", Payload: payload}))
		f, err = r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal("verack"))
	})
})
