package harness

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// What a probe keeps of what a node sends, whatever it sends: a node that
// floods messages must not grow our memory or our output.
const (
	// maxObservedFrames is how many frames of the reaction an
	// Observation lists; it counts the rest (MoreFrames, MoreBytes).
	maxObservedFrames = 64
	// probeRecordFrames bounds the frames a probe's session records in
	// each direction: the setup's few, the reaction's maxObservedFrames,
	// room to spare. The rest are counted (mockpeer.EventDropped).
	probeRecordFrames = 256
	// probeRecordPayload is how much of each frame's payload a probe's
	// session keeps: enough for every token (a reject's command and code,
	// a pong's nonce), never 4 MB a frame.
	probeRecordPayload = 1024
	// maxTokenCommand bounds the rejected command a reject token shows
	// (a command has at most 12 bytes; the node chooses what it sends).
	maxTokenCommand = wire.CommandSize
)

// ObservedFrame is one frame the node sent during the observation.
type ObservedFrame struct {
	// Command is the frame's command ("" for bytes that are not a v1 frame).
	Command string `json:"command"`
	// Token is the frame as Summary shows it: the command, a reject's
	// rejected command and code, whether a pong echoes our nonce.
	Token string `json:"token"`
	// Err says why the frame was broken, if it was.
	Err string `json:"error,omitempty"`
}

// Observation is what a probe saw the node do after the probe's last
// message: the frames it sent and how the connection ended.
type Observation struct {
	// Frames the node sent, in order: the first 64.
	Frames []ObservedFrame `json:"frames"`
	// MoreFrames and MoreBytes count the frames past Frames, and their
	// bytes on the wire.
	MoreFrames int   `json:"more_frames,omitempty"`
	MoreBytes  int64 `json:"more_bytes,omitempty"`
	// Closed: the node closed or reset the connection.
	Closed bool `json:"closed"`
	// ClosedAfter is when, counted from the probe's last message.
	ClosedAfter time.Duration `json:"-"`
	// Watched is how long the connection was watched.
	Watched time.Duration `json:"-"`
	// PeerTimeout is the node's peer timeout the observation was made
	// with; a close after 80 % of it counts as the peer timeout's.
	PeerTimeout time.Duration `json:"-"`
	// LocalAddr is the probe's end of the connection ("" when it could
	// not connect).
	LocalAddr string `json:"local_addr,omitempty"`
	// Error says why the probe could not observe a reaction: it could not
	// connect, or a step before its message failed (the node never sent
	// the version or verack the probe needed, a write failed). The
	// frames and the end then say nothing of a reaction to the probe,
	// and its verdict is error.
	Error string `json:"error,omitempty"`
	// FollowUp is the outcome of the probe's follow-up
	// (scenarios.Probe.Alive), played when the node had sent nothing and
	// kept the connection: "answered", or "no answer: " and why. Empty
	// when none was played.
	FollowUp string `json:"follow_up,omitempty"`
	// Note is the probe script's own failure, if any, word for word; it
	// explains, it does not judge.
	Note string `json:"note,omitempty"`
	// pingNonce is the nonce of the probe's last ping, if it sent one.
	pingNonce *uint64
}

// followUpAnswered is Observation.FollowUp for a node that answered.
const followUpAnswered = "answered"

// silentAnswered reports that the follow-up was played and not answered.
func (o Observation) followUpFailed() bool { return o.FollowUp != "" && o.FollowUp != followUpAnswered }

// End is how the connection ended, as a scenarios.End.
func (o Observation) End() scenarios.End {
	switch {
	case !o.Closed:
		return scenarios.EndOpen
	case o.PeerTimeout > 0 && o.ClosedAfter >= o.PeerTimeout-o.PeerTimeout/5:
		return scenarios.EndTimeout
	}
	return scenarios.EndClosed
}

// Summary is the observation in one canonical line, e.g. "reject(verack/0x12)
// → closed" or "nothing → open". Two nodes that react alike to a probe have
// the same summary. It is the node's text: escape it for a terminal.
func (o Observation) Summary() string {
	var toks []string
	for _, f := range o.Frames {
		if len(toks) > 0 && f.Token == toks[len(toks)-1] && f.Command == "" {
			continue // one run of non-v1 bytes
		}
		toks = append(toks, f.Token)
	}
	what := strings.Join(toks, " ")
	switch {
	case o.MoreFrames > 0 && len(toks) > 0:
		what += fmt.Sprintf(" … and %s more frames (%s)", thousands(o.MoreFrames), byteSize(o.MoreBytes))
	case o.MoreFrames > 0:
		what = fmt.Sprintf("%s frames (%s)", thousands(o.MoreFrames), byteSize(o.MoreBytes))
	case len(toks) == 0:
		what = "nothing"
	}
	s := what + " → " + string(o.End())
	if o.followUpFailed() {
		s += ", no answer to the follow-up"
	}
	return s
}

