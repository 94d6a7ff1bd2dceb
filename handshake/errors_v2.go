package handshake

import (
	"errors"

	"github.com/btc-handshake/btc-handshake/bip324"
)

// The kinds of failure of the BIP324 v2 transport.
const (
	// KindV2Decrypt: a packet failed authentication: tampered bytes, the
	// peer's garbage not matching the first packet's AAD, or keys derived
	// for another network. Core disconnects.
	KindV2Decrypt Kind = "v2-decrypt"
	// KindV2NoTerminator: no garbage terminator in the 4095+16 bytes after
	// the peer's key. Core disconnects.
	KindV2NoTerminator Kind = "v2-no-terminator"
	// KindV2Oversized: a packet's length field declares contents over the
	// limit (Core's 4,000,000+13 bytes, or Config.MaxPayload+13); judged
	// before anything is allocated for the packet.
	KindV2Oversized Kind = "v2-oversized-packet"
	// KindV2Handshake: the key exchange failed (a key btcec rejects).
	KindV2Handshake Kind = "v2-handshake"
)

// v2Kinds are listed by Kinds.
var v2Kinds = []Kind{KindV2Decrypt, KindV2NoTerminator, KindV2Oversized, KindV2Handshake}

// PhaseV2 is the BIP324 handshake, before PhaseVersion: keys, garbage,
// terminators and version packets. Our version goes out at its end, with
// our version packet; the phase ends when the peer's version packet is in.
const PhaseV2 Phase = "v2-handshake"

// kindOf classifies an error of a transport's next.
func kindOf(err error) Kind {
	switch {
	case errors.Is(err, bip324.ErrDecrypt):
		return KindV2Decrypt
	case errors.Is(err, bip324.ErrNoTerminator):
		return KindV2NoTerminator
	case errors.Is(err, bip324.ErrPacketTooLarge):
		return KindV2Oversized
	case errors.Is(err, bip324.ErrKeyExchange), errors.Is(err, bip324.ErrShortPacket):
		return KindV2Handshake
	}
	return classify(err)
}
