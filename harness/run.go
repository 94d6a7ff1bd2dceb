package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Defaults of Options and ProbeOptions.
const (
	// DefaultClientTimeout is Options.ClientTimeout's default.
	DefaultClientTimeout = 2 * time.Second
	// DefaultSlack is Options.Slack's default.
	DefaultSlack = time.Second
	// DefaultParallel is how many scenarios run at once.
	DefaultParallel = 64
	// DefaultProbeParallel is how many probes run at once. btcd admits at
	// most 8 unfinished inbound handshakes per source /24, and every
	// connection from a Docker host to a container comes from one source.
	DefaultProbeParallel = 4
	// DefaultObserve is how long a probe watches the connection after its
	// last message: long enough for a node on the same machine to answer,
	// short enough for CI.
	DefaultObserve = 500 * time.Millisecond
	// DefaultTimeoutSlack is how long after the node's peer timeout a slow
	// probe still waits for the disconnection.
	DefaultTimeoutSlack = 3 * time.Second
)

// Options configure a run.
//
// The timeout contract: each run of a client gets a context whose deadline
// is the client's own deadline, start + ClientTimeout + the scenario's
// Within. A correct client has completed, or given up and reported a
// failure, by then: a Go client honours ctx's deadline, a command is told
// it as {timeout}, {timeout_ms} and BTC_HANDSHAKE_TIMEOUT. The harness
// accepts a failure reported by that deadline plus Slack, and stops a
// command still running then.
type Options struct {
	// Network whose magic the mock peers speak (default regtest).
	Network wire.Network
	// ClientTimeout is the time the client has for one handshake (default
	// 2 s): its context's deadline is this long after it is started (plus
	// the scenario's Within).
	ClientTimeout time.Duration
	// Slack is how long after its deadline a client may take to report a
	// failure (and a command to exit) before it is judged too slow and
	// stopped (default 1 s).
	Slack time.Duration
	// Parallel bounds how many scenarios run at once (default 64).
	Parallel int
	// ListenAddr is where each mock peer listens (default 127.0.0.1:0).
	ListenAddr string
	// Expect requires one behaviour where correct clients differ
	// (scenarios.CoreLike, Tolerant or Rejecting); a scenario that offers
	// no outcome with that label requires its Core-like outcome. "" accepts
	// every correct outcome.
	Expect scenarios.Behaviour
	// Strict requires a client that reports quirks to name every quirk of
	// the outcome it reached; otherwise quirks are diagnostics only.
	Strict bool
}

func (o Options) withDefaults() Options {
	if o.Network == 0 {
		o.Network = wire.Regtest
	}
	if o.ClientTimeout <= 0 {
		o.ClientTimeout = DefaultClientTimeout
	}
	if o.Slack <= 0 {
		o.Slack = DefaultSlack
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.ListenAddr == "" {
		o.ListenAddr = "127.0.0.1:0"
	}
	return o
}

// Run judges client against each scenario, at most opts.Parallel at a
// time, and returns the judgements in the scenarios' order. Scenarios not
// started because ctx ended are judged interrupted.
//
// Each run starts a mock peer playing the scenario, points client at it
// and judges the run by what the mock peer witnessed on the wire (did the
// client connect, what did it send, who closed) together with what the
// client reported. The client's context carries its deadline (see
// Options). Run waits for the client to return: a Go client that ignores
// its context holds it up. What went wrong on the mock's side is kept in
// each judgement's MockNotes.
func Run(ctx context.Context, client Client, opts Options, scs ...scenarios.Scenario) Judgements {
	opts = opts.withDefaults()
	out := make(Judgements, len(scs))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, sc := range scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = notRun(ctx, sc)
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				out[i] = notRun(ctx, sc)
				return
			}
			out[i] = runOne(ctx, client, sc, opts)
		}()
	}
	wg.Wait()
	return out
}

func notRun(ctx context.Context, sc scenarios.Scenario) Judgement {
	return Judgement{Scenario: sc.Name, Summary: sc.Summary, Expected: sc.Expect,
		Outcome: Outcome{Interrupted: true, Message: "not run: " + ctx.Err().Error()},
		Reasons: []string{"interrupted before it ran"}}
}

