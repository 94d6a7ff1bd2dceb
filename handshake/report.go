package handshake

import (
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Report is the JSON form of a Result: one object per peer in the CLI's
// --json output (NDJSON), and what the harness reads back from external
// clients. Field names are a public contract; see the README's schema.
type Report struct {
	Type              string          `json:"type"` // always "peer"
	Address           string          `json:"address"`
	OK                bool            `json:"ok"`
	Error             *ReportError    `json:"error"`
	Phase             Phase           `json:"phase"`
	Version           int32           `json:"version"`
	Services          uint64          `json:"services"`
	UserAgent         string          `json:"user_agent"`
	StartHeight       int32           `json:"start_height"`
	Relay             bool            `json:"relay"`
	Nonce             uint64          `json:"nonce"`
	NegotiatedVersion int32           `json:"negotiated_version"`
	Quirks            []Quirk         `json:"quirks"`
	Timings           ReportTimings   `json:"timings"`
	Messages          []ReportMessage `json:"messages"`
	MessagesDropped   int             `json:"messages_dropped,omitempty"`
	Transport         Transport       `json:"transport"` // "v1" or "v2"
	Fallback          bool            `json:"fallback"`  // v2 tried, peer hung up on the key, v1 used
	V2                *ReportV2       `json:"v2,omitempty"`
}

// ReportV2 is the BIP324 session of a v2 handshake in a Report.
type ReportV2 struct {
	SessionID       string `json:"session_id"` // hex
	GarbageSent     int    `json:"garbage_sent"`
	GarbageReceived int    `json:"garbage_received"`
	Decoys          int    `json:"decoys"`
}

// ReportError is a failure in a Report.
type ReportError struct {
	Kind    Kind   `json:"kind"`
	Message string `json:"message"`
	// PeerNetwork names the network whose magic the peer answered with
	// (bad-magic only, when the magic is a known network's).
	PeerNetwork string `json:"peer_network,omitempty"`
}

// ReportTimings are the phase offsets in milliseconds.
type ReportTimings struct {
	ConnectMS float64 `json:"connect_ms"`
	VersionMS float64 `json:"version_ms"`
	VerackMS  float64 `json:"verack_ms"`
	TotalMS   float64 `json:"total_ms"`
	// The v2 handshake's steps: the peer's key, its terminator, its
	// version packet (absent for v1).
	V2KeyMS           float64 `json:"v2_key_ms,omitempty"`
	V2TerminatorMS    float64 `json:"v2_terminator_ms,omitempty"`
	V2VersionPacketMS float64 `json:"v2_version_packet_ms,omitempty"`
}

// ReportMessage is one transcript event.
type ReportMessage struct {
	Dir     Direction `json:"dir"`
	Command string    `json:"command"`
	Size    int       `json:"size"`
	AtMS    float64   `json:"at_ms"`
	Error   string    `json:"error,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Report returns the JSON form of r.
func (r *Result) Report() Report {
	rep := Report{
		Type:              "peer",
		Address:           r.Addr,
		OK:                r.OK(),
		Phase:             r.Phase,
		NegotiatedVersion: r.NegotiatedVersion,
		Quirks:            append([]Quirk{}, r.Quirks...),
		Timings: ReportTimings{
			ConnectMS: ms(r.Timings.Connect), VersionMS: ms(r.Timings.Version),
			VerackMS: ms(r.Timings.Verack), TotalMS: ms(r.Timings.Total),
			V2KeyMS: ms(r.Timings.V2Key), V2TerminatorMS: ms(r.Timings.V2Terminator),
			V2VersionPacketMS: ms(r.Timings.V2VersionPacket),
		},
		Transport:       r.Transport,
		Fallback:        r.Fallback,
		Messages:        make([]ReportMessage, 0, len(r.Transcript)),
		MessagesDropped: r.TranscriptDropped,
	}
	if r.Err != nil {
		kind := KindOf(r.Err)
		if kind == "" {
			kind = KindIO
		}
		rep.Error = &ReportError{Kind: kind, Message: r.Err.Error()}
		if he, ok := errors.AsType[*Error](r.Err); ok && he.PeerNetwork() != 0 {
			rep.Error.PeerNetwork = he.PeerNetwork().String()
		}
	}
	if r.Transport == TransportV2 {
		rep.V2 = &ReportV2{SessionID: hex.EncodeToString(r.SessionID[:]), GarbageSent: r.GarbageSent,
			GarbageReceived: r.GarbageRecv, Decoys: r.Decoys}
	}
	p := r.Peer
	if p == nil {
		// A version rejected as too low is still what the peer
		// announced: show it, so the user sees how far off it is.
		p = rejectedVersion(r.Err)
	}
	if p != nil {
		rep.Version = p.ProtocolVersion
		rep.Services = p.Services
		rep.UserAgent = p.UserAgent
		rep.StartHeight = p.StartHeight
		rep.Relay = p.Relay
		rep.Nonce = p.Nonce
	}
	for _, e := range r.Transcript {
		rep.Messages = append(rep.Messages, ReportMessage{Dir: e.Dir, Command: e.Command, Size: e.Size, AtMS: ms(e.At), Error: e.Err})
	}
	return rep
}

// Summary is the last object of a command's NDJSON output, the same shape
// for every command: how many items (peers, scenarios, probes) there were
// and how many passed, failed or were skipped. For a survey an item passes
// when its handshake completes. Counts, when present, breaks the items
// down by a property ("user_agent", "version", "transport", "quirk",
// "error" for a survey), each a map from value to number of items.
type Summary struct {
	Type      string                    `json:"type"`    // always "summary"
	Command   string                    `json:"command"` // e.g. "survey", "connect", "demo"
	Total     int                       `json:"total"`
	Passed    int                       `json:"passed"`
	Failed    int                       `json:"failed"`
	Skipped   int                       `json:"skipped"`
	ElapsedMS float64                   `json:"elapsed_ms"`
	Counts    map[string]map[string]int `json:"counts,omitempty"`
}

// Add counts one survey result in s: passed or failed, and in Counts by
// the peer's user agent and protocol version (when it sent a version), by
// transport (of every connection made), by quirk and by error
// kind. Type and Command are the caller's to set.
func (s *Summary) Add(r *Result) {
	s.Type = "summary"
	s.Total++
	if r.OK() {
		s.Passed++
	} else {
		s.Failed++
	}
	if s.Counts == nil {
		s.Counts = map[string]map[string]int{}
	}
	count := func(by, value string) {
		m := s.Counts[by]
		if m == nil {
			m = map[string]int{}
			s.Counts[by] = m
		}
		m[value]++
	}
	p := r.Peer
	if p == nil {
		p = rejectedVersion(r.Err)
	}
	if p != nil {
		count("user_agent", p.UserAgent)
		count("version", strconv.Itoa(int(p.ProtocolVersion)))
	}
	if r.Phase != PhaseConnect && r.Transport != "" {
		count("transport", string(r.Transport))
	}
	for _, q := range r.Quirks {
		count("quirk", string(q))
	}
	if k := r.Kind(); k != "" {
		count("error", string(k))
	} else if !r.OK() {
		count("error", string(KindIO))
	}
}
