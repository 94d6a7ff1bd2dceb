package handshake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Kind classifies a failed handshake. Kinds are stable names: reports,
// scenario verdicts and the CLI's JSON use them. A Kind is also an error,
// so errors.Is(err, handshake.KindTimeout) works on any *Error.
type Kind string

// The kinds of failure.
const (
	KindDial           Kind = "dial"              // could not connect
	KindTimeout        Kind = "timeout"           // a phase deadline passed
	KindPeerClosed     Kind = "peer-closed"       // the peer hung up before the handshake completed
	KindReset          Kind = "connection-reset"  // the peer reset the connection
	KindBadMagic       Kind = "bad-magic"         // a header with another network's (or no network's) magic
	KindOversized      Kind = "oversized-frame"   // a header declaring more than the payload limit
	KindMalformed      Kind = "malformed-message" // a handshake message that does not decode
	KindVersionTooLow  Kind = "version-too-low"   // the peer's protocol version is below the minimum
	KindSelfConnection Kind = "self-connection"   // the peer's version carries our nonce
	KindCanceled       Kind = "canceled"          // the caller's context ended
	KindIO             Kind = "io"                // any other I/O failure
)

// Kinds lists every Kind, for documentation and validation.
func Kinds() []Kind {
	return append([]Kind{KindDial, KindTimeout, KindPeerClosed, KindReset, KindBadMagic, KindOversized,
		KindMalformed, KindVersionTooLow, KindSelfConnection, KindCanceled, KindIO}, v2Kinds...)
}

func (k Kind) Error() string { return string(k) }

// Phase is a step of the handshake.
type Phase string

// The phases, in order.
const (
	PhaseConnect Phase = "connect" // dialing
	PhaseVersion Phase = "version" // our version sent, waiting for the peer's
	PhaseVerack  Phase = "verack"  // versions exchanged, waiting for the peer's verack
	PhaseDone    Phase = "done"    // handshake complete
)

// Error is a failed handshake: what went wrong, in which phase, with whom.
type Error struct {
	Kind  Kind
	Phase Phase
	Addr  string
	Err   error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("handshake with %s failed in phase %s: %s", e.Addr, e.Phase, e.Kind)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the kind and the cause, so errors.Is matches either.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// KindOf returns the Kind of err, or "" when err is nil or not from this package.
func KindOf(err error) Kind {
	var he *Error
	if errors.As(err, &he) {
		return he.Kind
	}
	return ""
}

// classify maps an I/O or codec error to a Kind.
func classify(err error) Kind {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return KindTimeout
	case errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return KindPeerClosed
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return KindReset
	case errors.Is(err, wire.ErrBadMagic):
		return KindBadMagic
	case errors.Is(err, wire.ErrPayloadTooLarge):
		return KindOversized
	case errors.Is(err, wire.ErrTruncated), errors.Is(err, wire.ErrNonCanonical),
		errors.Is(err, wire.ErrUserAgentTooLong), errors.Is(err, wire.ErrBadCommand),
		errors.Is(err, wire.ErrBadChecksum):
		return KindMalformed
	}
	return KindIO
}