// runOne judges client against one scenario (see Run); opts has its
// defaults.
func runOne(ctx context.Context, client Client, sc scenarios.Scenario, opts Options) Judgement {
	j := Judgement{Scenario: sc.Name, Summary: sc.Summary, Expected: sc.Expect}
	if ctx.Err() != nil {
		return notRun(ctx, sc)
	}
	budget := opts.ClientTimeout + sc.Expect.Within
	var notesMu sync.Mutex
	srv := mockpeer.NewUnstartedServer(
		mockpeer.WithNetwork(opts.Network),
		mockpeer.WithAddr(opts.ListenAddr),
		// The mock waits for the client as long as the client may take.
		mockpeer.WithStepTimeout(budget+opts.Slack),
		// Commands and events are the witness; payloads are not needed.
		mockpeer.WithRecording(mockpeer.Recording{Payload: -1}),
		mockpeer.WithFailHandler(func(message string, _ ...int) {
			notesMu.Lock()
			j.MockNotes = append(j.MockNotes, message)
			notesMu.Unlock()
		}),
	)
	srv.SetDefaultScript(sc.Script)
	if err := srv.Start(); err != nil {
		// A ListenAddr in use, say: the client was never judged.
		j.Reasons = []string{fmt.Sprintf("the mock peer could not start: %v", err)}
		return j
	}
	start := time.Now()
	cctx, cancel := context.WithDeadline(ctx, start.Add(budget))
	j.Outcome = client(withTransport(withSlack(cctx, opts.Slack), sc.TransportOf()), srv.Addr(), opts.Network)
	elapsed := time.Since(start)
	cancel()
	if ctx.Err() != nil {
		// The caller gave up on the run (SIGINT, say), whatever the
		// client made of it.
		j.Outcome.Interrupted = true
	}
	// Let the mock see the client's last bytes and its hang-up before the
	// mock is torn down, for at most Slack.
	settle(ctx, srv, opts.Slack)
	teardown := time.Now()
	if err := srv.Close(); err != nil {
		var f *mockpeer.Failure
		if errors.As(err, &f) {
			j.MockNotes = append(j.MockNotes, err.Error())
		}
	}
	j.Witness = witness(srv.Transcript(), teardown)
	j.Witness.Elapsed = elapsed
	if j.Outcome.Duration == 0 {
		j.Outcome.Duration = elapsed
	}
	j.Behaviour, j.Reasons = judge(sc.Expect, j.Outcome, &j.Witness, opts.ClientTimeout+opts.Slack, opts)
	return j
}

