package wire

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers classify with errors.Is.
var (
	// ErrBadMagic: the header does not start with the network's magic.
	// Core disconnects (src/net.cpp, V1Transport::readHeader).
	ErrBadMagic = errors.New("wrong network magic")
	// ErrBadCommand: command bytes are not printable ASCII, NUL-padded.
	// Core drops the message and keeps the connection (CMessageHeader::IsMessageTypeValid, src/protocol.cpp).
	ErrBadCommand = errors.New("invalid command bytes")
	// ErrPayloadTooLarge: declared length above the limit; reported before
	// any payload is read or allocated (MAX_PROTOCOL_MESSAGE_LENGTH, src/net.h).
	ErrPayloadTooLarge = errors.New("declared payload length over limit")
	// ErrBadChecksum: the payload's double-SHA256 does not match.
	// Core drops the message and keeps the connection.
	ErrBadChecksum = errors.New("payload checksum mismatch")
	// ErrTruncated: a payload ends before a field (or an optional group) is complete.
	ErrTruncated = errors.New("truncated payload")
	// ErrNonCanonical: a CompactSize is not in its shortest encoding (Core rejects it).
	ErrNonCanonical = errors.New("non-canonical CompactSize")
	// ErrUserAgentTooLong: user agent over MaxUserAgentLen (MAX_SUBVERSION_LENGTH).
	ErrUserAgentTooLong = errors.New("user agent over 256 bytes")
	// ErrShortHeader: fewer than HeaderSize bytes were given to ParseHeader.
	ErrShortHeader = errors.New("short header")
)

// FrameError describes a frame the reader could not accept. It wraps one of
// the sentinels above. Recoverable reports whether the stream is still in
// sync (the frame was consumed whole, as after a bad checksum), so that
// the next frame can still be read (Core keeps such connections):
//
//	if fe, ok := errors.AsType[*wire.FrameError](err); ok && fe.Recoverable {
//		// drop the frame, keep reading
//	}
type FrameError struct {
	Err         error
	Command     string
	Detail      string
	Recoverable bool
}

func (e *FrameError) Error() string {
	msg := "wire: " + e.Err.Error()
	if e.Command != "" {
		msg += fmt.Sprintf(" (command %q)", e.Command)
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel.
func (e *FrameError) Unwrap() error { return e.Err }

func payloadErr(sentinel error, cmd, detail string) error {
	return &FrameError{Err: sentinel, Command: cmd, Detail: detail, Recoverable: true}
}
