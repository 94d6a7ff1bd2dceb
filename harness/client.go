package harness

import (
	"context"
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
	// Output is what an external client printed, bounded: the head and
	// the tail of stdout and of stderr, with how many bytes were dropped
	// between them.
	Output string
	// Interrupted: the run was cut short by the caller (its context was
	// canceled, e.g. on SIGINT) before the client's deadline; such a run
	// is never a pass.
	Interrupted bool
	// Invalid, when not empty, says why the harness could not read the
	// client's result (a peer report line over the bound, say); such a run
	// is never a pass.
	Invalid string
}

// Client attempts a handshake with addr on net and says how it went. Any
// client written in Go is one: call it, turn its result into an Outcome
// (FromResult for our handshake package). CommandClient makes one of a
// program in any language.
type Client func(ctx context.Context, addr string, net wire.Network) Outcome

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

// fromReport turns a JSON peer report into an Outcome.
func fromReport(rep handshake.Report) Outcome {
	o := Outcome{
		Completed:         rep.OK,
		Phase:             string(rep.Phase),
		NegotiatedVersion: rep.NegotiatedVersion,
		Detailed:          true,
		Duration:          rep.Timings.Total,
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

type transportKey struct{}

// withTransport tells the client of a run which transport the scenario
// asks for.
func withTransport(ctx context.Context, t string) context.Context {
	return context.WithValue(ctx, transportKey{}, t)
}

// ScenarioTransport is the transport the scenario being run asks the
// client to use, "v1", "v2" or "auto", read from the context Run gives
// Client.Handshake (a command client gets it as {transport} and
// BTC_HANDSHAKE_TRANSPORT); "v1" outside a run.
func ScenarioTransport(ctx context.Context) string {
	if t, ok := ctx.Value(transportKey{}).(string); ok && t != "" {
		return t
	}
	return "v1"
}

// GoClient is our own handshake client with cfg; the network is set per
// scenario, and so is the transport unless cfg sets one.
func GoClient(cfg handshake.Config) Client {
	return Client(func(ctx context.Context, addr string, net wire.Network) Outcome {
		c := cfg
		c.Network = net
		if c.Transport == "" {
			c.Transport = handshake.Transport(ScenarioTransport(ctx))
		}
		res, _ := handshake.Dial(ctx, addr, c)
		return FromResult(res)
	})
}
