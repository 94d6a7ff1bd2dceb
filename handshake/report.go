package handshake

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"time"
)

// Report is the JSON form of a Result: one object per peer in the CLI's
// --json output (NDJSON), and what the harness reads back from external
// clients. Field names are a public contract; see the README's schema.
type Report struct {
	Type    string `json:"type"` // always "peer"
	Address string `json:"address"`
	OK      bool   `json:"ok"`
	// Error is null when the handshake completed. PeerNetwork names the
	// network whose magic the peer answered with (bad-magic only, when
	// the magic is a known network's).
	Error *struct {
		Kind        Kind   `json:"kind"`
		Message     string `json:"message"`
		PeerNetwork string `json:"peer_network,omitempty"`
	} `json:"error"`
	Phase Phase `json:"phase"`
	// The peer's version message (zero without one; a version refused as
	// too low is shown).
	Version           int32   `json:"version"`
	Services          uint64  `json:"services"`
	UserAgent         string  `json:"user_agent"`
	StartHeight       int32   `json:"start_height"`
	Relay             bool    `json:"relay"`
	Nonce             uint64  `json:"nonce"`
	NegotiatedVersion int32   `json:"negotiated_version"`
	Quirks            []Quirk `json:"quirks"`
	Timings           Timings `json:"timings"`
	// Messages is the transcript (Result.Transcript).
	Messages        []Event   `json:"messages"`
	MessagesDropped int       `json:"messages_dropped,omitempty"`
	Transport       Transport `json:"transport"` // "v1" or "v2"
	Fallback        bool      `json:"fallback"`  // v2 tried, peer hung up on the key, v1 used
	// V2 is the BIP324 session of a v2 handshake (Result's SessionID, in
	// hex, GarbageSent, GarbageRecv and Decoys); absent for v1.
	V2 *struct {
		SessionID       string `json:"session_id"`
		GarbageSent     int    `json:"garbage_sent"`
		GarbageReceived int    `json:"garbage_received"`
		Decoys          int    `json:"decoys"`
	} `json:"v2,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// fromMS is the inverse of ms.
func fromMS(f float64) time.Duration { return time.Duration(math.Round(f*1000)) * time.Microsecond }

// Report returns the JSON form of r.
func (r *Result) Report() Report {
	rep := Report{
		Type:              "peer",
		Address:           r.Addr,
		OK:                r.OK(),
		Phase:             r.Phase,
		NegotiatedVersion: r.NegotiatedVersion,
		Quirks:            append([]Quirk{}, r.Quirks...),
		Timings:           r.Timings,
		Transport:         r.Transport,
		Fallback:          r.Fallback,
		Messages:          append([]Event{}, r.Transcript...),
		MessagesDropped:   r.TranscriptDropped,
	}
	if r.Err != nil {
		kind := errKind(r.Err)
		if kind == "" {
			kind = KindIO
		}
		rep.Error = &struct {
			Kind        Kind   `json:"kind"`
			Message     string `json:"message"`
			PeerNetwork string `json:"peer_network,omitempty"`
		}{Kind: kind, Message: r.Err.Error()}
		if n := peerNetwork(r.Err); n != 0 {
			rep.Error.PeerNetwork = n.String()
		}
	}
	if r.Transport == TransportV2 {
		rep.V2 = &struct {
			SessionID       string `json:"session_id"`
			GarbageSent     int    `json:"garbage_sent"`
			GarbageReceived int    `json:"garbage_received"`
			Decoys          int    `json:"decoys"`
		}{SessionID: hex.EncodeToString(r.SessionID[:]), GarbageSent: r.GarbageSent,
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
	return rep
}

// eventJSON is Event's JSON form.
type eventJSON struct {
	Dir     string  `json:"dir"` // "sent" or "received"
	Command string  `json:"command"`
	Size    int     `json:"size"`
	AtMS    float64 `json:"at_ms"`
	Error   string  `json:"error,omitempty"`
}

// MarshalJSON writes e as a Report's message.
func (e Event) MarshalJSON() ([]byte, error) {
	dir := "sent"
	if e.Received {
		dir = "received"
	}
	return json.Marshal(eventJSON{Dir: dir, Command: e.Command, Size: e.Size, AtMS: ms(e.At), Error: e.Err})
}

// UnmarshalJSON reads a Report's message.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Event{Received: j.Dir == "received", Command: j.Command, Size: j.Size, At: fromMS(j.AtMS), Err: j.Error}
	return nil
}

// timingsJSON is Timings' JSON form, in milliseconds.
type timingsJSON struct {
	ConnectMS         float64 `json:"connect_ms"`
	VersionMS         float64 `json:"version_ms"`
	VerackMS          float64 `json:"verack_ms"`
	TotalMS           float64 `json:"total_ms"`
	V2KeyMS           float64 `json:"v2_key_ms,omitempty"`
	V2TerminatorMS    float64 `json:"v2_terminator_ms,omitempty"`
	V2VersionPacketMS float64 `json:"v2_version_packet_ms,omitempty"`
}

// MarshalJSON writes t as a Report's timings, in milliseconds.
func (t Timings) MarshalJSON() ([]byte, error) {
	return json.Marshal(timingsJSON{ConnectMS: ms(t.Connect), VersionMS: ms(t.Version),
		VerackMS: ms(t.Verack), TotalMS: ms(t.Total), V2KeyMS: ms(t.V2Key),
		V2TerminatorMS: ms(t.V2Terminator), V2VersionPacketMS: ms(t.V2VersionPacket)})
}

// UnmarshalJSON reads a Report's timings.
func (t *Timings) UnmarshalJSON(b []byte) error {
	var j timingsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*t = Timings{Connect: fromMS(j.ConnectMS), Version: fromMS(j.VersionMS), Verack: fromMS(j.VerackMS),
		Total: fromMS(j.TotalMS), V2Key: fromMS(j.V2KeyMS), V2Terminator: fromMS(j.V2TerminatorMS),
		V2VersionPacket: fromMS(j.V2VersionPacketMS)}
	return nil
}
