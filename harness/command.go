package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Bounds on what an external client can make the harness keep. Whatever a
// client prints, a run holds at most about outputHead+outputTail bytes per
// stream and one report line; everything else is counted and dropped.
const (
	// outputHead and outputTail are how much of the start and of the end
	// of each stream is kept for Outcome.Output: the start says how the
	// client began, the end how it failed.
	outputHead = 16 << 10
	outputTail = 16 << 10
	// maxReportLine bounds one NDJSON line that may be a peer report. Our
	// own reports are a few KB; a longer one is an error, not something to
	// guess around.
	maxReportLine = 1 << 20
	// maxMessage and maxName bound the client-chosen strings of a report
	// (error message; kind, phase and quirk names) and maxQuirks the
	// number of quirks kept.
	maxMessage = 1 << 10
	maxName    = 64
	maxQuirks  = 64
	// pipeGrace is how long, after the client's main process exited, the
	// harness waits for its stdout and stderr to close before killing the
	// process group: a background child that keeps them open must not
	// decide the verdict, nor hold the run.
	pipeGrace = 250 * time.Millisecond
	// drainGrace is how long the pipes may stay open after the group was
	// killed (only a process that left the group can hold them then).
	drainGrace = time.Second
)

// CommandClient runs an external client through `sh -c`.
//
// Placeholders in cmdline are replaced: {addr} (host:port), {host},
// {port}, {network}, and the client's timeout as {timeout} (seconds, a
// decimal such as "2" or "2.5") and {timeout_ms} (milliseconds), rounded
// to 10 ms, and the transport the scenario asks for as {transport} ("v1",
// "v2" or "auto"). The timeout is also in the environment as
// BTC_HANDSHAKE_TIMEOUT (a Go duration such as "2s"), the transport as
// BTC_HANDSHAKE_TRANSPORT. Every substituted value is made of letters,
// digits and ".:-_[]" only, so it needs no quoting; only an IPv6 {addr}
// ("[::1]:8333") contains the glob characters [ ], which a command may
// quote ('{addr}').
//
// The timeout is ctx's deadline (DefaultClientTimeout when ctx has none).
// The client is stopped at that deadline plus the contract's slack, or at
// once when ctx is canceled before its deadline; that run is marked
// Interrupted. The client runs in a process group of its own, and the whole
// group is killed when the client stops, is stopped or exits, so no
// background process it started is left behind (a process that leaves the
// group, with setsid for example, is beyond the harness's reach).
//
// The client completed when it exits 0 and, if it printed one of our NDJSON
// peer objects (for example `btc-handshake --json`), that object says ok;
// the first such object gives kind, phase and quirks too, wherever it is in
// the output. A report line longer than 1 MiB makes the run Invalid. The
// client is judged once its main process exits: a background child that
// keeps stdout open is given pipeGrace, then killed.
func CommandClient(cmdline string) Client {
	return ClientFunc(func(ctx context.Context, addr string, net wire.Network) Outcome {
		return runCommand(ctx, cmdline, addr, net)
	})
}

