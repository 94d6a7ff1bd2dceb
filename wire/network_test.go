package wire_test

import (
	"crypto/sha256"

	btcwire "github.com/btcsuite/btcd/wire/v2"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("Network", func() {
	// The table of docs/PROTOCOL.md (src/kernel/chainparams.cpp), byte for byte.
	DescribeTable("magic, default port and name",
		func(n wire.Network, name string, magic [4]byte, port uint16, btcd btcwire.BitcoinNet) {
			Expect(n.Magic()).To(Equal(magic))
			Expect(n.DefaultPort()).To(Equal(port))
			Expect(n.String()).To(Equal(name))
			Expect(n.Known()).To(BeTrue())
			Expect(wire.ParseNetwork(name)).To(Equal(n))
			// btcd uses the same little-endian uint32 representation.
			Expect(uint32(n)).To(Equal(uint32(btcd)))
		},
		Entry("mainnet", wire.Mainnet, "mainnet", [4]byte{0xf9, 0xbe, 0xb4, 0xd9}, uint16(8333), btcwire.MainNet),
		Entry("testnet3", wire.Testnet3, "testnet3", [4]byte{0x0b, 0x11, 0x09, 0x07}, uint16(18333), btcwire.TestNet3),
		Entry("testnet4", wire.Testnet4, "testnet4", [4]byte{0x1c, 0x16, 0x3f, 0x28}, uint16(48333), btcwire.TestNet4),
		Entry("signet", wire.Signet, "signet", [4]byte{0x0a, 0x03, 0xcf, 0x40}, uint16(38333), btcwire.SigNet),
		Entry("regtest", wire.Regtest, "regtest", [4]byte{0xfa, 0xbf, 0xb5, 0xda}, uint16(18444), btcwire.TestNet),
	)

	It("derives the signet magic from the default challenge", func() {
		// Default signet challenge (src/kernel/chainparams.cpp, SigNetParams);
		// the magic is the first four bytes of SHA256d of the challenge
		// serialized as a CompactSize-prefixed vector.
		challenge := unhex(`512103ad5e0edad18cb1f0fc0d28a3d4f1f3e445640337489abb10404f2d1e086be430
			210359ef5021964fe22d6f8e05b2463c9540ce96883fe3b278760f048f5189f2e6c452ae`)
		ser := wire.AppendCompactSize(nil, uint64(len(challenge)))
		ser = append(ser, challenge...)
		first := sha256.Sum256(ser)
		second := sha256.Sum256(first[:])
		Expect([4]byte(second[:4])).To(Equal(wire.Signet.Magic()))
	})

	It("lists the five networks, mainnet first", func() {
		Expect(wire.Networks()).To(Equal([]wire.Network{
			wire.Mainnet, wire.Testnet3, wire.Testnet4, wire.Signet, wire.Regtest,
		}))
		for _, n := range wire.Networks() {
			Expect(wire.ParseNetwork(n.String())).To(Equal(n))
		}
		Expect(wire.ParseNetwork("testnet")).To(Equal(wire.Testnet3))
	})

	It("names an unknown magic by its bytes and gives it no port", func() {
		n := wire.Network(0x12141c16) // btcd's simnet
		Expect(n.Known()).To(BeFalse())
		Expect(n.DefaultPort()).To(BeZero())
		Expect(n.String()).To(Equal("magic-161c1412"))
	})

	DescribeTable("ParseNetwork accepts",
		func(s string, want wire.Network) {
			Expect(wire.ParseNetwork(s)).To(Equal(want))
		},
		Entry("mainnet", "mainnet", wire.Mainnet),
		Entry("testnet means testnet3", "testnet", wire.Testnet3),
		Entry("testnet3", "testnet3", wire.Testnet3),
		Entry("testnet4", "testnet4", wire.Testnet4),
		Entry("signet", "signet", wire.Signet),
		Entry("regtest", "regtest", wire.Regtest),
		Entry("any letter case", "TestNet4", wire.Testnet4),
		Entry("surrounding blanks", " signet\n", wire.Signet),
	)

	DescribeTable("ParseNetwork rejects",
		func(s string) {
			n, err := wire.ParseNetwork(s)
			Expect(err).To(MatchError(ContainSubstring("unknown network")))
			Expect(n).To(BeZero())
		},
		Entry("empty", ""),
		Entry("main", "main"),
		Entry("bitcoin", "bitcoin"),
		Entry("test", "test"),
		Entry("testnet2", "testnet2"),
		Entry("testnet5", "testnet5"),
		Entry("simnet", "simnet"),
		Entry("regtest2", "regtest2"),
		Entry("sig net", "sig net"),
		Entry("magic in hex", "f9beb4d9"),
	)
})
