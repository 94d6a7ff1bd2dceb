package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/btc-handshake/btc-handshake/internal/loopback"
	"github.com/btc-handshake/btc-handshake/internal/ndjson"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// ProbeOptions configure RunProbes.
type ProbeOptions struct {
	// Network is the node's network (default regtest).
	Network wire.Network
	// Model is the node model whose expectations the node is judged by
	// (default scenarios.ModelCore).
	Model scenarios.Model
	// Observe is how long each probe watches the connection after its last
	// message (default DefaultObserve).
	Observe time.Duration
	// PeerTimeout is the node's peer timeout, for the slow probes (default
	// Model.PeerTimeout(); set it to what a bitcoind runs with as
	// -peertimeout).
	PeerTimeout time.Duration
	// TimeoutSlack is how long after PeerTimeout a slow probe keeps waiting
	// (default DefaultTimeoutSlack).
	TimeoutSlack time.Duration
	// SkipSlow leaves out the probes that wait for the peer timeout.
	SkipSlow bool
	// Parallel is how many probes run at once (default DefaultProbeParallel).
	Parallel int
	// LocalAddr gives the local address of the i-th probe's connection
	// ("" for the system's choice). By default, when the node is on an
	// IPv4 loopback address on Linux, probe i binds 127.0.i+1.1: each probe
	// from its own /24, so btcd's per-source limit never bites, and never
	// from 127.0.0.1, which btcd on regtest treats specially.
	LocalAddr func(i int) string
	// StepTimeout bounds each step of a probe's setup and follow-up
	// (default 5 s).
	StepTimeout time.Duration
	// Started, when set, is called as probe i starts, with how long it
	// will watch the connection after its message (for a slow probe, the
	// peer timeout and its slack), for progress reports. Calls come one at
	// a time, in the order the probes start.
	Started func(i int, p scenarios.Probe, watch time.Duration)
}

func (o ProbeOptions) withDefaults(addr string) ProbeOptions {
	if o.Network == 0 {
		o.Network = wire.Regtest
	}
	if o.Model == "" {
		o.Model = scenarios.ModelCore
	}
	if o.Observe <= 0 {
		o.Observe = DefaultObserve
	}
	if o.PeerTimeout <= 0 {
		o.PeerTimeout = o.Model.PeerTimeout()
	}
	if o.TimeoutSlack <= 0 {
		o.TimeoutSlack = DefaultTimeoutSlack
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultProbeParallel
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = 5 * time.Second // mockpeer's default step timeout
	}
	if o.LocalAddr == nil {
		o.LocalAddr = loopback.Sources(addr)
	}
	return o
}

// Judge compares the observation with the expected reaction and returns
// the reasons it falls short; none means the node reacted as expected. An
// expected open connection also needs the follow-up answered, when one was
// played. An observation with an Error is not a reaction: do not judge it.
func (o Observation) Judge(r scenarios.Expectation) []string {
	var reasons []string
	cmds := o.commands()
	if r.Silent && (len(o.Frames) > 0 || o.MoreFrames > 0) {
		reasons = append(reasons, fmt.Sprintf("expected no reply, got %s", o.Summary()))
	}
	if r.NonV1 && !o.nonV1() {
		reasons = append(reasons, "expected bytes that are not a v1 frame (a BIP324 key), got "+o.Summary())
	}
	if len(r.Sends) > 0 && !subsequence(r.Sends, cmds) {
		reasons = append(reasons, fmt.Sprintf("expected %s in this order, got %s", strings.Join(r.Sends, ", "), o.Summary()))
	}
	if r.Only != nil && !r.Silent {
		for _, f := range o.Frames {
			if f.Command == "" || f.Err != "" || (!slices.Contains(r.Sends, f.Command) && !slices.Contains(r.Only, f.Command)) {
				reasons = append(reasons, fmt.Sprintf("unexpected %s (got %s)", f.Token, o.Summary()))
				break
			}
		}
	}
	if r.EchoNonce && !slices.ContainsFunc(o.Frames, func(f ObservedFrame) bool { return f.Token == tokPongSame }) {
		reasons = append(reasons, "expected a pong with the nonce of our ping, got "+o.Summary())
	}
	if r.End != "" && o.End() != r.End {
		reasons = append(reasons, fmt.Sprintf("expected the connection %s, it was %s", r.End, o.End()))
	}
	if r.End == scenarios.EndOpen && o.End() == scenarios.EndOpen && o.followUpFailed() {
		reasons = append(reasons, "the node sent nothing and kept the connection, but did not answer the probe's follow-up, as a hung or mute node would not: "+
			strings.TrimPrefix(o.FollowUp, followUpNoAnswer))
	}
	return reasons
}

