package handshake

import (
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Event is one message of the transcript. In a Report it is a JSON object
// {"dir": "sent" or "received", "command", "size", "at_ms", "error"}.
type Event struct {
	// Received says the peer sent the message; otherwise we did.
	Received bool
	Command  string
	// Size is the payload size in bytes.
	Size int
	// At is the time since the attempt started (Result.Started).
	At time.Duration
	// Err describes a frame that was received broken and dropped.
	Err string
}

// The values of Event.Received, for readable calls of session.record.
const (
	sent     = false
	received = true
)

// Timings are offsets from the start of the attempt (Result.Started);
// a phase never reached stays zero. In a Report they are a JSON object of
// milliseconds: {"connect_ms", "version_ms", "verack_ms", "total_ms", and
// for v2 "v2_key_ms", "v2_terminator_ms", "v2_version_packet_ms"}.
type Timings struct {
	// Connect is when the connection was established (zero for Run).
	Connect time.Duration
	// Version is when the peer's version arrived.
	Version time.Duration
	// Verack is when the handshake completed (the peer's verack, after both versions).
	Verack time.Duration
	// Total is the whole attempt, including dialing and lingering.
	Total time.Duration

	// The BIP324 handshake's steps (zero for v1): when the peer's key
	// arrived, when its garbage terminator was found, and when its
	// version packet was decrypted.
	V2Key, V2Terminator, V2VersionPacket time.Duration
}

// Result is what happened with one peer.
type Result struct {
	// Addr is the peer's address as dialed (or the connection's remote address).
	Addr string
	// Err is nil when the handshake completed; otherwise an error naming
	// the peer, the phase and the Kind (in its chain, see Kind).
	Err error
	// Phase is the phase reached (PhaseDone on success, the failing phase otherwise).
	Phase Phase
	// Peer is the peer's version message, nil if none was accepted.
	Peer *wire.Version
	// NegotiatedVersion is min(ours, the peer's), 0 before the peer's version.
	NegotiatedVersion int32
	// Quirks are the tolerated deviations, each once, in order of first sight.
	Quirks []Quirk
	// Transcript is every message sent and received, up to Config.MaxTranscript.
	Transcript []Event
	// TranscriptDropped counts events beyond Config.MaxTranscript.
	TranscriptDropped int
	// Timings per phase.
	Timings Timings
	// Transport is the transport the handshake used last: TransportV1 or
	// TransportV2.
	Transport Transport
	// Fallback says that a v2 attempt ended with the peer closing on our
	// key having sent nothing, and the handshake went on over a new v1
	// connection (TransportAuto). Timings then count from the first
	// attempt; Connect is the second connection's.
	Fallback bool
	// The v2 session, when Transport is TransportV2: its id (the same on
	// both sides), the garbage we sent and the peer's, and the decoy
	// packets the peer sent (skipped).
	SessionID                [32]byte
	GarbageSent, GarbageRecv int
	Decoys                   int
	// Started is when the attempt began.
	Started time.Time
	// Conn goes on with the connection after a completed Run (nil for
	// Dial and Survey, which close theirs, and after a failure).
	Conn *Conn
}

// OK reports whether the handshake completed.
func (r *Result) OK() bool { return r.Err == nil && r.Phase == PhaseDone }

// Kind is the failure kind, or "" on success.
func (r *Result) Kind() Kind { return errKind(r.Err) }

// HasQuirk reports whether q was seen.
func (r *Result) HasQuirk(q Quirk) bool {
	for _, have := range r.Quirks {
		if have == q {
			return true
		}
	}
	return false
}

func (r *Result) addQuirk(q Quirk) {
	if !r.HasQuirk(q) {
		r.Quirks = append(r.Quirks, q)
	}
}
