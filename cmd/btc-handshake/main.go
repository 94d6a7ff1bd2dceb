// Command btc-handshake performs the Bitcoin P2P handshake with the peers
// of a DNS seed (or given addresses) and reports how each one behaved.
//
// Exit status: 0 when every peer completed the handshake, 1 when any
// failed, 2 for usage or resolution errors; check exits 130 (SIGINT) or
// 143 (SIGTERM) when a signal cut its runs short.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// exitError carries an exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func main() {
	os.Exit(execute(signalContext(), os.Args[1:]))
}

// signalContext returns a context canceled by the first SIGINT or SIGTERM,
// with a *signalError as its cause. Later signals are caught and ignored:
// check stops its clients within about a second of the first, and a second
// Ctrl-C that killed the harness in the meantime would leave them running.
func signalContext() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	caught := make(chan os.Signal, 1)
	signal.Notify(caught, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-caught
		sig, _ := s.(syscall.Signal)
		cancel(&signalError{sig: sig})
	}()
	return ctx
}

// signalError is the cause of a context canceled by a signal.
type signalError struct{ sig syscall.Signal }

func (e *signalError) Error() string {
	name := e.sig.String()
	switch e.sig {
	case syscall.SIGINT:
		name = "SIGINT"
	case syscall.SIGTERM:
		name = "SIGTERM"
	}
	return "interrupted by " + name
}

// interrupted returns, when ctx was canceled by a signal, the error that
// makes the command exit with 128 plus the signal's number (130 for SIGINT,
// 143 for SIGTERM), the shell's way of saying "cut short": a judge whose
// runs were interrupted has no verdict to give, whatever it printed.
func interrupted(ctx context.Context) error {
	var se *signalError
	if !errors.As(context.Cause(ctx), &se) {
		return nil
	}
	return &exitError{code: 128 + int(se.sig), err: se}
}

// execute runs the CLI with args and returns the exit status.
func execute(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "btc-handshake:", ee.err)
		}
		return ee.code
	}
	// Errors from flag parsing and argument validation are usage errors.
	fmt.Fprintln(os.Stderr, "btc-handshake:", err)
	fmt.Fprintln(os.Stderr, "Run 'btc-handshake --help' for usage.")
	return exitUsage
}
