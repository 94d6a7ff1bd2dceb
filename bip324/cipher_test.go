package bip324_test

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("Cipher", func() {
	It("derives the same session id and crossed terminators on both sides", func() {
		i, r := pair(wire.Regtest)
		Expect(i.SessionID()).To(Equal(r.SessionID()))
		Expect(i.SendTerminator()).To(Equal(r.RecvTerminator()))
		Expect(i.RecvTerminator()).To(Equal(r.SendTerminator()))
		Expect(i.SendTerminator()).NotTo(Equal(i.RecvTerminator()))
	})

	It("carries packets both ways across three rekeys, with AAD on the first and decoys", func() {
		i, r := pair(wire.Mainnet)
		rng := rand.New(rand.NewPCG(1, 2))
		for _, dir := range []struct {
			from, to *bip324.Cipher
		}{{i, r}, {r, i}} {
			garbage := randomBytes(100)
			for n := range 3*224 + 5 {
				contents := randomBytes(rng.IntN(300))
				ignore := n%7 == 3
				var aad []byte
				if n == 0 {
					aad = garbage
				}
				pkt, err := dir.from.Encrypt(nil, contents, aad, ignore)
				Expect(err).NotTo(HaveOccurred())
				Expect(pkt).To(HaveLen(len(contents) + bip324.Expansion))
				got, ign, rest, err := decrypt(dir.to, pkt, aad)
				Expect(err).NotTo(HaveOccurred(), "packet %d", n)
				Expect(rest).To(BeEmpty())
				Expect(ign).To(Equal(ignore))
				Expect(bytes.Equal(got, contents)).To(BeTrue(), "packet %d", n)
			}
		}
	})

	It("appends to dst without touching what it holds", func() {
		i, r := pair(wire.Mainnet)
		dst := []byte("prefix")
		dst, err := i.Encrypt(dst, []byte("abc"), nil, false)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(dst[:6])).To(Equal("prefix"))
		got, _, _, err := decrypt(r, dst[6:], nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal("abc"))
	})

	DescribeTable("fails authentication when the packet or its context changes",
		func(tamper func(pkt, aad []byte) ([]byte, []byte)) {
			i, r := pair(wire.Mainnet)
			aad := []byte("garbage")
			pkt, err := i.Encrypt(nil, []byte("version-ish contents"), aad, false)
			Expect(err).NotTo(HaveOccurred())
			pkt, aad = tamper(pkt, aad)
			_, _, _, err = decrypt(r, pkt, aad)
			Expect(err).To(MatchError(bip324.ErrDecrypt))
		},
		Entry("no AAD", func(p, a []byte) ([]byte, []byte) { return p, nil }),
		Entry("other AAD (tampered garbage)", func(p, a []byte) ([]byte, []byte) { return p, []byte("garbagf") }),
		Entry("a flipped contents bit", func(p, a []byte) ([]byte, []byte) { p[5] ^= 1; return p, a }),
		Entry("a flipped header bit", func(p, a []byte) ([]byte, []byte) { p[3] ^= 0x80; return p, a }),
		Entry("a flipped tag bit", func(p, a []byte) ([]byte, []byte) { p[len(p)-1] ^= 1; return p, a }),
		Entry("a shorter declared length", func(p, a []byte) ([]byte, []byte) { forgeLength(p, 20, 19); return p, a }),
	)

	It("fails authentication between sides keyed for different networks", func() {
		ki, _ := bip324.NewKey()
		kr, _ := bip324.NewKey()
		i, err := bip324.NewCipher(ki, kr.EllSwift, true, wire.Mainnet)
		Expect(err).NotTo(HaveOccurred())
		r, err := bip324.NewCipher(kr, ki.EllSwift, false, wire.Testnet4)
		Expect(err).NotTo(HaveOccurred())
		Expect(i.SessionID()).NotTo(Equal(r.SessionID()))
		pkt, _ := i.Encrypt(nil, nil, nil, false)
		// The length field decrypts to noise; declare it what it was so that
		// the AEAD itself is what rejects the packet.
		n, _ := r.DecryptLength([3]byte(pkt))
		_, _, err = r.Decrypt(pkt[3:], nil)
		Expect(err).To(MatchError(bip324.ErrDecrypt), "declared %d", n)
	})

	It("refuses a key without a private key and a packet too short for header and tag", func() {
		k, err := bip324.NewKey()
		Expect(err).NotTo(HaveOccurred())
		_, err = bip324.NewCipher(bip324.Key{EllSwift: k.EllSwift}, k.EllSwift, true, wire.Mainnet)
		Expect(err).To(MatchError(bip324.ErrKeyExchange))
		_, r := pair(wire.Mainnet)
		_, _, err = r.Decrypt(make([]byte, 16), nil)
		Expect(err).To(MatchError(bip324.ErrShortPacket))
	})

	It("refuses to encrypt contents the 3-byte length cannot express", func() {
		i, _ := pair(wire.Mainnet)
		_, err := i.Encrypt(nil, make([]byte, 1<<24), nil, false)
		Expect(err).To(MatchError(bip324.ErrContentsTooLong))
	})

	It("encrypts and decrypts into reused buffers without allocating", func() {
		i, r := pair(wire.Mainnet)
		contents := randomBytes(120)
		buf := make([]byte, 0, 256)
		allocs := testing.AllocsPerRun(500, func() {
			var err error
			buf, err = i.Encrypt(buf[:0], contents, nil, false)
			if err != nil {
				panic(err)
			}
			// Not the decrypt helper: Gomega's assertions allocate.
			n, err := r.DecryptLength([bip324.LengthLen]byte(buf))
			if err != nil || n != len(contents) {
				panic("length")
			}
			if _, _, err := r.Decrypt(buf[bip324.LengthLen:], nil); err != nil {
				panic(err)
			}
		})
		// A rekey every 224 packets makes new cipher states; averaged over
		// 500 runs that is below one allocation per packet.
		Expect(allocs).To(BeZero())
	})
})

