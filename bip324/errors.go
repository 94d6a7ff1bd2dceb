package bip324

import "errors"

// Sentinel errors. Every error returned by this package is or wraps one of
// them, so callers classify with errors.Is.
var (
	// ErrPacketTooLarge: a received length field declares contents over
	// MaxContentsLen. Core disconnects ("V2 transport error: packet too large").
	ErrPacketTooLarge = errors.New("bip324: packet contents over limit")
	// ErrContentsTooLong: contents to encrypt do not fit the 3-byte length field.
	ErrContentsTooLong = errors.New("bip324: contents longer than 2^24-1 bytes")
	// ErrDecrypt: a packet failed authentication (wrong key, AAD, length or
	// tampered bytes). Core disconnects.
	ErrDecrypt = errors.New("bip324: packet authentication failed")
	// ErrShortPacket: the bytes given to Decrypt cannot hold a header and a tag.
	ErrShortPacket = errors.New("bip324: packet shorter than header and tag")
	// ErrNoTerminator: no garbage terminator within the first
	// MaxGarbageLen+TerminatorLen bytes. Core disconnects ("missing garbage terminator").
	ErrNoTerminator = errors.New("bip324: garbage terminator not found")
	// ErrKeyExchange: the ECDH failed (no private key, or a key btcec rejects).
	ErrKeyExchange = errors.New("bip324: key exchange failed")

	// The errors of ParseContents concern one message only: Core drops the
	// message and keeps the connection.

	// ErrUnknownShortID: the contents start with a short message id that
	// BIP324 does not assign (29..255).
	ErrUnknownShortID = errors.New("bip324: unknown short message id")
	// ErrBadCommand: a long-form (13-byte) message type is not printable
	// ASCII followed by NUL padding, or is empty.
	ErrBadCommand = errors.New("bip324: invalid long-form message type")
	// ErrShortContents: the contents are empty, or a long form has fewer than 13 bytes.
	ErrShortContents = errors.New("bip324: contents too short for a message type")
)
