package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// clientProc is an external client running in a process group of its own,
// with the pipes of its stdout and stderr.
type clientProc struct {
	cmd            *exec.Cmd
	outR, errR     *os.File
	stdout, stderr *stream
	exited         chan func() error
	start          time.Time
	reap           func() error
}

// startClient runs line with `sh -c`, env added to the harness's
// environment, in a process group of its own.
func startClient(line string, env ...string) (*clientProc, error) {
	cmd := exec.Command("sh", "-c", line)
	cmd.Env = append(os.Environ(), env...)
	setGroup(cmd)
	// Pipes of our own rather than exec's copying goroutines: exec's Wait
	// waits for every writer of the pipe, background children included,
	// which is the very thing a client must not be able to impose.
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	p := &clientProc{cmd: cmd, outR: outR, errR: errR, start: time.Now(), exited: make(chan func() error, 1)}
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	p.stdout = readStream(outR, true)
	p.stderr = readStream(errR, false)
	go func() { p.exited <- waitExit(cmd) }()
	return p, nil
}

// procEnd is how the client's main process ended.
type procEnd struct {
	took                  time.Duration
	timedOut, interrupted bool
}

// wait waits for the client's main process to exit, killing its group
// stopIn after the start, or as soon as ctx is canceled before its
// deadline.
func (p *clientProc) wait(ctx context.Context, stopIn time.Duration) procEnd {
	stop := time.NewTimer(stopIn - time.Since(p.start))
	defer stop.Stop()
	var end procEnd
	done := ctx.Done()
	for p.reap == nil {
		select {
		case p.reap = <-p.exited:
		case <-done:
			// Past its deadline the client still has its slack; only a
			// cancellation (SIGINT, a caller giving up) stops it now.
			done = nil
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				end.interrupted = true
				killGroup(p.cmd.Process)
			}
		case <-stop.C:
			end.timedOut = true
			killGroup(p.cmd.Process)
		}
	}
	end.took = time.Since(p.start)
	return end
}

// drain reads the client's output to its end, killing what is left of its
// process group, and returns notes on output held open behind its back.
func (p *clientProc) drain(end procEnd) []string {
	var notes []string
	grace := time.NewTimer(pipeGrace)
	closed := waitStreams(grace.C, p.stdout, p.stderr)
	grace.Stop()
	// The main process is gone (on Linux still unreaped, so its pid, the
	// group's id, cannot be reused yet): whatever it left in its group goes.
	killGroup(p.cmd.Process)
	if !closed {
		if !end.timedOut && !end.interrupted {
			notes = append(notes, fmt.Sprintf("the client's output stayed open %s after it exited (a background process?); its process group was killed", pipeGrace))
		}
		drain := time.NewTimer(drainGrace)
		if !waitStreams(drain.C, p.stdout, p.stderr) {
			notes = append(notes, "the client's output stayed open after its process group was killed (a process that left the group?); stopped reading")
			p.outR.Close()
			p.errR.Close()
			<-p.stdout.done
			<-p.stderr.done
		}
		drain.Stop()
	}
	p.outR.Close()
	p.errR.Close()
	return notes
}
