package wire_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Allocation budgets (CONVENTIONS.md: "without btcd's per-call
// allocations"). Counted with testing.AllocsPerRun, never timed.
var _ = Describe("allocations", func() {
	DescribeTable("AppendMessage into a reused buffer allocates nothing",
		func(m wire.Message) {
			buf := make([]byte, 0, 256)
			allocs := testing.AllocsPerRun(200, func() {
				buf = wire.AppendMessage(buf[:0], wire.Mainnet, m)
			})
			Expect(allocs).To(BeZero())
			Expect(buf).NotTo(BeEmpty())
		},
		Entry("verack", wire.Verack{}),
		Entry("ping", wire.Ping{Nonce: 7}),
		Entry("pong", wire.Pong{Nonce: 7}),
		Entry("sendcmpct", wire.SendCmpct{Version: 2}),
		Entry("wtxidrelay", wire.WtxidRelay{}),
		Entry("feefilter", wire.FeeFilter{FeeRate: 1000}),
		Entry("version", fullVersion()),
	)

	// The concrete types, as a caller would write them (the table above
	// goes through the Message interface).
	It("allocates nothing for concrete verack, ping and pong values", func() {
		buf := make([]byte, 0, 64)
		Expect(testing.AllocsPerRun(200, func() { buf = wire.AppendMessage(buf[:0], wire.Regtest, wire.Verack{}) })).To(BeZero())
		Expect(testing.AllocsPerRun(200, func() { buf = wire.AppendMessage(buf[:0], wire.Regtest, wire.Ping{Nonce: 1}) })).To(BeZero())
		Expect(testing.AllocsPerRun(200, func() { buf = wire.AppendMessage(buf[:0], wire.Regtest, wire.Pong{Nonce: 1}) })).To(BeZero())
	})

	It("reads and decodes ping and pong frames without allocating", func() {
		var stream []byte
		stream = wire.AppendMessage(stream, wire.Mainnet, wire.Ping{Nonce: 11})
		stream = wire.AppendMessage(stream, wire.Mainnet, wire.Pong{Nonce: 11})
		r := wire.NewReader(&loopReader{data: stream}, wire.Mainnet)
		var ping wire.Ping
		var pong wire.Pong
		allocs := testing.AllocsPerRun(500, func() {
			f, err := r.Next()
			if err != nil || f.Header.Command != wire.CommandBytes(wire.CmdPing) {
				panic("expected ping")
			}
			if err := ping.DecodePayload(f.Payload); err != nil {
				panic(err)
			}
			f, err = r.Next()
			if err != nil || f.Command() != wire.CmdPong {
				panic("expected pong")
			}
			if err := pong.DecodePayload(f.Payload); err != nil {
				panic(err)
			}
		})
		Expect(allocs).To(BeZero())
		Expect(ping.Nonce).To(Equal(uint64(11)))
		Expect(pong.Nonce).To(Equal(uint64(11)))
	})

	It("round-trips a version (encode, read, decode) in at most 3 allocations", func() {
		in := fullVersion()
		src := &loopReader{data: wire.AppendMessage(nil, wire.Mainnet, in)}
		r := wire.NewReader(src, wire.Mainnet)
		buf := make([]byte, 0, 256)
		var out wire.Version
		allocs := testing.AllocsPerRun(200, func() {
			buf = wire.AppendMessage(buf[:0], wire.Mainnet, in)
			f, err := r.Next()
			if err != nil {
				panic(err)
			}
			if err := out.DecodePayload(f.Payload); err != nil {
				panic(err)
			}
		})
		Expect(allocs).To(BeNumerically("<=", 3))
		Expect(out.UserAgent).To(Equal(in.UserAgent))

		// Through the generic Decode, which returns a new *Version.
		payload := in.AppendPayload(nil)
		allocs = testing.AllocsPerRun(200, func() {
			buf = wire.AppendMessage(buf[:0], wire.Mainnet, in)
			if _, err := wire.Decode(wire.CmdVersion, payload); err != nil {
				panic(err)
			}
		})
		Expect(allocs).To(BeNumerically("<=", 3))
	})

	It("classifies errors without allocating", func() {
		_, err := wire.Decode(wire.CmdPong, nil)
		Expect(err).To(HaveOccurred())
		Expect(testing.AllocsPerRun(100, func() {
			if !wire.IsRecoverable(err) {
				panic("recoverable")
			}
		})).To(BeZero())
	})

	It("reads a verack+version burst into the default buffer without growing it", func() {
		stream := wire.AppendMessage(nil, wire.Mainnet, fullVersion())
		stream = wire.AppendMessage(stream, wire.Mainnet, wire.WtxidRelay{})
		stream = wire.AppendMessage(stream, wire.Mainnet, wire.SendAddrV2{})
		stream = wire.AppendMessage(stream, wire.Mainnet, wire.Verack{})
		r := wire.NewReader(&loopReader{data: stream}, wire.Mainnet)
		allocs := testing.AllocsPerRun(200, func() {
			for range 4 {
				if _, err := r.Next(); err != nil {
					panic(err)
				}
			}
		})
		Expect(allocs).To(BeZero())
	})
})
