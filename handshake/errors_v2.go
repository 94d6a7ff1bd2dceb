package handshake

import (
	"errors"

	"github.com/btc-handshake/btc-handshake/bip324"
)

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
