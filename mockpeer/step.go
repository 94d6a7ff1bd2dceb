package mockpeer

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Matcher has the method set of gomega's types.GomegaMatcher, so any Gomega
// matcher can check a received message (the decoded wire.Message:
// *wire.Version, wire.Ping, wire.Raw, ...).
type Matcher interface {
	Match(actual any) (success bool, err error)
	FailureMessage(actual any) (message string)
	NegatedFailureMessage(actual any) (message string)
}

// Step is one action of a Script. Steps are values: build them once and
// reuse them in as many scripts as you like. Each remembers where it was
// built, and failures name that file:line.
type Step struct {
	name   string
	at     Location
	within time.Duration
	hold   bool // ends quietly when the server closes
	run    func(c *Conn, within time.Duration) error
}

func newStep(name string, run func(c *Conn, within time.Duration) error) Step {
	return Step{name: name, at: callerLocation(), run: run}
}

// Within sets the step's deadline: how long Expect, ExpectClosed and
// ExpectNone wait, how long HoldOpen and a profile run at most, and the
// write deadline of sending steps. Zero means the default (the server's step
// timeout for waiting and writing, no limit for HoldOpen and profiles).
func (s Step) Within(d time.Duration) Step { s.within = d; return s }

// String is the step's description, e.g. `Expect("verack")`.
func (s Step) String() string { return s.name }

// Location is where the step was built.
func (s Step) Location() Location { return s.at }

// Script is a named list of steps played on one connection. When the last
// step returns, the connection is closed; end with HoldOpen to keep it.
type Script struct {
	name  string
	at    Location
	steps []Step
}

// NewScript builds a named script.
func NewScript(name string, steps ...Step) Script {
	return Script{name: name, at: callerLocation(), steps: steps}
}

// Steps builds a script named after the place it was built.
func Steps(steps ...Step) Script {
	at := callerLocation()
	return Script{name: fmt.Sprintf("script at %s", shortLocation(at)), at: at, steps: steps}
}

// Name is the script's name.
func (s Script) Name() string { return s.name }

// Location is where the script was built.
func (s Script) Location() Location { return s.at }

// Len is the number of steps.
func (s Script) Len() int { return len(s.steps) }

// Then returns a script with more steps at the end.
func (s Script) Then(steps ...Step) Script {
	s.steps = append(append([]Step(nil), s.steps...), steps...)
	return s
}

func shortLocation(l Location) string {
	if i := strings.LastIndexByte(l.File, '/'); i >= 0 {
		return fmt.Sprintf("%s:%d", l.File[i+1:], l.Line)
	}
	return l.String()
}

// play runs the script's steps in order and reports the first failure, or
// the cut-off when the server closes before the script is done.
func (c *Conn) play(sc Script) {
	for i := range sc.steps {
		st := &sc.steps[i]
		if c.env.closing() {
			// A last step that holds (HoldOpen, a profile) would have
			// ended normally at Close: Close coming before it started
			// (right after the accept) cuts nothing off.
			if !st.hold || i != len(sc.steps)-1 {
				c.cutOff(sc, i, "before this step")
			}
			return
		}
		c.writeTimeout = c.env.cfg.stepTimeout
		if st.within > 0 {
			c.writeTimeout = st.within
		}
		if c.env.debug {
			c.logStep(sc, st)
		}
		if st.run == nil {
			c.fail(sc, i, *st, errors.New("zero Step: build steps with the constructors (Expect, Send, ...)"))
			return
		}
		err := st.run(c, st.within)
		if i < len(sc.steps)-1 {
			// After the last step the connection is closed, which
			// disarms its timers.
			c.clearDeadlines()
		}
		if err != nil {
			c.stepFailed(sc, i, err)
			return
		}
	}
}

func (c *Conn) logStep(sc Script, st *Step) {
	c.Logger().Debug("step", "script", sc.name, "step", st.name, "at", st.at.String())
}