// thousands writes n with commas: 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// byteSize writes n bytes for people: 512 B, 1.2 kB, 3.4 MB, 5.6 GB.
func byteSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// MarshalJSON adds the summary and the durations in milliseconds.
func (o Observation) MarshalJSON() ([]byte, error) {
	type plain Observation
	return json.Marshal(struct {
		plain
		Summary       string  `json:"summary"`
		End           string  `json:"end"`
		ClosedAfterMS float64 `json:"closed_after_ms,omitempty"`
		WatchedMS     float64 `json:"watched_ms"`
	}{plain(o), o.Summary(), string(o.End()), ms(o.ClosedAfter), ms(o.Watched)})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (o Observation) commands() []string {
	var out []string
	for _, f := range o.Frames {
		if f.Command != "" && f.Err == "" {
			out = append(out, f.Command)
		}
	}
	return out
}

func (o Observation) nonV1() bool {
	return slices.ContainsFunc(o.Frames, func(f ObservedFrame) bool { return f.Command == "" })
}

const (
	tokPongSame  = "pong(same nonce)"
	tokPongOther = "pong(other nonce)"
	tokNonV1     = "non-v1 bytes"
)

// observe reads a probe's transcript: the reaction is everything after the
// probe's last successful write (or the dial, when it wrote nothing).
func observe(records []mockpeer.Record, peerTimeout time.Duration) Observation {
	o := Observation{PeerTimeout: peerTimeout}
	from := -1
	for i, r := range records {
		switch {
		case r.Out && r.Event == mockpeer.EventDial:
			from = i
		case r.Out && r.Event == "" && r.Err == nil:
			from = i
			if r.Command == wire.CmdPing && len(r.Payload) >= 8 {
				n := binary.LittleEndian.Uint64(r.Payload)
				o.pingNonce = &n
			}
		}
	}
	if from < 0 {
		o.Closed = true // never connected
		return o
	}
	start := records[from].Time
	last := start
	for _, r := range records[from+1:] {
		last = r.Time
		switch {
		case !r.Out && r.Event == "":
			if len(o.Frames) < maxObservedFrames {
				o.Frames = append(o.Frames, observedFrame(r, o.pingNonce))
			} else {
				o.MoreFrames++
				o.MoreBytes += int64(r.Size)
			}
		case !r.Out && r.Event == mockpeer.EventDropped:
			o.MoreFrames += r.Dropped
			o.MoreBytes += int64(r.Size)
		case !r.Out && (r.Event == mockpeer.EventEOF || r.Event == mockpeer.EventReset):
			if !o.Closed {
				o.Closed, o.ClosedAfter = true, r.Time.Sub(start)
			}
		case r.Out && r.Err != nil && peerGone(r.Err):
			// A write the node answered with a reset.
			if !o.Closed {
				o.Closed, o.ClosedAfter = true, r.Time.Sub(start)
			}
		}
	}
	o.Watched = last.Sub(start)
	return o
}

// silentAndOpen reports that the transcript so far shows no reaction at
// all: nothing received after the probe's last message, connection open.
func silentAndOpen(records []mockpeer.Record) bool {
	o := observe(records, 0)
	return len(o.Frames) == 0 && o.MoreFrames == 0 && !o.Closed
}

func peerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func observedFrame(r mockpeer.Record, pingNonce *uint64) ObservedFrame {
	f := ObservedFrame{Command: r.Command, Token: r.Command}
	if r.Err != nil {
		f.Err = r.Err.Error()
		if errors.Is(r.Err, wire.ErrBadMagic) {
			f.Command, f.Token = "", tokNonV1
			return f
		}
		f.Token = r.Command + "(broken)"
		return f
	}
	switch r.Command {
	case wire.CmdReject:
		f.Token = rejectToken(r.Payload)
	case wire.CmdPong:
		f.Token = tokPongOther
		if pingNonce != nil && len(r.Payload) >= 8 && binary.LittleEndian.Uint64(r.Payload) == *pingNonce {
			f.Token = tokPongSame
		}
	}
	return f
}

// rejectToken renders a reject as reject(<rejected command>/<code>); a
// rejected command longer than a command can be is cut.
func rejectToken(p []byte) string {
	if len(p) < 1 || int(p[0]) >= 0xfd || len(p) < 1+int(p[0])+1 {
		return "reject"
	}
	n := int(p[0])
	cmd := string(p[1 : 1+n])
	if len(cmd) > maxTokenCommand {
		cmd = cmd[:maxTokenCommand] + "…"
	}
	return fmt.Sprintf("reject(%s/0x%02x)", cmd, p[1+n])
}
