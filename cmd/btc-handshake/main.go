// Command btc-handshake performs the Bitcoin P2P handshake with the peers
// of a DNS seed (or given addresses) and reports how each one behaved.
//
// Exit status: 0 when every peer completed the handshake, 1 when any
// failed, 2 for usage or resolution errors.
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(execute(ctx, os.Args[1:]))
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