func runCommand(ctx context.Context, cmdline, addr string, net wire.Network) Outcome {
	timeout := DefaultClientTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	// Rounded to 10 ms, so that the client reads the timeout it was given
	// ("2.5", not "2.499"), not what is left of it a few µs later; the
	// difference is far inside the slack.
	timeout = max(timeout.Round(10*time.Millisecond), 10*time.Millisecond)
	slack := slackOf(ctx)
	stopIn := timeout + slack
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Outcome{Interrupted: true, Message: "the run was canceled before the client started"}
	}
	transport := ScenarioTransport(ctx)
	line, err := expand(cmdline, addr, net, timeout, transport)
	if err != nil {
		return Outcome{Invalid: err.Error(), Message: err.Error()}
	}

	cmd := exec.Command("sh", "-c", line)
	cmd.Env = append(os.Environ(), "BTC_HANDSHAKE_TIMEOUT="+timeout.String(), "BTC_HANDSHAKE_TRANSPORT="+transport)
	setGroup(cmd)
	// Pipes of our own rather than exec's copying goroutines: exec's Wait
	// waits for every writer of the pipe, background children included,
	// which is the very thing a client must not be able to impose.
	outR, outW, err := os.Pipe()
	if err != nil {
		return Outcome{Message: "could not run client: " + err.Error()}
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return Outcome{Message: "could not run client: " + err.Error()}
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	start := time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return Outcome{Message: "could not run client: " + err.Error()}
	}
	stdout := readStream(outR, true)
	stderr := readStream(errR, false)
	exited := make(chan func() error, 1)
	go func() { exited <- waitExit(cmd) }()

	stop := time.NewTimer(stopIn - time.Since(start))
	defer stop.Stop()
	var (
		reap                  func() error
		timedOut, interrupted bool
	)
	done := ctx.Done()
	for reap == nil {
		select {
		case reap = <-exited:
		case <-done:
			// Past its deadline the client still has its slack; only a
			// cancellation (SIGINT, a caller giving up) stops it now.
			done = nil
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				interrupted = true
				killGroup(cmd.Process)
			}
		case <-stop.C:
			timedOut = true
			killGroup(cmd.Process)
		}
	}
	dur := time.Since(start)

	var notes []string
	grace := time.NewTimer(pipeGrace)
	closed := waitStreams(grace.C, stdout, stderr)
	grace.Stop()
	// The main process is gone (on Linux still unreaped, so its pid, the
	// group's id, cannot be reused yet): whatever it left in its group goes.
	killGroup(cmd.Process)
	if !closed {
		if !timedOut && !interrupted {
			notes = append(notes, fmt.Sprintf("the client's output stayed open %s after it exited (a background process?); its process group was killed", pipeGrace))
		}
		drain := time.NewTimer(drainGrace)
		if !waitStreams(drain.C, stdout, stderr) {
			notes = append(notes, "the client's output stayed open after its process group was killed (a process that left the group?); stopped reading")
			outR.Close()
			errR.Close()
			<-stdout.done
			<-stderr.done
		}
		drain.Stop()
	}
	outR.Close()
	errR.Close()
	werr := reap()

	o := Outcome{Duration: dur}
	rep := stdout.scan.report
	if rep != nil {
		o = FromReport(*rep)
		o.Duration = dur
	}
	o.Output = formatOutput(&stdout.capture, &stderr.capture)
	var exitErr *exec.ExitError
	switch {
	case interrupted:
		o.Completed, o.Interrupted = false, true
		o.Message = "the run was canceled before the client finished; its process group was killed"
	case timedOut:
		o.Completed = false
		o.Message = fmt.Sprintf("client did not finish within its timeout (%s) plus slack (%s) and was killed", timeout, slack)
	case stdout.scan.invalid != "":
		o.Completed = false
		o.Invalid = stdout.scan.invalid
		o.Message = o.Invalid
	case werr == nil:
		// A report that says the handshake failed is believed over an
		// exit status of 0.
		o.Completed = rep == nil || rep.OK
	case errors.As(werr, &exitErr):
		o.Completed = false
		if o.Message == "" {
			o.Message = exitErr.Error()
		}
	default:
		o.Completed = false
		o.Message = "could not wait for client: " + werr.Error()
	}
	if len(notes) > 0 {
		if o.Message != "" {
			notes = append([]string{o.Message}, notes...)
		}
		o.Message = strings.Join(notes, "; ")
	}
	return bound(o)
}

// expand replaces the placeholders of cmdline. The values come from the
// mock's listening address, the network's name and a number, never from a
// client; they are checked all the same, because they go to a shell.
func expand(cmdline, addr string, net wire.Network, timeout time.Duration, transport string) (string, error) {
	host, port := addr, ""
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host, port = strings.Trim(addr[:i], "[]"), addr[i+1:]
	}
	secs := strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64)
	ms := strconv.FormatInt(timeout.Milliseconds(), 10)
	pairs := []string{"{addr}", addr, "{host}", host, "{port}", port, "{network}", net.String(),
		"{timeout}", secs, "{timeout_ms}", ms, "{transport}", transport}
	for i := 1; i < len(pairs); i += 2 {
		if strings.TrimFunc(pairs[i], shellSafe) != "" {
			return "", fmt.Errorf("refusing to put %q into a shell command line for %s", pairs[i], pairs[i-1])
		}
	}
	return strings.NewReplacer(pairs...).Replace(cmdline), nil
}

func shellSafe(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune(".:-_[]", r))
}

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
