package mockpeer

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

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
	// EventDropped stands for frames that Recording.Frames did not keep:
	// Dropped of them, Size bytes on the wire, the last at Time.
	EventDropped = "dropped"
	EventV2      = "v2"    // the connection switched to v2 (Note: who initiated)
	EventDecoy   = "decoy" // a decoy packet was received (Size: its bytes)
	// EventV2Key (In): the other side's first bytes are not a v1 header
	// but (the start of) a v2 key, whether or not the mock speaks v2.
	EventV2Key = "v2-key"
)

// Record is one thing sent or received, or a connection event.
type Record struct {
	// Time is when the frame was read or the write returned.
	Time time.Time
	// Conn is the connection's index: accept order on a Server, 0 for Dial.
	Conn int
	// Out is set for what the mock sent or did, clear for the other side.
	Out bool
	// Command is the frame's command; empty for raw writes and events.
	Command string
	// Payload is the frame's payload, or the bytes of a raw write. It is
	// nil when the Recording keeps no payloads.
	Payload []byte
	// Size is the number of bytes on the wire (header and payload).
	Size int
	// Write numbers the mock's Write calls on this connection, from 1;
	// messages coalesced into one write share it. Zero for In.
	Write int
	// Raw marks bytes not produced by the normal encoder (SendRaw, a
	// bip324.Packet, a v2 handshake's bytes).
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
	dir := "in"
	if r.Out {
		dir = "out"
	}
	fmt.Fprintf(&b, "%s #%d %s ", r.Time.Format("15:04:05.000000"), r.Conn, dir)
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

// Recording says how much a Server or Session keeps of what it sees
// (WithRecording). The zero value keeps everything: every frame with a copy
// of its payload, and every event.
type Recording struct {
	// Frames bounds the frame records kept in each direction, whatever the
	// other side sends (a probe of an unknown node needs a bound: a flood
	// of messages would otherwise grow the transcript without end). Zero
	// keeps all; n > 0 keeps the first n, and frames past them are
	// counted, not kept: consecutive ones become one EventDropped record.
	// Negative keeps no frame but broken ones, for load tests where
	// thousands of connections stay open.
	Frames int
	// Payload bounds the bytes kept of each frame's payload (Size still
	// says how big the frame was): zero keeps all, negative none.
	Payload int
	// Off keeps nothing, events included (failures are still reported),
	// so that a long-running server's memory does not grow with each
	// connection, as with `btc-handshake mock serve`.
	Off bool
}

// recordMode is how much the recorder keeps, from a Recording.
type recordMode uint8

const (
	recordAll     recordMode = iota // every frame with its payload, and events
	recordHeaders                   // frames without payloads, and events
	recordEvents                    // events and broken frames
	recordNone                      // nothing
)

// recordLimit is Recording's bounds; zero keeps everything.
type recordLimit struct{ frames, payload int }

// WithRecording chooses how much a Server or Session keeps (default:
// everything).
func WithRecording(r Recording) Option {
	return func(c *config) {
		c.record, c.limit = recordAll, recordLimit{frames: max(r.Frames, 0), payload: max(r.Payload, 0)}
		switch {
		case r.Off:
			c.record = recordNone
		case r.Frames < 0:
			c.record = recordEvents
		case r.Payload < 0:
			c.record = recordHeaders
		}
	}
}

// full reports whether the record limit keeps no more frames of dir: a
// frame then only adds to a count, and its payload need not be copied.
func (e *env) full(out bool) bool {
	if e.cfg.limit.frames <= 0 {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.records.kept[index(out)] >= e.cfg.limit.frames
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
		l.open = [2]*Record{}
		l.add(r)
		return
	}
	if lim.frames <= 0 {
		l.add(r)
		return
	}
	dir := index(r.Out)
	if l.kept[dir] < lim.frames {
		l.kept[dir]++
		l.add(r)
		return
	}
	if d := l.open[dir]; d != nil {
		d.Dropped++
		d.Size += r.Size
		d.Time = r.Time
		return
	}
	l.add(Record{Time: r.Time, Conn: r.Conn, Out: r.Out, Event: EventDropped, Dropped: 1, Size: r.Size})
	c := l.chunks[len(l.chunks)-1]
	l.open[dir] = &c[len(c)-1]
}

// index is a direction's index: 0 in, 1 out.
func index(out bool) int {
	if out {
		return 1
	}
	return 0
}

// Transcript returns what the Server or Session has recorded so far (on a
// Server, every connection's records), so that a step can decide what to
// do next from what happened.
func (c *Conn) Transcript() []Record { return c.env.transcript() }

func (c *Conn) recordIn(in Incoming, size int) {
	c.framed = true
	if c.env.dropsFrame(in.Err) {
		return // spare building it
	}
	var payload []byte
	if c.env.cfg.record == recordAll && len(in.Payload) > 0 && !c.env.full(false) {
		payload = c.env.copyPayload(in.Payload)
	}
	c.env.record(Record{Time: in.Time, Conn: c.index, Command: in.Command, Payload: payload, Size: size, Err: in.Err})
}

func (c *Conn) recordOut(cmd string, frame []byte, write int, raw bool, err error) {
	if c.env.dropsFrame(err) {
		return // spare building it, and the clock read
	}
	var payload []byte
	if c.env.cfg.record == recordAll {
		p := frame
		if cmd != "" && len(frame) >= wire.HeaderSize {
			p = frame[wire.HeaderSize:]
		}
		if len(p) > 0 {
			payload = c.env.copyPayload(p)
		}
	}
	c.env.record(Record{Time: time.Now(), Conn: c.index, Out: true, Command: cmd, Payload: payload,
		Size: len(frame), Write: write, Raw: raw, Err: err})
}

// dropsFrame reports that env.record would discard a frame record with
// this error.
func (e *env) dropsFrame(err error) bool {
	switch e.cfg.record {
	case recordNone:
		return true
	case recordEvents:
		return err == nil
	}
	return false
}

func (c *Conn) recordEvent(ev, note string, err error) {
	if c.env.cfg.record == recordNone {
		return
	}
	c.env.record(Record{Time: time.Now(), Conn: c.index, Out: true, Event: ev, Note: note, Err: err})
}
