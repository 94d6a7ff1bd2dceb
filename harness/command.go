package harness

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	return Client(func(ctx context.Context, addr string, net wire.Network) Outcome {
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
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Outcome{Interrupted: true, Message: "the run was canceled before the client started"}
	}
	transport := ScenarioTransport(ctx)
	line, err := expand(cmdline, addr, net, timeout, transport)
	if err != nil {
		return Outcome{Invalid: err.Error(), Message: err.Error()}
	}
	p, err := startClient(line, "BTC_HANDSHAKE_TIMEOUT="+timeout.String(), "BTC_HANDSHAKE_TRANSPORT="+transport)
	if err != nil {
		return Outcome{Message: "could not run client: " + err.Error()}
	}
	end := p.wait(ctx, timeout+slack)
	notes := p.drain(end)
	werr := p.reap()

	o := Outcome{Duration: end.took}
	rep := p.stdout.scan.report
	if rep != nil {
		o = fromReport(*rep)
		o.Duration = end.took
	}
	o.Output = formatOutput(&p.stdout.capture, &p.stderr.capture)
	var exitErr *exec.ExitError
	switch {
	case end.interrupted:
		o.Completed, o.Interrupted = false, true
		o.Message = "the run was canceled before the client finished; its process group was killed"
	case end.timedOut:
		o.Completed = false
		o.Message = fmt.Sprintf("client did not finish within its timeout (%s) plus slack (%s) and was killed", timeout, slack)
	case p.stdout.scan.invalid != "":
		o.Completed = false
		o.Invalid = p.stdout.scan.invalid
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
