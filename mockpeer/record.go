package mockpeer

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Direction says who produced a Record.
type Direction uint8

const (
	// In is what the other side sent (or did: closed, reset).
	In Direction = iota + 1
	// Out is what the mock sent (or did).
	Out
)

// String is "in" or "out".
func (d Direction) String() string {
	switch d {
	case In:
		return "in"
	case Out:
		return "out"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Connection events recorded in Record.Event.
const (
	EventAccept    = "accept"     // a Server accepted the connection (Note: remote address)
	EventDial      = "dial"       // Dial connected (Note: local -> remote)
	EventEOF       = "eof"        // the other side closed its write half
	EventReset     = "reset"      // the connection was reset (in: by the other side; out: by Reset)
	EventClose     = "close"      // the mock closed the connection
	EventHalfClose = "half-close" // the mock closed its write half
	EventTimeout   = "timeout"    // a profile's handshake or idle timeout expired
	EventError     = "error"      // a read ended with another error (Err)
)

// Record is one thing sent or received, or a connection event.
type Record struct {
	// Time is when the frame was read or the write returned.
	Time time.Time
	// Conn is the connection's index: accept order on a Server, 0 for Dial.
	Conn int
	// Dir is In for the other side, Out for the mock.
	Dir Direction
	// Command is the frame's command; empty for raw writes and events.
	Command string
	// Payload is the frame's payload, or the bytes of a raw write. It is
	// nil under RecordHeaders and RecordEvents.
	Payload []byte
	// Size is the number of bytes on the wire (header and payload).
	Size int
	// Write numbers the mock's Write calls on this connection, from 1;
	// messages coalesced into one write share it. Zero for In.
	Write int
	// Raw marks bytes not produced by the normal encoder (SendRaw,
	// SendFrame, Dribble of bytes).
	Raw bool
	// Err is the frame's error for a broken frame received (bad checksum,
	// bad command, undecodable payload, wrong magic, oversized), the write
	// error for Out, or the read error of an event.
	Err error
	// Event is empty for frames, otherwise one of the Event constants.
	Event string
	// Note adds detail to events (addresses).
	Note string

	// peer is the address an accept record's Note names, formatted only
	// when the record is read: most records of a busy server never are.
	peer net.Addr
}

// String renders the record on one line.
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s #%d %s ", r.Time.Format("15:04:05.000000"), r.Conn, r.Dir)
	switch {
	case r.Event != "":
		b.WriteString(r.Event)
		if r.Note != "" {
			b.WriteString(" " + r.Note)
		}
	case r.Command == "" && r.Raw:
		fmt.Fprintf(&b, "raw %d bytes", r.Size)
	default:
		fmt.Fprintf(&b, "%s (%d bytes)", r.Command, r.Size)
		if r.Raw {
			b.WriteString(" raw")
		}
		if r.Write > 0 {
			fmt.Fprintf(&b, " write %d", r.Write)
		}
	}
	if r.Err != nil {
		fmt.Fprintf(&b, ": %v", r.Err)
	}
	return b.String()
}

// RecordMode chooses how much a Server or Session records.
type RecordMode uint8

const (
	// RecordAll keeps every frame with a copy of its payload, and events.
	RecordAll RecordMode = iota
	// RecordHeaders keeps every frame and event but no payloads.
	RecordHeaders
	// RecordEvents keeps only connection events and broken frames, for
	// load tests where thousands of connections stay open.
	RecordEvents
	// RecordNone keeps nothing (failures are still reported), so that a
	// long-running server's memory does not grow with each connection,
	// as with `btc-handshake mock serve`.
	RecordNone
)

// Commands lists the commands of frame records, in order.
func Commands(records []Record) []string {
	out := make([]string, 0, len(records))
	for _, r := range records {
		if r.Event == "" && r.Command != "" {
			out = append(out, r.Command)
		}
	}
	return out
}
