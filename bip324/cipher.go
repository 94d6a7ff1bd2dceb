package bip324

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ellswift"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Sizes and limits of the v2 transport (BIP324; src/bip324.h, src/net.h).
const (
	// KeyLen is the length of an ElligatorSwift-encoded public key, the
	// first thing each side sends.
	KeyLen = 64
	// MaxGarbageLen is the most garbage a side may send after its key.
	MaxGarbageLen = 4095
	// TerminatorLen is the length of a garbage terminator.
	TerminatorLen = 16
	// SessionIDLen is the length of the session id.
	SessionIDLen = 32
	// LengthLen is the length of a packet's encrypted length field.
	LengthLen = 3
	// Expansion is what a packet adds to its contents: the length field,
	// the header byte and the 16-byte Poly1305 tag (BIP324Cipher::EXPANSION).
	Expansion = LengthLen + headerLen + tagLen
	// MaxContentsLen is the largest packet contents Core accepts: a
	// message type (1 + 12 bytes at most) and a payload of
	// MAX_PROTOCOL_MESSAGE_LENGTH (V2Transport::MAX_CONTENTS_LEN).
	MaxContentsLen = 1 + wire.CommandSize + wire.MaxPayload
	// maxEncodable is what the 3-byte length field can express; BIP324's
	// vectors encrypt packets this large, so Encrypt allows them.
	maxEncodable = 1<<24 - 1

	headerLen = 1
	tagLen    = 16
	ignoreBit = 0x80
)

// Key is one side's ephemeral key: a secp256k1 private key and an
// ElligatorSwift encoding of its public key (one of many; any will do).
type Key struct {
	Private  *btcec.PrivateKey
	EllSwift [KeyLen]byte
}

// NewKey makes a fresh random Key from crypto/rand.
func NewKey() (Key, error) {
	priv, enc, err := ellswift.EllswiftCreate()
	if err != nil {
		return Key{}, fmt.Errorf("%w: %v", ErrKeyExchange, err)
	}
	return Key{Private: priv, EllSwift: enc}, nil
}

// Cipher is one side of an established v2 session: the send and receive
// cipher pairs, the garbage terminators and the session id. Encrypt uses
// only the send half and DecryptLength/Decrypt only the receive half, so a
// writer and a reader goroutine may share a Cipher; each half is for one
// goroutine at a time.
type Cipher struct {
	sendL *fsChaCha20
	sendP *fsChaCha20Poly1305
	recvL *fsChaCha20
	recvP *fsChaCha20Poly1305

	sendTerm, recvTerm [TerminatorLen]byte
	session            [SessionIDLen]byte
}

// NewCipher performs the ECDH between ours and the peer's encoding theirs,
// and derives the session's keys with HKDF-SHA256 salted with net's magic.
// initiator is true for the side that opened the connection.
func NewCipher(ours Key, theirs [KeyLen]byte, initiator bool, net wire.Network) (*Cipher, error) {
	secret, err := sharedSecret(ours, theirs, initiator)
	if err != nil {
		return nil, err
	}
	return newCipher(deriveKeys(secret[:], net), initiator), nil
}

// sharedSecret is BIP324's v2_ecdh: the tagged hash
// ("bip324_ellswift_xonly_ecdh") of the initiator's encoding, the
// responder's, and the x coordinate of the shared point.
func sharedSecret(ours Key, theirs [KeyLen]byte, initiator bool) ([32]byte, error) {
	if ours.Private == nil {
		return [32]byte{}, fmt.Errorf("%w: no private key", ErrKeyExchange)
	}
	h, err := ellswift.V2Ecdh(ours.Private, theirs, ours.EllSwift, initiator)
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: %v", ErrKeyExchange, err)
	}
	return *h, nil
}

// keys is the output of the key schedule.
type keys struct {
	initiatorL, initiatorP, responderL, responderP [32]byte
	terminators                                    [2 * TerminatorLen]byte // initiator's, then responder's
	session                                        [SessionIDLen]byte
}

func deriveKeys(secret []byte, net wire.Network) keys {
	salt := make([]byte, 0, 28)
	salt = append(salt, "bitcoin_v2_shared_secret"...)
	salt = binary.LittleEndian.AppendUint32(salt, uint32(net))
	// HKDF with SHA-256 fails only for output lengths over 255*32 bytes.
	prk, err := hkdf.Extract(sha256.New, secret, salt)
	if err != nil {
		panic("bip324: " + err.Error())
	}
	expand := func(dst []byte, info string) {
		b, err := hkdf.Expand(sha256.New, prk, info, len(dst))
		if err != nil {
			panic("bip324: " + err.Error())
		}
		copy(dst, b)
	}
	var k keys
	expand(k.initiatorL[:], "initiator_L")
	expand(k.initiatorP[:], "initiator_P")
	expand(k.responderL[:], "responder_L")
	expand(k.responderP[:], "responder_P")
	expand(k.terminators[:], "garbage_terminators")
	expand(k.session[:], "session_id")
	return k
}