var _ = Describe("packet length limit (Core's MAX_CONTENTS_LEN)", func() {
	It("is 4,000,000 payload bytes plus a 13-byte long-form message type", func() {
		Expect(bip324.MaxContentsLen).To(Equal(4_000_013))
	})

	DescribeTable("judges a declared length from the 3 length bytes alone",
		func(declared int, wantErr bool) {
			i, r := pair(wire.Mainnet)
			pkt, err := i.Encrypt(nil, nil, nil, false)
			Expect(err).NotTo(HaveOccurred())
			forgeLength(pkt, 0, declared)
			n, err := r.DecryptLength([bip324.LengthLen]byte(pkt))
			Expect(n).To(Equal(declared))
			if wantErr {
				Expect(err).To(MatchError(bip324.ErrPacketTooLarge))
			} else {
				Expect(err).NotTo(HaveOccurred())
			}
		},
		Entry("the limit", bip324.MaxContentsLen, false),
		Entry("one over the limit", bip324.MaxContentsLen+1, true),
		Entry("btcd's limit, 2^24-1", 1<<24-1, true),
	)

	It("rejects over-limit lengths without allocating (btcd allocates the declared length first)", func() {
		const runs = 200
		i, r := pair(wire.Mainnet)
		var stream [][]byte
		for range runs + 1 { // AllocsPerRun adds a warm-up run
			pkt, err := i.Encrypt(nil, nil, nil, false)
			Expect(err).NotTo(HaveOccurred())
			forgeLength(pkt, 0, 1<<24-1)
			stream = append(stream, pkt)
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		k := 0
		allocs := testing.AllocsPerRun(runs, func() {
			n, err := r.DecryptLength([bip324.LengthLen]byte(stream[k]))
			k++
			if n != 1<<24-1 || err != bip324.ErrPacketTooLarge {
				panic("length not rejected")
			}
		})
		runtime.ReadMemStats(&ms1)
		Expect(k).To(Equal(runs + 1))
		Expect(allocs).To(BeZero())
		Expect(ms1.TotalAlloc-ms0.TotalAlloc).To(BeNumerically("<", 1<<20), "bytes allocated while rejecting %d lengths of 16 MiB", runs)
	})
})