// stepFailed reports step i's error, or the cut-off when the server closed.
func (c *Conn) stepFailed(sc Script, i int, err error) {
	st := sc.steps[i]
	if !errors.Is(err, errClosing) {
		c.fail(sc, i, st, err)
		return
	}
	switch {
	case st.hold && i == len(sc.steps)-1:
		// Holding until the server closes is how such a script ends.
	case st.hold:
		c.cutOff(sc, i+1, "before this step")
	default:
		c.cutOff(sc, i, "during this step")
	}
}

func (c *Conn) cutOff(sc Script, i int, when string) {
	c.fail(sc, i, sc.steps[i], fmt.Errorf("%w by %s %s", ErrCutOff, c.env.cutBy, when))
}

func (c *Conn) fail(sc Script, i int, st Step, err error) {
	c.env.report(&Failure{Conn: c.index, Remote: c.nc.RemoteAddr().String(), Script: sc.name,
		Step: st.name, StepIndex: i + 1, Steps: len(sc.steps), At: st.at, Err: err})
}

func (c *Conn) deadline(within time.Duration) (time.Time, time.Duration) {
	if within <= 0 {
		within = c.env.cfg.stepTimeout
	}
	return time.Now().Add(within), within
}

// Expect waits for the next message with this command, skipping (and
// recording) others, and checks it with every matcher. It fails when the
// deadline passes (Within, default the server's step timeout), when the
// other side closes first, when the command arrives in a broken frame, or
// when a matcher does not match.
//
//	mockpeer.Expect(wire.CmdVersion, HaveField("ProtocolVersion", BeNumerically(">=", 70001)))
func Expect(cmd string, matchers ...Matcher) Step {
	return newStep(fmt.Sprintf("Expect(%q)", cmd), func(c *Conn, within time.Duration) error {
		return c.expect(cmd, matchers, false, within)
	})
}

// ExpectNext is Expect without skipping: the very next frame must carry cmd.
func ExpectNext(cmd string, matchers ...Matcher) Step {
	return newStep(fmt.Sprintf("ExpectNext(%q)", cmd), func(c *Conn, within time.Duration) error {
		return c.expect(cmd, matchers, true, within)
	})
}

func (c *Conn) expect(cmd string, matchers []Matcher, strict bool, within time.Duration) error {
	deadline, within := c.deadline(within)
	var skipped []string
	for {
		in, err := c.Next(deadline)
		if err != nil {
			return waitError(err, "waiting for "+cmd, within, skipped)
		}
		if in.Command != cmd {
			if strict {
				return fmt.Errorf("%w: got %s while expecting %s", ErrUnexpected, describe(in), cmd)
			}
			skipped = append(skipped, describe(in))
			continue
		}
		if in.Err != nil {
			return fmt.Errorf("%w: %s arrived but %v", ErrBrokenFrame, cmd, in.Err)
		}
		for _, m := range matchers {
			ok, merr := m.Match(in.Message)
			if merr != nil {
				return fmt.Errorf("%w: matcher error on %s: %v", ErrMismatch, cmd, merr)
			}
			if !ok {
				return fmt.Errorf("%w: %s\n%s", ErrMismatch, cmd, m.FailureMessage(in.Message))
			}
		}
		return nil
	}
}

func describe(in Incoming) string {
	name := in.Command
	if name == "" {
		name = "frame"
	}
	if in.Err != nil {
		return fmt.Sprintf("%s (broken: %v)", name, in.Err)
	}
	return name
}

// waitError turns a read error into a step error that says what was awaited.
func waitError(err error, what string, within time.Duration, skipped []string) error {
	meanwhile := ""
	if len(skipped) > 0 {
		if len(skipped) > 10 {
			skipped = append(skipped[:10:10], fmt.Sprintf("and %d more", len(skipped)-10))
		}
		meanwhile = "; received meanwhile: " + strings.Join(skipped, ", ")
	}
	var fe *wire.FrameError
	switch {
	case errors.Is(err, errClosing):
		return errClosing
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: %s for %v%s", ErrTimeout, what, within, meanwhile)
	case peerGone(err):
		return fmt.Errorf("%w (%v) %s%s", ErrPeerClosed, err, what, meanwhile)
	case errors.As(err, &fe):
		return fmt.Errorf("%w: stream out of sync (%v) %s%s", ErrBrokenFrame, err, what, meanwhile)
	case errors.Is(err, net.ErrClosed):
		return fmt.Errorf("connection already closed by the script, %s: %w", what, err)
	}
	return fmt.Errorf("%s: %w%s", what, err, meanwhile)
}

func peerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ExpectNone waits d and fails if a message with one of cmds (any message
// when cmds is empty) arrives meanwhile. The other side closing ends the
// wait without failure.
func ExpectNone(d time.Duration, cmds ...string) Step {
	name := "ExpectNone()"
	if len(cmds) > 0 {
		name = fmt.Sprintf("ExpectNone(%q)", strings.Join(cmds, `", "`))
	}
	s := newStep(name, func(c *Conn, within time.Duration) error {
		deadline := time.Now().Add(within)
		for {
			in, err := c.Next(deadline)
			switch {
			case err == nil:
			case errors.Is(err, os.ErrDeadlineExceeded), peerGone(err):
				return nil
			default:
				return waitError(err, "watching for unwanted messages", within, nil)
			}
			if len(cmds) == 0 {
				return fmt.Errorf("%w: %s within %v", ErrUnexpected, describe(in), within)
			}
			for _, cmd := range cmds {
				if in.Command == cmd {
					return fmt.Errorf("%w: %s within %v", ErrUnexpected, describe(in), within)
				}
			}
		}
	})
	s.within = d
	return s
}

// ExpectClosed waits until the other side closes (FIN) or resets the
// connection, skipping messages meanwhile; it fails when the deadline
// passes first.
func ExpectClosed(within time.Duration) Step {
	s := newStep("ExpectClosed()", func(c *Conn, within time.Duration) error {
		deadline, within := c.deadline(within)
		err := c.waitClosed(deadline)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Errorf("%w after %v", ErrNotClosed, within)
		}
		return waitError(err, "waiting for the other side to close", within, nil)
	})
	s.within = within
	return s
}

// waitClosed reads until the stream ends: nil when the other side closed
// or reset, the read error otherwise (a deadline, the server closing).
func (c *Conn) waitClosed(deadline time.Time) error {
	for {
		_, err := c.Next(deadline)
		if err == nil {
			continue
		}
		var fe *wire.FrameError
		if errors.As(err, &fe) {
			// Out of sync: drain bytes without parsing until the end.
			return c.drain(deadline)
		}
		if peerGone(err) {
			return nil
		}
		return err
	}
}

func (c *Conn) drain(deadline time.Time) error {
	if err := c.setReadDeadline(deadline); err != nil {
		return err
	}
	var buf [512]byte
	for {
		_, err := c.nc.Read(buf[:])
		if err == nil {
			continue
		}
		if peerGone(err) {
			c.env.record(Record{Time: time.Now(), Conn: c.index, Dir: In, Event: EventEOF, Err: err})
			return nil
		}
		if c.env.closing() {
			return errClosing
		}
		return err
	}
}

// HoldOpen keeps the connection open, reading (and applying routes) until
// the other side closes, the server closes, or Within's duration passes.
// It never fails.
func HoldOpen() Step {
	s := newStep("HoldOpen()", func(c *Conn, within time.Duration) error {
		var deadline time.Time
		if within > 0 {
			deadline = time.Now().Add(within)
		}
		err := c.waitClosed(deadline)
		if errors.Is(err, errClosing) {
			return errClosing
		}
		return nil
	})
	s.hold = true
	return s
}

// Send writes each message as a valid frame, one Write call per message.
func Send(msgs ...wire.Message) Step {
	return newStep("Send("+commandList(msgs)+")", func(c *Conn, _ time.Duration) error {
		return c.Send(msgs...)
	})
}

// Coalesce writes all messages in a single Write call (one TCP segment when
// they fit), like a peer whose verack arrives with its version.
func Coalesce(msgs ...wire.Message) Step {
	return newStep("Coalesce("+commandList(msgs)+")", func(c *Conn, _ time.Duration) error {
		return c.Coalesce(msgs...)
	})
}

