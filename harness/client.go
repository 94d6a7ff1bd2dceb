package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Outcome is what a client did against one peer.
type Outcome struct {
	// Completed: the client says the handshake completed.
	Completed bool
	// Kind is the error kind the client reported ("" when it completed or
	// does not report kinds).
	Kind string
	// Phase is the phase the client reported reaching ("" when unknown).
	Phase string
	// Quirks the client reported.
	Quirks []string
	// NegotiatedVersion the client reported (0 when unknown).
	NegotiatedVersion int32
	// Detailed: the client reported kind, phase and quirks (our NDJSON or a
	// Go client), so the verdict's details can be checked; an exit status
	// alone says only completed or not.
	Detailed bool
	// Duration is how long the client took.
	Duration time.Duration
	// Message is the error message, or a note from the harness.
	Message string
	// Output is the tail of an external client's output.
	Output string
	// Interrupted: the run was cut short by the caller (its context was
	// canceled, e.g. on SIGINT) before the client's deadline; such a run
	// is never a pass.
	Interrupted bool
}

// Client is anything that can attempt a handshake with addr on net.
type Client interface {
	Handshake(ctx context.Context, addr string, net wire.Network) Outcome
}

// ClientFunc adapts a function to Client.
type ClientFunc func(ctx context.Context, addr string, net wire.Network) Outcome

// Handshake implements Client.
func (f ClientFunc) Handshake(ctx context.Context, addr string, net wire.Network) Outcome {
	return f(ctx, addr, net)
}

// FromResult turns a handshake Result into an Outcome.
func FromResult(res *handshake.Result) Outcome {
	o := Outcome{
		Completed:         res.OK(),
		Kind:              string(res.Kind()),
		Phase:             string(res.Phase),
		NegotiatedVersion: res.NegotiatedVersion,
		Detailed:          true,
		Duration:          res.Timings.Total,
	}
	for _, q := range res.Quirks {
		o.Quirks = append(o.Quirks, string(q))
	}
	if res.Err != nil {
		o.Message = res.Err.Error()
	}
	return o
}

// FromReport turns a JSON peer report into an Outcome.
func FromReport(rep handshake.Report) Outcome {
	o := Outcome{
		Completed:         rep.OK,
		Phase:             string(rep.Phase),
		NegotiatedVersion: rep.NegotiatedVersion,
		Detailed:          true,
		Duration:          time.Duration(rep.Timings.TotalMS * float64(time.Millisecond)),
	}
	if rep.Error != nil {
		o.Kind = string(rep.Error.Kind)
		o.Message = rep.Error.Message
	}
	for _, q := range rep.Quirks {
		o.Quirks = append(o.Quirks, string(q))
	}
	return o
}

// GoClient is our own handshake client with cfg; the network is set per
// scenario.
func GoClient(cfg handshake.Config) Client {
	return ClientFunc(func(ctx context.Context, addr string, net wire.Network) Outcome {
		c := cfg
		c.Network = net
		res, _ := handshake.Dial(ctx, addr, c)
		return FromResult(res)
	})
}

// CommandClient runs an external client through `sh -c`, after replacing
// {addr} (host:port), {host}, {port} and {network} in cmdline. The client
// completed when it exits 0; when it prints our NDJSON peer objects (for
// example `btc-handshake --json`), the first one gives kind, phase and
// quirks too. The command is killed when ctx ends.
func CommandClient(cmdline string) Client {
	return ClientFunc(func(ctx context.Context, addr string, net wire.Network) Outcome {
		host, port := addr, ""
		if i := strings.LastIndex(addr, ":"); i >= 0 {
			host, port = strings.Trim(addr[:i], "[]"), addr[i+1:]
		}
		line := strings.NewReplacer("{addr}", addr, "{host}", host, "{port}", port, "{network}", net.String()).Replace(cmdline)
		cmd := exec.CommandContext(ctx, "sh", "-c", line)
		cmd.WaitDelay = time.Second
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		o := Outcome{Duration: time.Since(start), Output: tail(stdout.String()+stderr.String(), 2000)}
		if rep, ok := firstPeerReport(stdout.Bytes()); ok {
			o = mergeReport(o, rep)
		}
		var exitErr *exec.ExitError
		switch {
		case err == nil:
			o.Completed = true
		case ctx.Err() != nil:
			o.Completed = false
			o.Message = "client did not finish in time and was killed"
		case errors.As(err, &exitErr):
			o.Completed = false
			if o.Message == "" {
				o.Message = exitErr.Error()
			}
		default:
			o.Completed = false
			o.Message = "could not run client: " + err.Error()
		}
		return o
	})
}

func mergeReport(o Outcome, rep handshake.Report) Outcome {
	r := FromReport(rep)
	r.Duration, r.Output = o.Duration, o.Output
	return r
}

// firstPeerReport finds the first NDJSON object with "type":"peer".
func firstPeerReport(out []byte) (handshake.Report, bool) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var rep handshake.Report
		if json.Unmarshal(line, &rep) == nil && rep.Type == "peer" {
			return rep, true
		}
	}
	return handshake.Report{}, false
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