// subsequence reports whether want appears in got in order.
func subsequence(want, got []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// Verdicts of a ProbeJudgement.
const (
	verdictPass  = "pass"
	verdictFail  = "fail"
	verdictError = "error"
	verdictSkip  = "skip"
)

// ProbeJudgement is one probe run against a node, judged.
type ProbeJudgement struct {
	Probe   string `json:"probe"`
	Rule    string `json:"rule"`
	Summary string `json:"summary"`
	// Model is the node model the node was judged by (its JSON key is
	// "profile", as conform's --profile).
	Model scenarios.Model `json:"profile"`
	// Expected is the model's reaction; HasExpectation is false when the
	// probe has none for this model (the probe is then not judged).
	Expected       scenarios.Expectation `json:"-"`
	HasExpectation bool                  `json:"-"`
	// Observation is what the node did; zero when the probe was skipped.
	// Its Error, when set, makes the verdict error.
	Observation Observation `json:"observation"`
	// Reasons the node fell short; empty when it reacted as expected.
	Reasons []string `json:"reasons,omitempty"`
	// Skipped says why the probe did not run.
	Skipped string `json:"skipped,omitempty"`
	// Duration is the probe's wall time.
	Duration time.Duration `json:"-"`
}

// Passed reports whether the node reacted as the model expects: the
// probe's setup worked and the reaction fell short in nothing (a skipped
// probe has not failed).
func (j ProbeJudgement) Passed() bool { return len(j.Reasons) == 0 && j.Observation.Error == "" }

// Verdict is "skip", "error" (the probe could not observe a reaction),
// "fail" or "pass".
func (j ProbeJudgement) Verdict() string {
	switch {
	case j.Skipped != "" && j.Observation.Error == "":
		return verdictSkip
	case j.Observation.Error != "":
		return verdictError
	case len(j.Reasons) > 0:
		return verdictFail
	}
	return verdictPass
}

// MarshalJSON adds the expected reaction and the verdict.
func (j ProbeJudgement) MarshalJSON() ([]byte, error) {
	type plain ProbeJudgement
	exp := ""
	if j.HasExpectation {
		exp = j.Expected.String()
	}
	return json.Marshal(struct {
		Type string `json:"type"`
		plain
		Expected   string  `json:"expected"`
		Passed     bool    `json:"passed"`
		Verdict    string  `json:"verdict"`
		DurationMS float64 `json:"duration_ms"`
	}{"probe", plain(j), exp, j.Passed(), j.Verdict(), ms(j.Duration)})
}

// ProbeJudgements are the judgements of a run of probes, in the probes'
// order.
type ProbeJudgements []ProbeJudgement

// RunProbes plays probes against the node at addr and judges each against
// the expected reaction of opts.Model; with no probes, the model's
// (Model.Probes). Judgements come back in the probes' order.
func RunProbes(ctx context.Context, addr string, opts ProbeOptions, probes ...scenarios.Probe) ProbeJudgements {
	opts = opts.withDefaults(addr)
	if len(probes) == 0 {
		probes = opts.Model.Probes()
	}
	out := make(ProbeJudgements, len(probes))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, p := range probes {
		exp, ok := p.ExpectFor(opts.Model)
		j := ProbeJudgement{Probe: p.Name, Rule: p.Rule, Summary: p.Summary, Model: opts.Model,
			Expected: exp, HasExpectation: ok}
		if p.Slow && opts.SkipSlow {
			j.Skipped = "waits for the peer timeout (slow probes skipped)"
			out[i] = j
			continue
		}
		if !ok {
			// Nothing to judge (a v2 probe that needs a finished v2
			// handshake, against a v1-only model): not worth a
			// connection, and its setup would fail.
			j.Skipped = "no expectation for profile " + string(opts.Model)
			out[i] = j
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			j.Skipped = "not run: " + ctx.Err().Error()
			out[i] = j
			continue
		}
		if opts.Started != nil {
			opts.Started(i, p, opts.watchOf(p))
		}
		wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			j.Observation = observeProbe(ctx, addr, p, opts, opts.LocalAddr(i))
			j.Duration = time.Since(start)
			if j.Observation.Error == "" {
				j.Reasons = j.Observation.Judge(exp)
			}
			out[i] = j
		})
	}
	wg.Wait()
	return out
}