// SendSplit writes each message's header and payload in separate Write
// calls, as btcd does.
func SendSplit(msgs ...wire.Message) Step {
	return newStep("SendSplit("+commandList(msgs)+")", func(c *Conn, _ time.Duration) error {
		return c.SendSplit(msgs...)
	})
}

// SendRaw writes bytes as they are, in one Write call.
func SendRaw(b []byte) Step {
	return newStep(fmt.Sprintf("SendRaw(%d bytes)", len(b)), func(c *Conn, _ time.Duration) error {
		return c.WriteRaw(b)
	})
}

// SendFrame writes a frame exactly as spelled out, broken on purpose or
// not, in one Write call.
func SendFrame(f wire.RawFrame) Step {
	name := wire.Header{Command: f.Command}.CommandName()
	return newStep(fmt.Sprintf("SendFrame(%q)", name), func(c *Conn, _ time.Duration) error {
		return c.WriteFrame(f)
	})
}

// Dribble writes data chunk bytes at a time with delay between writes.
func Dribble(data []byte, chunk int, delay time.Duration) Step {
	return newStep(fmt.Sprintf("Dribble(%d bytes, %d, %v)", len(data), chunk, delay), func(c *Conn, _ time.Duration) error {
		return c.dribble(data, chunk, delay, nil, nil)
	})
}

// DribbleMessages encodes msgs as valid frames and writes them chunk bytes
// at a time with delay between writes; each message is recorded when its
// last byte has been written.
func DribbleMessages(chunk int, delay time.Duration, msgs ...wire.Message) Step {
	return newStep(fmt.Sprintf("DribbleMessages(%d, %v, %s)", chunk, delay, commandList(msgs)), func(c *Conn, _ time.Duration) error {
		var b []byte
		cmds := make([]string, len(msgs))
		ends := make([]int, len(msgs))
		for i, m := range msgs {
			b = c.appendMessage(b, m)
			cmds[i], ends[i] = m.Command(), len(b)
		}
		return c.dribble(b, chunk, delay, cmds, ends)
	})
}

// Sleep pauses the script for d without reading: what the other side sends
// meanwhile waits in the socket, and routes do not answer.
func Sleep(d time.Duration) Step {
	return newStep(fmt.Sprintf("Sleep(%v)", d), func(c *Conn, _ time.Duration) error {
		return c.Sleep(d)
	})
}

// HalfClose closes the mock's write half (TCP FIN); it can still read.
func HalfClose() Step {
	return newStep("HalfClose()", func(c *Conn, _ time.Duration) error { return c.CloseWrite() })
}

// CloseConn closes the connection (TCP FIN).
func CloseConn() Step {
	return newStep("CloseConn()", func(c *Conn, _ time.Duration) error { return c.Close() })
}

// Reset closes the connection with SO_LINGER 0: the other side gets a TCP
// RST and its reads fail with ECONNRESET.
func Reset() Step {
	return newStep("Reset()", func(c *Conn, _ time.Duration) error { return c.Reset() })
}

// Do runs fn on the connection: the escape hatch for what no step covers.
// An error fails the step.
func Do(fn func(c *Conn) error) Step {
	return newStep("Do()", func(c *Conn, _ time.Duration) error { return fn(c) })
}

// ReplyVersion sends v completed for this connection by Conn.VersionFor:
// the timestamp, addr_recv and a nonce that differs from the other side's
// are filled in when zero. nil sends DefaultVersion.
func ReplyVersion(v *wire.Version) Step {
	var tmpl *wire.Version
	if v != nil {
		cp := *v
		tmpl = &cp
	}
	return newStep("ReplyVersion()", func(c *Conn, _ time.Duration) error {
		return c.Send(c.VersionFor(tmpl))
	})
}

func commandList(msgs []wire.Message) string {
	names := make([]string, len(msgs))
	for i, m := range msgs {
		names[i] = m.Command()
	}
	if len(names) > 6 {
		return fmt.Sprintf("%s, ... %d messages", strings.Join(names[:5], ", "), len(names))
	}
	return strings.Join(names, ", ")
}
