package bip324

import "github.com/btc-handshake/btc-handshake/wire"

// Test access to the key schedule's intermediate values (BIP324's vectors
// check them) and to a cipher built from a known secret, so that the specs
// can decrypt a vector's packet and the fuzz targets run without randomness.

// Schedule is the key schedule's output, for the vectors.
type Schedule struct {
	InitiatorL, InitiatorP, ResponderL, ResponderP, Terminators, SessionID []byte
}

func DeriveForTest(secret []byte, net wire.Network) Schedule {
	k := deriveKeys(secret, net)
	return Schedule{k.initiatorL[:], k.initiatorP[:], k.responderL[:], k.responderP[:], k.terminators[:], k.session[:]}
}

func SharedSecretForTest(ours Key, theirs [KeyLen]byte, initiator bool) ([32]byte, error) {
	return sharedSecret(ours, theirs, initiator)
}

func CipherFromSecretForTest(secret []byte, initiator bool, net wire.Network) *Cipher {
	return newCipher(deriveKeys(secret, net), initiator)
}
