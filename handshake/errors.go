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
// in the chain of every error this package returns: errors.Is(err,
// handshake.KindTimeout) tests for one kind, and errors.As with a *Kind
// target reads it (Result.Kind does the same).
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

	// The BIP324 (v2 transport) kinds.

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

// kinds lists every Kind, for Known.
var kinds = [...]Kind{KindDial, KindTimeout, KindPeerClosed, KindReset, KindBadMagic, KindOversized,
	KindMalformed, KindVersionTooLow, KindSelfConnection, KindCanceled, KindIO,
	KindV2Decrypt, KindV2NoTerminator, KindV2Oversized, KindV2Handshake}

func (k Kind) Error() string { return string(k) }

// Known reports whether k is one of the kinds above: a verdict or report
// naming another is a typo or comes from a newer version.
func (k Kind) Known() bool {
	for _, have := range kinds {
		if have == k {
			return true
		}
	}
	return false
}

// Phase is a step of the handshake.
type Phase string

// The phases, in order.
const (
	PhaseConnect Phase = "connect" // dialing
	// PhaseV2 is the BIP324 handshake (v2 transport only): keys, garbage,
	// terminators and version packets. Our version goes out at its end,
	// with our version packet; the phase ends when the peer's version
	// packet is in.
	PhaseV2      Phase = "v2-handshake"
	PhaseVersion Phase = "version" // our version sent, waiting for the peer's
	PhaseVerack  Phase = "verack"  // versions exchanged, waiting for the peer's verack
	PhaseDone    Phase = "done"    // handshake complete
)

// failure is the error of a failed handshake. Its text names the peer,
// the phase and the kind; it unwraps to its Kind and its cause. The
// Result that comes with it holds the same phase and address as fields.
type failure struct {
	Kind  Kind
	Phase Phase
	Addr  string
	Err   error
}

func (e *failure) Error() string {
	msg := fmt.Sprintf("handshake with %s failed in phase %s: %s", e.Addr, e.Phase, e.Kind)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the kind and the cause, so errors.Is matches either.
func (e *failure) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// peerNetwork is the network whose magic the peer used, when the
// handshake failed with KindBadMagic and the magic is one of the known
// networks' (wire.Networks); 0 otherwise. A peer answering with mainnet's
// magic to our regtest version is on mainnet, not broken. Reports show it
// (Report's error.peer_network).
func peerNetwork(err error) wire.Network {
	if wn, ok := errors.AsType[*wrongNetworkError](err); ok {
		return wn.peer
	}
	return 0
}

// errKind returns the Kind of err, or "" when err is nil or not from this package.
func errKind(err error) Kind {
	var k Kind
	if errors.As(err, &k) {
		return k
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

// wrongNetworkError is a bad magic that belongs to a known network: the
// peer speaks another network, which says more than "wrong magic".
type wrongNetworkError struct {
	peer, ours wire.Network
	err        error
}

func (e *wrongNetworkError) Error() string {
	return fmt.Sprintf("peer speaks %s, we asked for %s: %v", e.peer, e.ours, e.err)
}

func (e *wrongNetworkError) Unwrap() error { return e.err }

// describe adds a hint to the frame errors a newcomer would otherwise
// puzzle over: a header with another network's magic, or an HTTP reply.
// ours is the network we asked for.
func describe(err error, f wire.Frame, ours wire.Network) error {
	if !errors.Is(err, wire.ErrBadMagic) {
		return err
	}
	m := f.Header.Magic
	if string(m[:]) == "HTTP" {
		return fmt.Errorf("peer answered with HTTP, not the Bitcoin P2P protocol: %w", err)
	}
	for _, n := range wire.Networks() {
		if n.Magic() == m {
			return &wrongNetworkError{peer: n, ours: ours, err: err}
		}
	}
	return err
}

// hangUpHint explains a peer that hung up (or reset) after our version
// without sending anything: that is what Core and btcd do with a header
// carrying another network's magic (they disconnect without a word), so
// the likeliest cause is that the peer is on another network than the one
// we asked for.
func hangUpHint(kind Kind, res *Result, ours wire.Network, err error) error {
	switch {
	case res.Phase != PhaseVersion || res.TranscriptDropped > 0:
		return err
	case res.Transport == TransportV2:
		// The peer answered our key: it speaks v2 on our network (another
		// network's keys fail to decrypt), so a hang-up after our version
		// means something else (btcd's terminator scan, say).
		return err
	case kind == KindPeerClosed && errors.Is(err, io.ErrUnexpectedEOF):
		return err // it hung up inside a frame: it did say something
	case kind != KindPeerClosed && kind != KindReset:
		return err
	}
	for _, e := range res.Transcript {
		if e.Received {
			return err // it said something: not a silent refusal
		}
	}
	return fmt.Errorf("the peer closed right after our version: is it on another network? we asked for %s: %w", ours, err)
}

// versionTooLowError is a peer version below Config.MinPeerVersion. It
// keeps the version received, which Result.Peer (accepted versions only)
// does not hold, so that reports can still show what the peer announced.
type versionTooLowError struct {
	peer *wire.Version
	min  int32
}

func (e *versionTooLowError) Error() string {
	return fmt.Sprintf("peer version %d below minimum %d", e.peer.ProtocolVersion, e.min)
}

// rejectedVersion returns the version message a peer was rejected for
// (too low), or nil.
func rejectedVersion(err error) *wire.Version {
	if e, ok := errors.AsType[*versionTooLowError](err); ok {
		return e.peer
	}
	return nil
}
