package bip324_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// v1Start is a v1 version header's first 16 bytes on net.
func v1Start(net wire.Network) []byte {
	m := net.Magic()
	return append(m[:], "version\x00\x00\x00\x00\x00"...)
}

var _ = Describe("responder's v1 detection", func() {
	It("is undecided while the bytes are a prefix of the v1 version header", func() {
		full := v1Start(wire.Signet)
		for k := 0; k < bip324.DetectSize; k++ {
			Expect(bip324.Detect(full[:k], wire.Signet)).To(Equal(bip324.Undecided), "%d bytes", k)
		}
	})

	DescribeTable("verdicts",
		func(b []byte, net wire.Network, want bip324.Detection) {
			Expect(bip324.Detect(b, net)).To(Equal(want))
		},
		Entry("v1 version header", v1Start(wire.Mainnet), wire.Mainnet, bip324.V1),
		Entry("a whole v1 version frame", append(v1Start(wire.Regtest), make([]byte, 100)...), wire.Regtest, bip324.V1),
		Entry("a v2 key", randomBytes(64), wire.Mainnet, bip324.V2),
		Entry("first byte differs", []byte{0x00}, wire.Mainnet, bip324.V2),
		Entry("last byte differs", append(v1Start(wire.Mainnet)[:15], 1), wire.Mainnet, bip324.V2),
		Entry("v1 verack header", append(v1Start(wire.Mainnet)[:4], "verack\x00\x00\x00\x00\x00\x00"...), wire.Mainnet, bip324.V2),
		Entry("v1 version of another network", v1Start(wire.Testnet3), wire.Mainnet, bip324.V1OtherNetwork),
		Entry("v1 version of another network with its payload", append(v1Start(wire.Mainnet), 1, 2, 3), wire.Regtest, bip324.V1OtherNetwork),
		Entry("another network's magic, before 16 bytes (Core answers with its key then)", v1Start(wire.Testnet3)[:10], wire.Mainnet, bip324.V2),
	)

	It("names its verdicts", func() {
		Expect([]string{bip324.Undecided.String(), bip324.V1.String(), bip324.V2.String(), bip324.V1OtherNetwork.String()}).
			To(Equal([]string{"undecided", "v1", "v2", "v1-other-network"}))
	})
})
