package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/btc-handshake/btc-handshake/handshake"
)

// stream reads one of the client's pipes to its end, keeping a bounded
// capture and, for stdout, looking for the peer report line by line.
type stream struct {
	capture capture
	scan    *reportScanner
	done    chan struct{}
}

func readStream(r io.Reader, scan bool) *stream {
	s := &stream{done: make(chan struct{})}
	if scan {
		s.scan = &reportScanner{}
	}
	go func() {
		defer close(s.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			s.capture.write(buf[:n])
			if s.scan != nil {
				s.scan.write(buf[:n])
			}
			if err != nil {
				if s.scan != nil {
					s.scan.endLine()
				}
				return
			}
		}
	}()
	return s
}

// waitStreams reports whether every stream reached its end before timer
// fired.
func waitStreams(timer <-chan time.Time, ss ...*stream) bool {
	for _, s := range ss {
		select {
		case <-s.done:
		case <-timer:
			return false
		}
	}
	return true
}

// capture keeps the first outputHead and the last outputTail bytes
// written to it and counts the rest.
type capture struct {
	head  []byte
	tail  []byte // a ring of outputTail bytes once the head is full
	pos   int    // where the ring's next byte goes
	total int64
}

func (c *capture) write(p []byte) {
	c.total += int64(len(p))
	if n := min(outputHead-len(c.head), len(p)); n > 0 {
		c.head = append(c.head, p[:n]...)
		p = p[n:]
	}
	if len(p) == 0 {
		return
	}
	if c.tail == nil {
		c.tail = make([]byte, 0, outputTail)
	}
	if len(p) > outputTail {
		p = p[len(p)-outputTail:]
	}
	if room := outputTail - len(c.tail); room > 0 {
		n := min(room, len(p))
		c.tail = append(c.tail, p[:n]...)
		p = p[n:]
	}
	for len(p) > 0 {
		n := copy(c.tail[c.pos:], p)
		p = p[n:]
		c.pos = (c.pos + n) % outputTail
	}
}

func (c *capture) String() string {
	var b strings.Builder
	b.Write(c.head)
	if dropped := c.total - int64(len(c.head)) - int64(len(c.tail)); dropped > 0 {
		fmt.Fprintf(&b, "\n… %d bytes dropped …\n", dropped)
	}
	if len(c.tail) == outputTail {
		b.Write(c.tail[c.pos:])
		b.Write(c.tail[:c.pos])
	} else {
		b.Write(c.tail)
	}
	return b.String()
}

func formatOutput(stdout, stderr *capture) string {
	out, errs := stdout.String(), stderr.String()
	switch {
	case errs == "":
		return out
	case out == "":
		return errs
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out + "--- stderr ---\n" + errs
}

// peerType tells a peer report from other JSON by its prefix, which is all
// that is kept of an over-long line.
var peerType = regexp.MustCompile(`"type"\s*:\s*"peer"`)

// reportScanner finds the first NDJSON peer report in a stream, line by
// line, in bounded memory: a line that does not start with '{' is skipped
// as it arrives, and an over-long line is kept only up to maxReportLine.
type reportScanner struct {
	line    []byte
	skip    bool  // the current line cannot be a report
	long    int64 // the current line's length once it is over the bound
	report  *handshake.Report
	invalid string
}

func (s *reportScanner) write(p []byte) {
	for len(p) > 0 && s.report == nil && s.invalid == "" {
		if !s.skip && s.long == 0 && len(s.line) == 0 {
			if p = s.nextCandidate(p); len(p) == 0 {
				return
			}
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.add(p)
			return
		}
		s.add(p[:i])
		s.endLine()
		p = p[i+1:]
	}
}

// nextCandidate skips, from the start of a line, every line that cannot be
// a report, with one search for '{' rather than one step per line (a
// client printing 100 million short lines must not cost 100 million
// steps), and returns the rest of p from the first line that may be one,
// or nil.
func (s *reportScanner) nextCandidate(p []byte) []byte {
	for len(p) > 0 {
		k := bytes.IndexByte(p, '{')
		if k < 0 {
			// No candidate here; the last line goes on in the next write.
			if nl := bytes.LastIndexByte(p, '\n'); nl >= 0 {
				p = p[nl+1:]
			}
			if len(bytes.TrimLeft(p, " \t\r")) > 0 {
				s.skip = true
			}
			return nil
		}
		lineStart := bytes.LastIndexByte(p[:k], '\n') + 1
		if len(bytes.TrimLeft(p[lineStart:k], " \t\r")) == 0 {
			return p[k:]
		}
		// The '{' is inside a line: skip to that line's end.
		nl := bytes.IndexByte(p[k:], '\n')
		if nl < 0 {
			s.skip = true
			return nil
		}
		p = p[k+nl+1:]
	}
	return nil
}

func (s *reportScanner) add(p []byte) {
	switch {
	case s.skip:
		return
	case s.long > 0:
		s.long += int64(len(p))
		return
	case len(s.line) == 0:
		p = bytes.TrimLeft(p, " \t\r")
		if len(p) == 0 {
			return
		}
		if p[0] != '{' {
			s.skip = true
			return
		}
	}
	if len(s.line)+len(p) > maxReportLine {
		s.long = int64(len(s.line) + len(p))
		s.line = append(s.line, p[:maxReportLine-len(s.line)]...)
		return
	}
	s.line = append(s.line, p...)
}

// endLine judges the line seen so far; it is also called at the end of the
// stream, for a last line without a newline.
func (s *reportScanner) endLine() {
	switch {
	case s.report != nil || s.invalid != "":
	case s.long > 0:
		if peerType.Match(s.line) {
			s.invalid = fmt.Sprintf("the client's peer report line is %d bytes, over the %d-byte bound; it was not read", s.long, maxReportLine)
		}
	case !s.skip && len(s.line) > 0:
		var rep handshake.Report
		if json.Unmarshal(s.line, &rep) == nil && rep.Type == "peer" {
			s.report = &rep
		}
	}
	s.skip, s.long = false, 0
	s.line = s.line[:0]
	if cap(s.line) > 64<<10 {
		s.line = nil
	}
}

// bound clips the strings a client chose, so that no report it prints
// makes an Outcome large.
func bound(o Outcome) Outcome {
	o.Message = clip(o.Message, maxMessage)
	o.Kind = clip(o.Kind, maxName)
	o.Phase = clip(o.Phase, maxName)
	if len(o.Quirks) > maxQuirks {
		o.Quirks = append(o.Quirks[:maxQuirks:maxQuirks], fmt.Sprintf("(%d more)", len(o.Quirks)-maxQuirks))
	}
	for i, q := range o.Quirks {
		o.Quirks[i] = clip(q, maxName)
	}
	return o
}

// clip cuts s to at most n bytes on a rune boundary and says how much it
// dropped.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…(%d bytes dropped)", len(s)-cut)
}