// settle waits until every connection the mock accepted has ended, d
// passes or ctx ends.
func settle(ctx context.Context, srv *mockpeer.Server, d time.Duration) {
	if srv.Finished() >= srv.Accepted() {
		return
	}
	limit := time.NewTimer(d)
	defer limit.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for srv.Finished() < srv.Accepted() {
		select {
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// How a witnessed connection ended (Witness.Closed).
const (
	closedClientFIN = "client-fin" // the client closed (or half-closed) first
	closedClientRST = "client-rst" // the client reset the connection, or it was gone when the mock wrote
	closedMockFIN   = "mock-fin"   // the mock's script closed it
	closedMockRST   = "mock-rst"   // the mock's script reset it
	closedOpen      = "open"       // still open when the run ended
)

// maxWitnessed bounds the commands a Witness keeps; the rest are counted.
const maxWitnessed = 256

// Witness is what the mock peer observed of one run: the facts a verdict
// rests on, whatever the client claims.
type Witness struct {
	// Connected: the mock accepted at least one connection.
	Connected bool
	// Connections is how many connections the mock accepted.
	Connections int
	// Received lists the commands the mock received from the client on
	// the connection judged (the one that went furthest in the
	// handshake), in order; frames the mock could not accept are
	// prefixed with "!". At most 256 are kept.
	Received []string
	// Dropped counts the commands received beyond those kept.
	Dropped int
	// Closed says how that connection ended: "client-fin", "client-rst",
	// "mock-fin", "mock-rst" or "open" (still open when the run ended);
	// "" when there was none.
	Closed string
	// Elapsed is the time from starting the client to its return, as the
	// harness measured it.
	Elapsed time.Duration
}

// witness derives the facts from a transcript; teardown is when the
// harness began closing the mock.
func witness(records []mockpeer.Record, teardown time.Time) Witness {
	type conn struct {
		cmds    []string
		dropped int
		closed  string
	}
	var conns []*conn
	byIndex := map[int]*conn{}
	for _, r := range records {
		c := byIndex[r.Conn]
		if c == nil {
			c = &conn{}
			byIndex[r.Conn] = c
			conns = append(conns, c)
		}
		switch {
		case r.Event == mockpeer.EventAccept:
		case r.Event == mockpeer.EventV2Key && !r.Out:
			// A v2 client's first step, which a mock that does not
			// speak v2 cannot decode.
			c.cmds = append(c.cmds, mockpeer.EventV2Key)
		case r.Event == "" && !r.Out:
			cmd := r.Command
			if r.Err != nil {
				cmd = "!" + cmd
			}
			if len(c.cmds) < maxWitnessed {
				c.cmds = append(c.cmds, cmd)
			} else {
				c.dropped++
			}
		case c.closed != "":
		case r.Event == "" && r.Out && r.Err != nil:
			c.closed = closedClientRST
		case r.Event == mockpeer.EventEOF && !r.Out:
			c.closed = closedClientFIN
		case r.Event == mockpeer.EventReset && !r.Out:
			c.closed = closedClientRST
		case r.Event == mockpeer.EventReset && r.Out:
			c.closed = closedMockRST
		case r.Event == mockpeer.EventClose && r.Out:
			c.closed = closedMockFIN
			if !r.Time.Before(teardown) {
				c.closed = closedOpen
			}
		case r.Event == mockpeer.EventError:
			c.closed = closedClientRST
		}
	}
	w := Witness{Connected: len(conns) > 0, Connections: len(conns)}
	best, bestScore := -1, -1
	for i, c := range conns {
		if s := progress(c.cmds); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best >= 0 {
		c := conns[best]
		w.Received, w.Dropped, w.Closed = c.cmds, c.dropped, c.closed
		if w.Closed == "" {
			w.Closed = closedOpen
		}
	}
	return w
}

// progress is how far cmds went in the handshake: 2 for version then
// verack, 1 for version, 0 otherwise.
func progress(cmds []string) int {
	n := 0
	for _, c := range cmds {
		if n == 0 && c == wire.CmdVersion || n == 1 && c == wire.CmdVerack {
			n++
		}
	}
	return n
}

// missing says what of want (in order) the mock did not receive, or "".
func (w *Witness) missing(want []string) string {
	i := 0
	for _, c := range w.Received {
		if i < len(want) && c == want[i] {
			i++
		}
	}
	if i == len(want) {
		return ""
	}
	got := "nothing"
	if len(w.Received) > 0 {
		got = w.receivedString(8)
	}
	if i == 0 {
		return fmt.Sprintf("the mock never received its %s (it received %s)", want[0], got)
	}
	return fmt.Sprintf("the mock never received its %s after its %s (it received %s)", want[i], want[i-1], got)
}

// receivedString lists at most n received commands.
func (w Witness) receivedString(n int) string {
	if len(w.Received) == 0 {
		return "-"
	}
	shown := w.Received[:min(n, len(w.Received))]
	s := strings.Join(shown, ",")
	if more := len(w.Received) - len(shown) + w.Dropped; more > 0 {
		s += fmt.Sprintf(",+%d", more)
	}
	return s
}

// String is a short human form: "no connection" or
// "version,verack; client-fin".
func (w Witness) String() string {
	if !w.Connected {
		return "no connection"
	}
	s := w.receivedString(6) + "; " + w.Closed
	if w.Connections > 1 {
		s += fmt.Sprintf("; %d connections", w.Connections)
	}
	return s
}