// watchOf is how long a probe watches the connection after its message.
func (o ProbeOptions) watchOf(p scenarios.Probe) time.Duration {
	if p.Slow {
		return o.PeerTimeout + o.TimeoutSlack
	}
	return o.Observe
}

// errNoFollowUp ends a probe's script after the observation when the node
// reacted: the follow-up is only for a node that did not.
var errNoFollowUp = errors.New("the node reacted: no follow-up")

const followUpNoAnswer = "no answer: "

// observeProbe plays one probe against addr from localAddr ("" for any)
// and returns what the node did after the probe's last message. When the
// node sent nothing and kept the connection, the probe's follow-up
// (scenarios.Probe.Alive) then checks that it still answers. opts must
// have its defaults filled in (RunProbes does).
func observeProbe(ctx context.Context, addr string, p scenarios.Probe, opts ProbeOptions, localAddr string) Observation {
	watch := opts.watchOf(p)
	// The probe's script, then the watch: HoldOpen reads (and records)
	// until the node closes or the time is up, and never fails.
	steps := []mockpeer.Step{mockpeer.HoldOpen().Within(watch)}
	cut := -1 // where the follow-up's records start
	if len(p.Alive) > 0 {
		steps = append(steps, mockpeer.Do(func(c *mockpeer.Conn) error {
			recs := c.Transcript()
			if !silentAndOpen(recs) {
				return errNoFollowUp
			}
			cut = len(recs)
			return nil
		}))
		steps = append(steps, p.Alive...)
	}
	script := p.Script.Then(steps...)
	dialOpts := []mockpeer.Option{
		mockpeer.WithNetwork(opts.Network),
		mockpeer.WithStepTimeout(opts.StepTimeout),
		mockpeer.WithFailHandler(func(string, ...int) {}),
		mockpeer.WithRecording(mockpeer.Recording{Frames: probeRecordFrames, Payload: probeRecordPayload}),
	}
	if localAddr != "" {
		dialOpts = append(dialOpts, mockpeer.WithAddr(localAddr))
	}
	// Every step has its own deadline, but connecting has none but ctx's:
	// bound the whole probe, so one stuck connection cannot hold a run.
	pctx, cancel := context.WithTimeout(ctx, watch+time.Duration(script.Len()+2)*opts.StepTimeout)
	defer cancel()
	sess, err := mockpeer.Dial(pctx, addr, script, dialOpts...)
	recs := sess.Transcript()
	if cut >= 0 && cut <= len(recs) {
		recs = recs[:cut]
	}
	o := observe(recs, opts.PeerTimeout)
	o.LocalAddr = sess.LocalAddr()
	if err == nil {
		if cut >= 0 {
			o.FollowUp = followUpAnswered
		}
		return o
	}
	o.Note = err.Error()
	f, ok := errors.AsType[*mockpeer.Failure](err)
	switch {
	case ctx.Err() != nil:
		o.Error = "interrupted: " + ctx.Err().Error()
	case !ok:
		o.Error = "cannot connect: " + connectReason(err)
	case errors.Is(f.Err, mockpeer.ErrCutOff):
		o.Error = "the probe ran out of time (" + f.Step + ")"
	case f.StepIndex <= p.Script.Len():
		o.Error = fmt.Sprintf("setup failed before the probe's message was observed: step %d of %d, %s: %v",
			f.StepIndex, p.Script.Len(), f.Step, f.Err)
	case errors.Is(f.Err, errNoFollowUp):
		o.Note = ""
	case cut >= 0:
		o.FollowUp = fmt.Sprintf("%s%s: %v", followUpNoAnswer, f.Step, f.Err)
	}
	return o
}

