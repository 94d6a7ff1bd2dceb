package bip324

import (
	"crypto/cipher"
	"encoding/binary"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

// rekeyInterval is the number of messages a key protects before both
// ciphers derive the next key (BIP324 REKEY_INTERVAL), which gives forward
// secrecy within a session.
const rekeyInterval = 224

// fsChaCha20 encrypts the 3-byte length fields: one ChaCha20 keystream per
// key, consumed chunk after chunk, whose next 32 bytes become the key after
// every rekeyInterval chunks (BIP324 FSChaCha20).
type fsChaCha20 struct {
	stream *chacha20.Cipher
	chunks uint32 // chunks crypted with the current key
	rekeys uint64
}

func newFSChaCha20(key []byte) *fsChaCha20 {
	f := &fsChaCha20{}
	f.stream = f.newStream(key)
	return f
}

func (f *fsChaCha20) newStream(key []byte) *chacha20.Cipher {
	var nonce [chacha20.NonceSize]byte
	binary.LittleEndian.PutUint64(nonce[4:], f.rekeys)
	// Key and nonce sizes are constants, the only errors it can return.
	s, err := chacha20.NewUnauthenticatedCipher(key, nonce[:])
	if err != nil {
		panic("bip324: " + err.Error())
	}
	return s
}

// crypt XORs src with the keystream into dst (which may be src).
func (f *fsChaCha20) crypt(dst, src []byte) {
	f.stream.XORKeyStream(dst, src)
	f.chunks++
	if f.chunks == rekeyInterval {
		var key [32]byte
		f.stream.XORKeyStream(key[:], key[:]) // zeros XOR keystream = keystream
		f.chunks = 0
		f.rekeys++
		f.stream = f.newStream(key[:])
	}
}

// fsChaCha20Poly1305 is the packet AEAD: ChaCha20-Poly1305 with a nonce made
// of the packet's index under the current key (4 bytes LE) and the number of
// rekeys (8 bytes LE); after rekeyInterval packets the next key is the first
// 32 bytes of the encryption of 32 zero bytes under nonce ff ff ff ff ‖
// rekeys (BIP324 FSChaCha20Poly1305).
type fsChaCha20Poly1305 struct {
	aead    cipher.AEAD
	packets uint32
	rekeys  uint64
	nonce   [chacha20poly1305.NonceSize]byte // kept here so that it does not escape per call
}

func newFSChaCha20Poly1305(key []byte) *fsChaCha20Poly1305 {
	return &fsChaCha20Poly1305{aead: newAEAD(key)}
}

func newAEAD(key []byte) cipher.AEAD {
	a, err := chacha20poly1305.New(key)
	if err != nil { // only for a key that is not 32 bytes
		panic("bip324: " + err.Error())
	}
	return a
}

func (f *fsChaCha20Poly1305) setNonce(packet uint32) []byte {
	binary.LittleEndian.PutUint32(f.nonce[0:4], packet)
	binary.LittleEndian.PutUint64(f.nonce[4:12], f.rekeys)
	return f.nonce[:]
}

// seal appends the encryption of plaintext to dst (in place when dst is
// plaintext[:0]).
func (f *fsChaCha20Poly1305) seal(dst, plaintext, aad []byte) []byte {
	out := f.aead.Seal(dst, f.setNonce(f.packets), plaintext, aad)
	f.next()
	return out
}

// open decrypts in place when dst is ciphertext[:0]. The packet counts even
// when authentication fails, as in BIP324's reference code and Core.
func (f *fsChaCha20Poly1305) open(dst, ciphertext, aad []byte) ([]byte, error) {
	out, err := f.aead.Open(dst, f.setNonce(f.packets), ciphertext, aad)
	f.next()
	return out, err
}

func (f *fsChaCha20Poly1305) next() {
	f.packets++
	if f.packets < rekeyInterval {
		return
	}
	var buf [32 + chacha20poly1305.Overhead]byte
	f.aead.Seal(buf[:0], f.setNonce(0xffffffff), buf[:32], nil)
	f.packets = 0
	f.rekeys++
	f.aead = newAEAD(buf[:32])
}
