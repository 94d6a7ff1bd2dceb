package bip324_test

import (
	"crypto/rand"
	"encoding/hex"

	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// pair returns the initiator's and the responder's Cipher of one session
// made with fresh keys on net.
func pair(net wire.Network) (init, resp *bip324.Cipher) {
	ki, err := bip324.NewKey()
	Expect(err).NotTo(HaveOccurred())
	kr, err := bip324.NewKey()
	Expect(err).NotTo(HaveOccurred())
	init, err = bip324.NewCipher(ki, kr.EllSwift, true, net)
	Expect(err).NotTo(HaveOccurred())
	resp, err = bip324.NewCipher(kr, ki.EllSwift, false, net)
	Expect(err).NotTo(HaveOccurred())
	return init, resp
}

// fixedPair is a session from a fixed secret, for fuzzing and benchmarks
// that must not depend on randomness.
func fixedPair() (init, resp *bip324.Cipher) {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	return bip324.CipherFromSecretForTest(secret, true, wire.Mainnet),
		bip324.CipherFromSecretForTest(secret, false, wire.Mainnet)
}

// decrypt reads one packet from the front of stream and returns its
// contents, ignore bit and the rest of the stream.
func decrypt(c *bip324.Cipher, stream, aad []byte) (contents []byte, ignore bool, rest []byte, err error) {
	Expect(len(stream)).To(BeNumerically(">=", bip324.LengthLen))
	n, err := c.DecryptLength([bip324.LengthLen]byte(stream))
	if err != nil {
		return nil, false, nil, err
	}
	end := bip324.LengthLen + n + bip324.Expansion - bip324.LengthLen
	Expect(len(stream)).To(BeNumerically(">=", end))
	contents, ignore, err = c.Decrypt(stream[bip324.LengthLen:end], aad)
	return contents, ignore, stream[end:], err
}

// forgeLength rewrites the encrypted length field of pkt (whose contents
// are trueLen bytes) to declare newLen: the field is XORed with a
// keystream, so a sender can lie about it without the key, which is what a
// hostile peer does.
func forgeLength(pkt []byte, trueLen, newLen int) {
	d := trueLen ^ newLen
	pkt[0] ^= byte(d)
	pkt[1] ^= byte(d >> 8)
	pkt[2] ^= byte(d >> 16)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	Expect(err).NotTo(HaveOccurred(), "hex %q", s)
	return b
}
