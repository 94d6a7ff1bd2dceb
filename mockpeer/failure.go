package mockpeer

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// Failure kinds, for errors.Is on Failure.Err (and on the errors Close and
// Dial return).
var (
	// ErrTimeout: a step's deadline passed before what it waited for.
	ErrTimeout = errors.New("deadline exceeded")
	// ErrMismatch: the expected message arrived but a matcher rejected it.
	ErrMismatch = errors.New("message did not match")
	// ErrUnexpected: a message arrived that the step did not allow.
	ErrUnexpected = errors.New("unexpected message")
	// ErrBrokenFrame: the expected command arrived in a broken frame or
	// could not be decoded.
	ErrBrokenFrame = errors.New("broken frame")
	// ErrPeerClosed: the other side closed or reset the connection while a
	// step waited for a message.
	ErrPeerClosed = errors.New("connection closed by the other side")
	// ErrNotClosed: ExpectClosed's deadline passed with the connection open.
	ErrNotClosed = errors.New("connection still open")
	// ErrCutOff: Close (or the Dial context) ended a script before its last step.
	ErrCutOff = errors.New("script cut off")
	// ErrNeverRan: an appended script had no connection by Close.
	ErrNeverRan = errors.New("script never ran")
	// ErrNoScript: a connection arrived with no appended script left and no default.
	ErrNoScript = errors.New("connection with no script")
	// ErrDisconnect is returned by a Reaction to close the connection after
	// its replies are written. It is a decision, not a failure.
	ErrDisconnect = errors.New("disconnect")
	// ErrV2Handshake is wrapped by the error of a v2 handshake the other
	// side broke (no terminator within the scan limit, a first packet that
	// does not authenticate, a version packet that is a decoy forever, ...).
	ErrV2Handshake = errors.New("mockpeer: v2 handshake failed")
)

// location is the file and line where a step, script or profile was built.
type location struct {
	File string
	Line int
}

// String is "file:line".
func (l location) String() string {
	if l.File == "" {
		return "unknown location"
	}
	return fmt.Sprintf("%s:%d", l.File, l.Line)
}

// pkgPrefix is this package's function-name prefix, so that locations skip
// frames inside mockpeer (but not mockpeer_test).
var pkgPrefix = func() string {
	pc, _, _, _ := runtime.Caller(0)
	name := runtime.FuncForPC(pc).Name()
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	return name[:slash+1+dot+1]
}()

// callerLocation returns the first frame outside this package: the line of
// the spec (or of the scenario package) that built the value.
func callerLocation() location {
	var pcs [16]uintptr
	n := runtime.Callers(2, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, pkgPrefix) {
			return location{File: f.File, Line: f.Line}
		}
		if !more {
			return location{File: f.File, Line: f.Line}
		}
	}
}

// Failure is one problem a Server or Session reports.
type Failure struct {
	// Conn is the connection's index, or -1 for a script that never ran.
	Conn int
	// Remote is the other side's address, when there was a connection.
	Remote string
	// Script is the script's name.
	Script string
	// Step describes the failing step, e.g. `Expect("verack")`; empty when
	// the failure is about the whole script.
	Step string
	// StepIndex is the step's position from 1, and Steps the script's length.
	StepIndex, Steps int
	// At is the file:line where the step (or the script, for ErrNeverRan)
	// was built.
	At string
	// Err wraps one of the Err* kinds above.
	Err error
}

// Error renders the failure for people: where, which step, what happened.
func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString("mockpeer: ")
	if f.Step != "" {
		fmt.Fprintf(&b, "%s at %s: %v\n", f.Step, f.At, f.Err)
		fmt.Fprintf(&b, "  in step %d of %d of script %q", f.StepIndex, f.Steps, f.Script)
	} else {
		fmt.Fprintf(&b, "script %q (%s): %v", f.Script, f.At, f.Err)
	}
	if f.Conn >= 0 {
		fmt.Fprintf(&b, ", connection #%d", f.Conn)
		if f.Remote != "" {
			fmt.Fprintf(&b, " from %s", f.Remote)
		}
	}
	return b.String()
}

// Unwrap returns Err.
func (f *Failure) Unwrap() error { return f.Err }

// callHandler calls a fail handler and survives its panic: Ginkgo's Fail
// records the failure and then panics when called outside the spec
// goroutine, by design (ghttp handles it the same way).
func callHandler(h func(message string, callerSkip ...int), msg string) (panicked any) {
	defer func() { panicked = recover() }()
	h(msg, 1)
	return nil
}
