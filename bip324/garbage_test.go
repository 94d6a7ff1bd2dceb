package bip324_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// garbageFree returns n random bytes that do not contain term.
func garbageFree(n int, term [bip324.TerminatorLen]byte) []byte {
	for {
		g := randomBytes(n)
		if !bytes.Contains(g, term[:]) {
			return g
		}
	}
}

var _ = Describe("garbage terminator search", func() {
	var (
		c    *bip324.Cipher
		term [bip324.TerminatorLen]byte
	)
	BeforeEach(func() {
		_, c = pair(wire.Mainnet)
		term = c.RecvTerminator()
	})

	It("finds the terminator after every legal garbage length, 0 to 4095", func() {
		after := []byte{1, 2, 3} // the first packet's bytes, already received
		pool := garbageFree(bip324.MaxGarbageLen, term)
		for g := 0; g <= bip324.MaxGarbageLen; g++ {
			buf := append(append(append([]byte{}, pool[:g]...), term[:]...), after...)
			n, found, err := c.FindTerminator(buf)
			Expect(err).NotTo(HaveOccurred(), "garbage %d", g)
			Expect(found).To(BeTrue(), "garbage %d", g)
			Expect(n).To(Equal(g))
		}
	})

	DescribeTable("asks for more bytes until the terminator is complete, read byte by byte",
		func(g int) {
			buf := append(garbageFree(g, term), term[:]...)
			for k := 0; k < len(buf); k++ {
				_, found, err := c.FindTerminator(buf[:k])
				Expect(err).NotTo(HaveOccurred(), "after %d bytes", k)
				Expect(found).To(BeFalse(), "after %d bytes", k)
			}
			n, found, err := c.FindTerminator(buf)
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeTrue())
			Expect(n).To(Equal(g))
		},
		Entry("no garbage", 0),
		Entry("1 byte", 1),
		Entry("16 bytes", 16),
		Entry("4094 bytes", 4094),
		Entry("4095 bytes (btcd's v2transport misses this one)", 4095),
	)

	It("finds the terminator after garbage that holds its prefixes", func() {
		for k := 1; k < bip324.TerminatorLen; k++ {
			garbage := append(bytes.Repeat(term[:k], 3), term[:k]...)
			n, found, err := c.FindTerminator(append(append([]byte{}, garbage...), term[:]...))
			Expect(err).NotTo(HaveOccurred())
			Expect(found).To(BeTrue())
			Expect(n).To(Equal(len(garbage)), "prefix of %d bytes", k)
		}
	})

	It("gives up after 4095+16 bytes and never looks further", func() {
		window := bip324.MaxGarbageLen + bip324.TerminatorLen
		noise := garbageFree(window, term)

		_, found, err := c.FindTerminator(noise[:window-1])
		Expect(err).NotTo(HaveOccurred(), "4110 bytes may still end with a terminator")
		Expect(found).To(BeFalse())

		_, found, err = c.FindTerminator(noise)
		Expect(found).To(BeFalse())
		Expect(err).To(MatchError(bip324.ErrNoTerminator))

		// 4096 bytes of garbage, then the terminator: illegal, and the
		// terminator lies past the window, so it is not found.
		buf := append(append([]byte{}, noise[:bip324.MaxGarbageLen+1]...), term[:]...)
		_, found, err = c.FindTerminator(buf)
		Expect(found).To(BeFalse())
		Expect(err).To(MatchError(bip324.ErrNoTerminator))
	})

	It("looks for the peer's terminator, not ours", func() {
		own := c.SendTerminator()
		_, found, err := c.FindTerminator(own[:])
		Expect(err).NotTo(HaveOccurred())
		Expect(found).To(BeFalse())
	})
})
