package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Defaults of Options.
const (
	DefaultClientTimeout = 2 * time.Second
	DefaultSlack         = time.Second
	DefaultParallel      = 64
)

// Options configure a run.
type Options struct {
	// Network whose magic the mock peers speak (default regtest).
	Network wire.Network
	// ClientTimeout is the handshake timeout the client is configured with;
	// a failing verdict must come within ClientTimeout + Slack.
	ClientTimeout time.Duration
	// Slack is the extra time a failing client may take (default 1 s).
	Slack time.Duration
	// Parallel bounds how many scenarios run at once (default 64).
	Parallel int
	// ListenAddr is where each mock peer listens (default 127.0.0.1:0).
	ListenAddr string
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

// Run judges client against every scenario, at most opts.Parallel at a
// time, and returns the judgements in the scenarios' order.
func Run(ctx context.Context, client Client, scs []scenarios.Scenario, opts Options) []Judgement {
	opts = opts.withDefaults()
	out := make([]Judgement, len(scs))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, sc := range scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i] = Judgement{Scenario: sc.Name, Summary: sc.Summary, Expected: sc.Expect,
					Outcome: Outcome{Message: "not run: " + ctx.Err().Error()}, Reasons: []string{"not run"}}
				return
			}
			defer func() { <-sem }()
			out[i] = RunOne(ctx, client, sc, opts)
		}()
	}
	wg.Wait()
	return out
}

// RunOne starts a mock peer playing sc, points client at it and judges the
// outcome. What went wrong on the mock's side (a client that never sent
// its version, say) is kept in the judgement's MockNotes; the verdict
// depends on the client's outcome only.
func RunOne(ctx context.Context, client Client, sc scenarios.Scenario, opts Options) Judgement {
	opts = opts.withDefaults()
	j := Judgement{Scenario: sc.Name, Summary: sc.Summary, Expected: sc.Expect}
	if sc.Role != "" && sc.Role != scenarios.RoleNode {
		j.Reasons = []string{fmt.Sprintf("scenario %s plays a %s, not a node", sc.Name, sc.Role)}
		return j
	}
	var notesMu sync.Mutex
	srv := mockpeer.NewServer(
		mockpeer.WithNetwork(opts.Network),
		mockpeer.WithListenAddr(opts.ListenAddr),
		mockpeer.WithStepTimeout(opts.ClientTimeout+opts.Slack),
		mockpeer.WithFailHandler(func(message string, _ ...int) {
			notesMu.Lock()
			j.MockNotes = append(j.MockNotes, message)
			notesMu.Unlock()
		}),
	)
	srv.SetDefaultScript(sc.Script)
	limit := opts.ClientTimeout + opts.Slack + sc.Expect.Within
	// The client gets a little longer than its limit, so that an
	// overrunning client is measured, then stopped.
	cctx, cancel := context.WithTimeout(ctx, limit+opts.Slack)
	j.Outcome = client.Handshake(cctx, srv.Addr(), opts.Network)
	cancel()
	if err := srv.Close(); err != nil {
		var f *mockpeer.Failure
		if errors.As(err, &f) {
			j.MockNotes = append(j.MockNotes, err.Error())
		}
	}
	j.Reasons = Judge(sc.Expect, j.Outcome, limit)
	return j
}
