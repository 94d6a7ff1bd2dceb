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
	// EventDropped stands for frames that WithRecordLimit did not keep:
	// Dropped of them, Size bytes on the wire, the last at Time.
	EventDropped = "dropped"
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
	// Dropped is, for an EventDropped record, how many frames it stands for.
	Dropped int

	// peer is the address an accept record's Note names, formatted only
	// when the record is read: most records of a busy server never are.
	peer net.Addr
}

// String renders the record on one line.
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s #%d %s ", r.Time.Format("15:04:05.000000"), r.Conn, r.Dir)
	switch {
	case r.Event == EventDropped:
		fmt.Fprintf(&b, "%s %d frames (%d bytes)", r.Event, r.Dropped, r.Size)
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

// recordLimit is WithRecordLimit's budget; zero keeps everything.
type recordLimit struct{ frames, payload int }

// WithRecordLimit bounds what a Server or Session keeps, whatever the other
// side sends: at most frames frame records in each direction, each with at
// most the first payload bytes of its payload (Size still says how big the
// frame was). Frames past the limit are counted, not kept: consecutive ones
// become one EventDropped record. Events are always kept. A probe of an
// unknown node needs this; a flood of messages would otherwise grow the
// transcript without bound. Zero or negative values keep everything.
func WithRecordLimit(frames, payload int) Option {
	return func(c *config) { c.limit = recordLimit{frames: max(frames, 0), payload: max(payload, 0)} }
}

// full reports whether the record limit keeps no more frames of dir: a
// frame then only adds to a count, and its payload need not be copied.
func (e *env) full(dir Direction) bool {
	if e.cfg.limit.frames <= 0 {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.records.kept[dir] >= e.cfg.limit.frames
}

// copyPayload copies p, or as much of it as the record limit keeps: copying
// a 4 MB payload only to drop most of it would cost the memory the limit
// is there to save.
func (e *env) copyPayload(p []byte) []byte {
	if n := e.cfg.limit.payload; n > 0 && len(p) > n {
		p = p[:n]
	}
	return append([]byte(nil), p...)
}

// keep adds r to the log within lim. A frame past the limit of its
// direction is added to the direction's open EventDropped record, or opens
// one; an event closes them, so that the log keeps its order (frames
// dropped, then the close) while its length stays bounded.
func (l *recordLog) keep(r Record, lim recordLimit) {
	if r.Event != "" {
		l.open = [Out + 1]*Record{}
		l.add(r)
		return
	}
	if lim.frames <= 0 || r.Dir > Out {
		l.add(r)
		return
	}
	if l.kept[r.Dir] < lim.frames {
		l.kept[r.Dir]++
		l.add(r)
		return
	}
	if d := l.open[r.Dir]; d != nil {
		d.Dropped++
		d.Size += r.Size
		d.Time = r.Time
		return
	}
	l.add(Record{Time: r.Time, Conn: r.Conn, Dir: r.Dir, Event: EventDropped, Dropped: 1, Size: r.Size})
	c := l.chunks[len(l.chunks)-1]
	l.open[r.Dir] = &c[len(c)-1]
}

// Transcript returns what the Server or Session has recorded so far (on a
// Server, every connection's records), so that a step can decide what to
// do next from what happened.
func (c *Conn) Transcript() []Record { return c.env.transcript() }
