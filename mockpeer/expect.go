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

	"github.com/onsi/gomega/types"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Expect waits for the next message with this command, skipping (and
// recording) others, and checks it with every matcher: any Gomega matcher,
// given the decoded wire.Message (*wire.Version, wire.Ping, wire.Raw, ...). An empty cmd takes
// the very next message, whatever its command, so that matchers can say
// what it must be (HaveField("Command()", wire.CmdVerack)). It fails when
// the deadline passes (Within, default the server's step timeout), when the
// other side closes first, when the message arrives in a broken frame, or
// when a matcher does not match.
//
//	mockpeer.Expect(wire.CmdVersion, HaveField("ProtocolVersion", BeNumerically(">=", 70001)))
func Expect(cmd string, matchers ...types.GomegaMatcher) Step {
	s := newStep(fmt.Sprintf("Expect(%q)", cmd), func(c *Conn, within time.Duration) error {
		return c.expect(cmd, matchers, within)
	})
	s.exp = &expectation{cmd: cmd, matchers: matchers}
	return s
}

// expectation is what an Expect step waits for, which Never turns around.
type expectation struct {
	cmd      string
	matchers []types.GomegaMatcher
}

func (c *Conn) expect(cmd string, matchers []types.GomegaMatcher, within time.Duration) error {
	deadline, within := c.deadline(within)
	what := cmd
	if what == "" {
		what = "the next message"
	}
	var skipped []string
	for {
		in, err := c.Next(deadline)
		if err != nil {
			return waitError(err, "waiting for "+what, within, skipped)
		}
		if cmd != "" && in.Command != cmd {
			skipped = append(skipped, describe(in))
			continue
		}
		if in.Err != nil {
			name := in.Command
			if name == "" {
				name = "a frame"
			}
			return fmt.Errorf("%w: %s arrived but %v", ErrBrokenFrame, name, in.Err)
		}
		for _, m := range matchers {
			ok, merr := m.Match(in.Message)
			if merr != nil {
				return fmt.Errorf("%w: matcher error on %s: %v", ErrMismatch, in.Command, merr)
			}
			if !ok {
				return fmt.Errorf("%w: %s\n%s", ErrMismatch, in.Command, m.FailureMessage(in.Message))
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

// Never turns an Expect step around: it waits its deadline (Within,
// default the server's step timeout) and fails if a message that Expect
// would have taken arrives meanwhile (with Expect(""), any message; with
// matchers, one they match). The other side closing ends the wait without
// failure. On a step that is not an Expect it fails the step.
func (s Step) Never() Step {
	e := s.exp
	s.name += ".Never()"
	s.run = func(c *Conn, within time.Duration) error {
		if e == nil {
			return errors.New("mockpeer: Never on a step that is not an Expect")
		}
		return c.expectNever(e, within)
	}
	return s
}

func (c *Conn) expectNever(e *expectation, within time.Duration) error {
	deadline, within := c.deadline(within)
	for {
		in, err := c.Next(deadline)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded), peerGone(err):
			return nil
		default:
			return waitError(err, "watching for unwanted messages", within, nil)
		}
		if e.cmd != "" && in.Command != e.cmd {
			continue
		}
		matched := true
		for _, m := range e.matchers {
			if ok, merr := m.Match(in.Message); merr != nil || !ok {
				matched = false
				break
			}
		}
		if matched {
			return fmt.Errorf("%w: %s within %v", ErrUnexpected, describe(in), within)
		}
	}
}

// ExpectClosed waits until the other side closes (FIN) or resets the
// connection, skipping messages meanwhile; it fails with ErrNotClosed when
// the step's deadline passes first (Step.Within, default the server's step
// timeout). As a step: Do((*Conn).ExpectClosed).
func (c *Conn) ExpectClosed() error {
	deadline, within := c.deadline(c.stepWithin)
	err := c.waitClosed(deadline)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w after %v", ErrNotClosed, within)
	}
	return waitError(err, "waiting for the other side to close", within, nil)
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
			c.env.record(Record{Time: time.Now(), Conn: c.index, Event: EventEOF, Err: err})
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