// connectReason is the innermost reason a dial failed, e.g. "connection
// refused" or "i/o timeout".
func connectReason(err error) string {
	if se, ok := errors.AsType[*os.SyscallError](err); ok {
		return se.Err.Error()
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// Counts returns how many judgements passed, failed, could not observe a
// reaction (error) and were skipped.
func (js ProbeJudgements) Counts() (passed, failed, errored, skipped int) {
	for _, j := range js {
		switch j.Verdict() {
		case verdictFail:
			failed++
		case verdictError:
			errored++
		case verdictSkip:
			skipped++
		default:
			passed++
		}
	}
	return passed, failed, errored, skipped
}

// WriteTable writes a human table: probe, rule, expected, observed,
// verdict; then the reasons of failures and errors and a closing count
// line. Whatever the node chose (commands, reject reasons, errors quoting
// them) is escaped.
func (js ProbeJudgements) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tRULE\tEXPECTED\tOBSERVED\tVERDICT")
	for _, j := range js {
		exp := "-"
		if j.HasExpectation {
			exp = j.Expected.String()
		}
		obs, verdict := j.Observation.Summary(), "pass"
		switch j.Verdict() {
		case verdictFail:
			verdict = "FAIL"
		case verdictError:
			verdict, obs = "ERROR", "-"
		case verdictSkip:
			verdict = "skip"
			if j.Observation.LocalAddr == "" {
				obs = "-"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", escapeText(j.Probe), escapeText(j.Rule), escapeText(exp), escapeText(obs), verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, j := range js {
		switch j.Verdict() {
		case verdictFail:
			fmt.Fprintf(w, "\n%s: %s\n", escapeText(j.Probe), escapeText(strings.Join(j.Reasons, "; ")))
			if j.Observation.Note != "" {
				fmt.Fprintf(w, "  probe note: %s\n", escapeText(j.Observation.Note))
			}
		case verdictError:
			fmt.Fprintf(w, "\n%s: error: %s\n", escapeText(j.Probe), escapeText(j.Observation.Error))
		}
	}
	p, f, e, s := js.Counts()
	profile := ""
	if len(js) > 0 {
		profile = " (profile " + escapeText(string(js[0].Model)) + ")"
	}
	errs := ""
	if e > 0 {
		errs = fmt.Sprintf(", %d errors", e)
	}
	_, err := fmt.Fprintf(w, "\n%d passed, %d failed%s, %d skipped%s\n", p, f, errs, s, profile)
	return err
}

// WriteNDJSON writes one JSON object per judgement, then the summary
// {"type":"summary","command":"conform","total","passed","failed","skipped",
// "errors","elapsed_ms"}; elapsed is the run's wall time.
func (js ProbeJudgements) WriteNDJSON(w io.Writer, elapsed time.Duration) error {
	enc := json.NewEncoder(w)
	for _, j := range js {
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	p, f, e, s := js.Counts()
	return enc.Encode(runSummary{Summary: ndjson.Summary{Type: "summary", Command: "conform", Total: len(js),
		Passed: p, Failed: f, Skipped: s, ElapsedMS: ms(elapsed)}, Errors: &e})
}