func newCipher(k keys, initiator bool) *Cipher {
	c := &Cipher{session: k.session}
	initTerm := [TerminatorLen]byte(k.terminators[:TerminatorLen])
	respTerm := [TerminatorLen]byte(k.terminators[TerminatorLen:])
	if initiator {
		c.sendL, c.sendP = newFSChaCha20(k.initiatorL[:]), newFSChaCha20Poly1305(k.initiatorP[:])
		c.recvL, c.recvP = newFSChaCha20(k.responderL[:]), newFSChaCha20Poly1305(k.responderP[:])
		c.sendTerm, c.recvTerm = initTerm, respTerm
	} else {
		c.sendL, c.sendP = newFSChaCha20(k.responderL[:]), newFSChaCha20Poly1305(k.responderP[:])
		c.recvL, c.recvP = newFSChaCha20(k.initiatorL[:]), newFSChaCha20Poly1305(k.initiatorP[:])
		c.sendTerm, c.recvTerm = respTerm, initTerm
	}
	return c
}

// SessionID identifies the session; both sides derive the same one.
func (c *Cipher) SessionID() [SessionIDLen]byte { return c.session }

// SendTerminator is the terminator we send after our garbage.
func (c *Cipher) SendTerminator() [TerminatorLen]byte { return c.sendTerm }

// RecvTerminator is the terminator that ends the peer's garbage.
func (c *Cipher) RecvTerminator() [TerminatorLen]byte { return c.recvTerm }

// Encrypt appends to dst one packet carrying contents, authenticated with
// aad (the sender's garbage for the first packet after the terminator,
// empty afterwards). ignore sets the header's ignore bit (a decoy). The
// packet is len(contents)+Expansion bytes.
func (c *Cipher) Encrypt(dst, contents, aad []byte, ignore bool) ([]byte, error) {
	n := len(contents)
	if n > maxEncodable {
		return dst, fmt.Errorf("%w: %d bytes", ErrContentsTooLong, n)
	}
	start := len(dst)
	dst = grow(dst, n+Expansion)
	pkt := dst[start:]
	pkt[0], pkt[1], pkt[2] = byte(n), byte(n>>8), byte(n>>16)
	c.sendL.crypt(pkt[:LengthLen], pkt[:LengthLen])
	body := pkt[LengthLen : LengthLen+headerLen+n]
	body[0] = 0
	if ignore {
		body[0] = ignoreBit
	}
	copy(body[headerLen:], contents)
	c.sendP.seal(body[:0], body, aad)
	return dst, nil
}

// grow extends b by n bytes, reusing its capacity when it can, and at
// least doubling it when it cannot, as append does: a caller appending
// packet after packet to one buffer (Encrypt(dst, ...)) then copies each
// byte a bounded number of times, not once per packet after it (found by
// FuzzClientV2: thousands of small packets cost 4 MB).
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), max(len(b)+n, 2*cap(b)))
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// DecryptLength decrypts a packet's 3-byte length field and returns the
// length of its contents. The rest of the packet, header and tag included,
// is n+Expansion-LengthLen bytes, to be read and given to Decrypt. When n is
// over MaxContentsLen it returns n with ErrPacketTooLarge, before the caller
// has allocated anything for the packet; the session is then unusable.
func (c *Cipher) DecryptLength(enc [LengthLen]byte) (int, error) {
	c.recvL.crypt(enc[:], enc[:])
	n := int(enc[0]) | int(enc[1])<<8 | int(enc[2])<<16
	if n > MaxContentsLen {
		return n, ErrPacketTooLarge
	}
	return n, nil
}

// Decrypt authenticates and decrypts the rest of a packet (everything after
// the length field) in place, and returns its contents, which alias rest,
// and its ignore bit. aad must be the peer's garbage for the first packet
// after the terminator and empty afterwards. Any error ends the session.
func (c *Cipher) Decrypt(rest, aad []byte) (contents []byte, ignore bool, err error) {
	if len(rest) < headerLen+tagLen {
		return nil, false, fmt.Errorf("%w: %d bytes", ErrShortPacket, len(rest))
	}
	plain, err := c.recvP.open(rest[:0], rest, aad)
	if err != nil {
		return nil, false, ErrDecrypt
	}
	// Only the ignore bit has a meaning; the other header bits are reserved
	// and must be ignored (BIP324).
	return plain[headerLen:], plain[0]&ignoreBit != 0, nil
}

// FindTerminator looks for the peer's garbage terminator in buf, the bytes
// received after the peer's key. It returns the garbage length (the
// terminator's offset) when found. With found false and a nil error, more
// bytes are needed. It never looks past MaxGarbageLen+TerminatorLen bytes:
// a buffer that long without the terminator is ErrNoTerminator, whatever
// follows.
func (c *Cipher) FindTerminator(buf []byte) (garbageLen int, found bool, err error) {
	return findTerminator(buf, c.recvTerm)
}

func findTerminator(buf []byte, term [TerminatorLen]byte) (int, bool, error) {
	const window = MaxGarbageLen + TerminatorLen
	if len(buf) > window {
		buf = buf[:window]
	}
	if i := bytes.Index(buf, term[:]); i >= 0 {
		return i, true, nil
	}
	if len(buf) == window {
		return 0, false, fmt.Errorf("%w in %d bytes", ErrNoTerminator, window)
	}
	return 0, false, nil
}
