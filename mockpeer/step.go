package mockpeer

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"
)

// Step is one action of a Script. Steps are values: build them once and
// reuse them in as many scripts as you like. Each remembers where it was
// built, and failures name that file:line. Methods (Within, Coalesced,
// Split, Separately, Dribble, Never) return a changed copy.
type Step struct {
	name   string
	at     location
	within time.Duration
	w      writing
	hold   bool         // ends quietly when the server closes
	exp    *expectation // an Expect's, for Never
	run    func(c *Conn, within time.Duration) error
}

func newStep(name string, run func(c *Conn, within time.Duration) error) Step {
	return Step{name: name, at: callerLocation(), run: run}
}

// Within sets the step's deadline: how long Expect (and Never) and
// Conn.ExpectClosed wait, how long HoldOpen and a profile run at most, and
// the write deadline of sending steps. Zero means the default (the server's step
// timeout for waiting and writing, no limit for HoldOpen and profiles).
func (s Step) Within(d time.Duration) Step { s.within = d; return s }

// Coalesced makes the step write the messages it sends (Send, a Do that
// calls Conn.Send, a profile's replies) in one Write call, so that they
// leave in one TCP segment when they fit, like a peer whose verack arrives
// with its version.
func (s Step) Coalesced() Step { return s.writes(writeCoalesced, ".Coalesced()") }

// Split makes the step write each message's header and payload in
// separate Write calls, as btcd does (wire.WriteMessageWithEncodingN).
func (s Step) Split() Step { return s.writes(writeSplit, ".Split()") }

// Separately makes the step write each message in a Write call of its own,
// as Bitcoin Core does: the default of every step but a profile's.
func (s Step) Separately() Step { return s.writes(writeEach, ".Separately()") }

func (s Step) writes(m writeMode, suffix string) Step {
	s.w = writing{mode: m}
	s.name += suffix
	return s
}

// Dribble makes the step write what it sends (Send, SendRaw, a Do that
// sends) chunk bytes at a time, delay apart; a message is recorded when its
// last byte has been written.
func (s Step) Dribble(chunk int, delay time.Duration) Step {
	s.w.chunk, s.w.delay = max(chunk, 1), delay
	s.name += fmt.Sprintf(".Dribble(%d, %v)", chunk, delay)
	return s
}

// String is the step's description, e.g. `Expect("verack")`.
func (s Step) String() string { return s.name }

// Script is a named list of steps played on one connection. When the last
// step returns, the connection is closed; end with HoldOpen to keep it.
type Script struct {
	name  string
	at    location
	steps []Step
}

// NewScript builds a script. An empty name names it after the file:line
// where it was built.
func NewScript(name string, steps ...Step) Script {
	at := callerLocation()
	if name == "" {
		name = fmt.Sprintf("script at %s", shortLocation(at))
	}
	return Script{name: name, at: at, steps: steps}
}

// Name is the script's name.
func (s Script) Name() string { return s.name }

// Len is the number of steps.
func (s Script) Len() int { return len(s.steps) }

// Then returns a script with more steps at the end.
func (s Script) Then(steps ...Step) Script {
	s.steps = append(append([]Step(nil), s.steps...), steps...)
	return s
}

func shortLocation(l location) string {
	if i := strings.LastIndexByte(l.File, '/'); i >= 0 {
		return fmt.Sprintf("%s:%d", l.File[i+1:], l.Line)
	}
	return l.String()
}

// Do runs fn on the connection: the escape hatch for what no step covers,
// and the step of the Conn methods that take no argument:
// Do((*Conn).Close) closes the connection (a FIN), Do((*Conn).CloseWrite)
// half-closes it, Do((*Conn).Reset) resets it (an RST). An error fails the
// step.
func Do(fn func(c *Conn) error) Step {
	name := "Do()"
	if f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()); f != nil && strings.HasPrefix(f.Name(), pkgPrefix+"(") {
		name = "Do(" + strings.TrimPrefix(f.Name(), pkgPrefix) + ")"
	}
	return newStep(name, func(c *Conn, _ time.Duration) error { return fn(c) })
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
		c.stepWithin = c.env.cfg.stepTimeout
		if st.within > 0 {
			c.stepWithin = st.within
		}
		c.w = st.w
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
		Step: st.name, StepIndex: i + 1, Steps: len(sc.steps), At: st.at.String(), Err: err})
}

func (c *Conn) deadline(within time.Duration) (time.Time, time.Duration) {
	if within <= 0 {
		within = c.env.cfg.stepTimeout
	}
	return time.Now().Add(within), within
}
