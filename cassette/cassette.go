package cassette

import (
	"time"
)

// FormatVersion is the cassette format this package writes. Read accepts
// this version only: a later format is an error, not a guess.
const FormatVersion = 1

// Sources of a cassette (Header.Source).
const (
	SourceRecorded = "recorded"     // a live client or mock peer wrote it
	SourcePcap     = "pcap"         // imported from a pcap or pcapng file
	SourceCapture  = "core-capture" // imported from Core's -capturemessages: messages only, no bytes
	SourceReport   = "report"       // built from btc-handshake --json output: messages only, no bytes
)

// The two parties of a connection (Event.From, End.By). The client is the
// side that opened the TCP connection, the node the side that accepted it.
const (
	Client = "client"
	Node   = "node"
)

// Ways a connection ends (End.How) or a party closes (Event.Close).
const (
	EndFIN     = "fin"     // an orderly close (FIN)
	EndRST     = "rst"     // a reset
	EndTimeout = "timeout" // the recording party gave up waiting (live recordings)
	EndOpen    = "open"    // still open when the recording stopped
	EndUnknown = "unknown" // the source does not say (messages-only imports)
)

// Transports of a connection (Conn.Transport), as the client started it.
const (
	TransportV1 = "v1"
	TransportV2 = "v2"
)

// Cassette is a whole cassette file: its header and its connections.
type Cassette struct {
	Header Header
	Conns  []Conn
}

// Header is the first line of a cassette.
type Header struct {
	// Format is the format version (FormatVersion).
	Format int `json:"format"`
	// Network is the network's name (wire.Network.String), e.g. "regtest".
	Network string `json:"network"`
	// Source says where the connections come from (SourceRecorded, ...).
	Source string `json:"source"`
	// Tool names the program and version that wrote the cassette.
	Tool string `json:"tool,omitempty"`
	// Origin is the base name of the imported file or directory.
	Origin string `json:"origin,omitempty"`
	// Redacted reports whether Redact has rewritten the cassette.
	Redacted bool `json:"redacted"`
}

// Conn is one TCP connection.
type Conn struct {
	// ID numbers the connection within the cassette, from 1.
	ID int `json:"id"`
	// Client and Node are the parties' endpoints (host:port); after
	// redaction, documentation addresses (RFC 5737, RFC 3849) with the
	// real ports. Empty when unknown.
	Client string `json:"client,omitempty"`
	Node   string `json:"node,omitempty"`
	// Transport is how the client started: TransportV1 (a v1 header
	// first), TransportV2 (a 64-byte key first), or empty if it sent nothing.
	Transport string `json:"transport,omitempty"`
	// V2 is what the client of a v2 connection knew of its session and
	// framing, which the encrypted bytes cannot tell; nil when nobody who
	// held the keys annotated the recording (Recorder.Annotate).
	V2 *V2Info `json:"v2,omitempty"`
	// Start is when the connection started (the SYN, the dial, the first
	// captured message), in UTC.
	Start time.Time `json:"start"`
	// Events are the segments and closes, in the order they happened.
	Events []Event `json:"-"`
	// End is how the connection ended first.
	End End `json:"-"`
}

// Event is one segment of bytes, or one close, by one party.
type Event struct {
	// From is the party that sent the bytes or closed (Client or Node).
	From string `json:"from"`
	// At is the time since Conn.Start, in microseconds.
	At int64 `json:"t_us"`
	// Bytes are the segment's bytes as read or written; empty for a close
	// and in messages-only cassettes.
	Bytes []byte `json:"bytes,omitempty"`
	// Close is EndFIN or EndRST when the event is a close.
	Close string `json:"close,omitempty"`
	// Msgs are the messages whose last byte is in this segment (or, in
	// messages-only cassettes, the message this event is).
	Msgs []Message `json:"msgs,omitempty"`
	// Decrypted marks a v2 message as the annotating client decrypted it:
	// no bytes (the connection's byte events carry them, encrypted) and
	// one message in Msgs, without its payload.
	Decrypted bool `json:"decrypted,omitempty"`
}

// Message is a decoded message beside the bytes, or a framing fact.
type Message struct {
	// Cmd is the command, NUL padding removed (invalid UTF-8 replaced).
	Cmd string `json:"cmd,omitempty"`
	// Len is the payload length the header declared (v1), the payload
	// length (messages only), or the length of a v2 part.
	Len int `json:"len"`
	// Err describes a broken frame: wrong magic, bad checksum, invalid
	// command bytes, a payload that does not decode, a truncated frame.
	Err string `json:"err,omitempty"`
	// Version holds the fields of a version message.
	Version *VersionInfo `json:"version,omitempty"`
	// Nonce is the nonce of a ping or pong.
	Nonce *uint64 `json:"nonce,omitempty"`
	// Payload is the payload, in messages-only cassettes (no Bytes).
	Payload []byte `json:"payload,omitempty"`
	// V2 names a part of a v2 stream seen without keys: "key" (the 64-byte
	// ElligatorSwift key) or "encrypted" (garbage, terminator and packets).
	V2 string `json:"v2,omitempty"`
}

// VersionInfo is what a version message says.
type VersionInfo struct {
	Protocol    int32  `json:"protocol"`
	Services    uint64 `json:"services"`
	Timestamp   int64  `json:"timestamp"`
	AddrRecv    string `json:"addr_recv"`
	AddrFrom    string `json:"addr_from,omitempty"`
	Nonce       uint64 `json:"nonce"`
	UserAgent   string `json:"user_agent"`
	StartHeight int32  `json:"start_height"`
	Relay       bool   `json:"relay"`
}

// End says how a connection ended first: who closed, how, and when.
type End struct {
	How string `json:"how"`
	By  string `json:"by,omitempty"`
	At  int64  `json:"t_us"`
	// Dropped counts the bytes a live recording did not keep, beyond its
	// bound per connection (Recorder.MaxConnBytes).
	Dropped int64 `json:"dropped,omitempty"`
}
