package harness

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Defaults of ProbeOptions.
const (
	// DefaultProbeParallel is how many probes run at once. btcd admits at
	// most 8 unfinished inbound handshakes per source /24, and every
	// connection from a Docker host to a container comes from one source.
	DefaultProbeParallel = 4
	// DefaultTimeoutSlack is how long after the node's peer timeout a slow
	// probe still waits for the disconnection.
	DefaultTimeoutSlack = 3 * time.Second
)

// PeerTimeoutOf returns a profile's peer timeout: how long the node waits
// for a silent or verack-less peer (Core's -peertimeout default, btcd's
// negotiate timeout).
func PeerTimeoutOf(profile string) time.Duration {
	if profile == scenarios.ProfileBtcd {
		return mockpeer.BtcdNegotiateTimeout
	}
	return mockpeer.CorePeerTimeout
}

// ProbeOptions configure RunProbesWith.
type ProbeOptions struct {
	// Network is the node's network (default regtest).
	Network wire.Network
	// Profile names the expectations to judge by (scenarios.ProfileCore,
	// ProfileCoreV2, ProfileBtcd; default core).
	Profile string
	// Observe is how long each probe watches the connection after its last
	// message (default scenarios.DefaultProbeObserve).
	Observe time.Duration
	// PeerTimeout is the node's peer timeout, for the slow probes (default
	// PeerTimeoutOf(Profile); set it to what a bitcoind runs with as
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
	// StepTimeout bounds each step of a probe's setup (default 5 s).
	StepTimeout time.Duration
}

func (o ProbeOptions) withDefaults(addr string) ProbeOptions {
	if o.Network == 0 {
		o.Network = wire.Regtest
	}
	if o.Profile == "" {
		o.Profile = scenarios.ProfileCore
	}
	if o.Observe <= 0 {
		o.Observe = scenarios.DefaultProbeObserve
	}
	if o.PeerTimeout <= 0 {
		o.PeerTimeout = PeerTimeoutOf(o.Profile)
	}
	if o.TimeoutSlack <= 0 {
		o.TimeoutSlack = DefaultTimeoutSlack
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultProbeParallel
	}
	if o.StepTimeout <= 0 {
		o.StepTimeout = mockpeer.DefaultStepTimeout
	}
	if o.LocalAddr == nil {
		o.LocalAddr = DefaultProbeLocalAddr(addr)
	}
	return o
}

// DefaultProbeLocalAddr is ProbeOptions' default LocalAddr for a node at addr.
func DefaultProbeLocalAddr(addr string) func(i int) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return func(int) string { return "" }
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().Is4() || !ip.IsLoopback() || runtime.GOOS != "linux" {
		return func(int) string { return "" }
	}
	return func(i int) string {
		n := i + 1
		return fmt.Sprintf("127.%d.%d.1:0", (n/254)%256, 1+n%254)
	}
}

// ObservedFrame is one frame the node sent during the observation.
type ObservedFrame struct {
	// Command is the frame's command ("" for bytes that are not a v1 frame).
	Command string `json:"command"`
	// Token is the frame as Summary shows it: the command, a reject's
	// rejected command and code, whether a pong echoes our nonce.
	Token string `json:"token"`
	// Err says why the frame was broken, if it was.
	Err string `json:"error,omitempty"`
}

// Observation is what a probe saw the node do after the probe's last
// message: the frames it sent and how the connection ended.
type Observation struct {
	// Frames the node sent, in order.
	Frames []ObservedFrame `json:"frames"`
	// Closed: the node closed or reset the connection.
	Closed bool `json:"closed"`
	// ClosedAfter is when, counted from the probe's last message.
	ClosedAfter time.Duration `json:"-"`
	// Watched is how long the connection was watched.
	Watched time.Duration `json:"-"`
	// PeerTimeout is the node's peer timeout the observation was made
	// with; a close after 80 % of it counts as the peer timeout's.
	PeerTimeout time.Duration `json:"-"`
	// LocalAddr is the probe's end of the connection.
	LocalAddr string `json:"local_addr,omitempty"`
	// Note is the probe script's own failure, if any (for example a
	// setup step that waited for a verack the node never sent); it
	// explains, it does not judge.
	Note string `json:"note,omitempty"`
	// pingNonce is the nonce of the probe's last ping, if it sent one.
	pingNonce *uint64
}

// End is how the connection ended, as a scenarios.End.
func (o Observation) End() scenarios.End {
	switch {
	case !o.Closed:
		return scenarios.EndOpen
	case o.PeerTimeout > 0 && o.ClosedAfter >= o.PeerTimeout-o.PeerTimeout/5:
		return scenarios.EndTimeout
	}
	return scenarios.EndClosed
}

// Summary is the observation in one canonical line, e.g. "reject(verack/0x12)
// → closed" or "nothing → open". Two nodes that react alike to a probe have
// the same summary.
func (o Observation) Summary() string {
	what := "nothing"
	if len(o.Frames) > 0 {
		toks := make([]string, 0, len(o.Frames))
		for _, f := range o.Frames {
			if len(toks) > 0 && f.Token == toks[len(toks)-1] && f.Command == "" {
				continue // one run of non-v1 bytes
			}
			toks = append(toks, f.Token)
		}
		what = strings.Join(toks, " ")
	}
	return what + " → " + string(o.End())
}

// MarshalJSON adds the summary and the durations in milliseconds.
func (o Observation) MarshalJSON() ([]byte, error) {
	type plain Observation
	return json.Marshal(struct {
		plain
		Summary       string  `json:"summary"`
		End           string  `json:"end"`
		ClosedAfterMS float64 `json:"closed_after_ms,omitempty"`
		WatchedMS     float64 `json:"watched_ms"`
	}{plain(o), o.Summary(), string(o.End()), ms(o.ClosedAfter), ms(o.Watched)})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (o Observation) commands() []string {
	var out []string
	for _, f := range o.Frames {
		if f.Command != "" && f.Err == "" {
			out = append(out, f.Command)
		}
	}
	return out
}

func (o Observation) nonV1() bool {
	return slices.ContainsFunc(o.Frames, func(f ObservedFrame) bool { return f.Command == "" })
}

// JudgeProbe compares an observation with the expected reaction and returns
// the reasons it falls short; none means the node reacted as expected.
func JudgeProbe(r scenarios.Reaction, o Observation) []string {
	var reasons []string
	cmds := o.commands()
	if r.Silent && len(o.Frames) > 0 {
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

// ProbeJudgement is one probe run against a node, judged.
type ProbeJudgement struct {
	Probe   string `json:"probe"`
	Rule    string `json:"rule"`
	Summary string `json:"summary"`
	Profile string `json:"profile"`
	// Expected is the profile's reaction; HasExpectation is false when the
	// probe has none for this profile (the probe is then not judged).
	Expected       scenarios.Reaction `json:"-"`
	HasExpectation bool               `json:"-"`
	// Observation is what the node did; zero when the probe was skipped.
	Observation Observation `json:"observation"`
	// Reasons the node fell short; empty when it reacted as expected.
	Reasons []string `json:"reasons,omitempty"`
	// Skipped says why the probe did not run.
	Skipped string `json:"skipped,omitempty"`
	// Duration is the probe's wall time.
	Duration time.Duration `json:"-"`
}

// Passed reports whether the node reacted as the profile expects (a
// skipped probe has not failed).
func (j ProbeJudgement) Passed() bool { return len(j.Reasons) == 0 }

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
		DurationMS float64 `json:"duration_ms"`
	}{"probe", plain(j), exp, j.Passed(), ms(j.Duration)})
}

// RunProbes runs probes (all of scenarios.AllProbes when none are given)
// against the node at addr on network n and judges each against the
// profile's expected reaction, with the default options. Judgements come
// back in the probes' order.
func RunProbes(ctx context.Context, addr string, n wire.Network, profile string, probes ...scenarios.Probe) []ProbeJudgement {
	return RunProbesWith(ctx, addr, ProbeOptions{Network: n, Profile: profile}, probes...)
}

// RunProbesWith is RunProbes with options.
func RunProbesWith(ctx context.Context, addr string, opts ProbeOptions, probes ...scenarios.Probe) []ProbeJudgement {
	if len(probes) == 0 {
		probes = scenarios.AllProbes()
	}
	opts = opts.withDefaults(addr)
	out := make([]ProbeJudgement, len(probes))
	sem := make(chan struct{}, opts.Parallel)
	var wg sync.WaitGroup
	for i, p := range probes {
		exp, ok := p.ExpectFor(opts.Profile)
		j := ProbeJudgement{Probe: p.Name, Rule: p.Rule, Summary: p.Summary, Profile: opts.Profile,
			Expected: exp, HasExpectation: ok}
		switch {
		case p.Slow && opts.SkipSlow:
			j.Skipped = "waits for the peer timeout (slow probes skipped)"
			out[i] = j
			continue
		case ctx.Err() != nil:
			j.Skipped = "not run: " + ctx.Err().Error()
			out[i] = j
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			j.Observation = ObserveProbe(ctx, addr, p, opts, opts.LocalAddr(i))
			j.Duration = time.Since(start)
			if !ok {
				j.Skipped = "no expectation for profile " + opts.Profile
			} else {
				j.Reasons = JudgeProbe(exp, j.Observation)
			}
			out[i] = j
		})
	}
	wg.Wait()
	return out
}

// ObserveProbe plays one probe against addr from localAddr ("" for any)
// and returns what the node did after the probe's last message. opts must
// have its defaults filled in (RunProbesWith does).
func ObserveProbe(ctx context.Context, addr string, p scenarios.Probe, opts ProbeOptions, localAddr string) Observation {
	watch := opts.Observe
	peerTimeout := opts.PeerTimeout
	if p.Slow {
		watch = opts.PeerTimeout + opts.TimeoutSlack
	}
	// The probe's script, then the watch: HoldOpen reads (and records)
	// until the node closes or the time is up, and never fails.
	script := p.Script.Then(mockpeer.HoldOpen().Within(watch))
	dialOpts := []mockpeer.Option{
		mockpeer.WithNetwork(opts.Network),
		mockpeer.WithStepTimeout(opts.StepTimeout),
		mockpeer.WithFailHandler(func(string, ...int) {}),
	}
	if localAddr != "" {
		dialOpts = append(dialOpts, mockpeer.WithLocalAddr(localAddr))
	}
	// Every step has its own deadline, but connecting has none but ctx's:
	// bound the whole probe, so one stuck connection cannot hold a run.
	ctx, cancel := context.WithTimeout(ctx, watch+time.Duration(p.Script.Len()+2)*opts.StepTimeout)
	defer cancel()
	sess, err := mockpeer.Dial(ctx, addr, script, dialOpts...)
	o := observe(sess.Transcript(), peerTimeout)
	o.LocalAddr = sess.LocalAddr()
	if err != nil {
		o.Note = err.Error()
	}
	return o
}

const (
	tokPongSame  = "pong(same nonce)"
	tokPongOther = "pong(other nonce)"
	tokNonV1     = "non-v1 bytes"
)

// observe reads a probe's transcript: the reaction is everything after the
// probe's last successful write (or the dial, when it wrote nothing).
func observe(records []mockpeer.Record, peerTimeout time.Duration) Observation {
	o := Observation{PeerTimeout: peerTimeout}
	from := -1
	for i, r := range records {
		switch {
		case r.Dir == mockpeer.Out && r.Event == mockpeer.EventDial:
			from = i
		case r.Dir == mockpeer.Out && r.Event == "" && r.Err == nil:
			from = i
			if r.Command == wire.CmdPing && len(r.Payload) >= 8 {
				n := binary.LittleEndian.Uint64(r.Payload)
				o.pingNonce = &n
			}
		}
	}
	if from < 0 {
		o.Closed = true // never connected
		return o
	}
	start := records[from].Time
	last := start
	for _, r := range records[from+1:] {
		last = r.Time
		switch {
		case r.Dir == mockpeer.In && r.Event == "":
			o.Frames = append(o.Frames, observedFrame(r, o.pingNonce))
		case r.Dir == mockpeer.In && (r.Event == mockpeer.EventEOF || r.Event == mockpeer.EventReset):
			if !o.Closed {
				o.Closed, o.ClosedAfter = true, r.Time.Sub(start)
			}
		case r.Dir == mockpeer.Out && r.Err != nil && peerGone(r.Err):
			// A write the node answered with a reset.
			if !o.Closed {
				o.Closed, o.ClosedAfter = true, r.Time.Sub(start)
			}
		}
	}
	o.Watched = last.Sub(start)
	return o
}

func peerGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

func observedFrame(r mockpeer.Record, pingNonce *uint64) ObservedFrame {
	f := ObservedFrame{Command: r.Command, Token: r.Command}
	if r.Err != nil {
		f.Err = r.Err.Error()
		if errors.Is(r.Err, wire.ErrBadMagic) {
			f.Command, f.Token = "", tokNonV1
			return f
		}
		f.Token = r.Command + "(broken)"
		return f
	}
	switch r.Command {
	case wire.CmdReject:
		f.Token = rejectToken(r.Payload)
	case wire.CmdPong:
		f.Token = tokPongOther
		if pingNonce != nil && len(r.Payload) >= 8 && binary.LittleEndian.Uint64(r.Payload) == *pingNonce {
			f.Token = tokPongSame
		}
	}
	return f
}

// rejectToken renders a reject as reject(<rejected command>/<code>).
func rejectToken(p []byte) string {
	if len(p) < 1 || int(p[0]) >= 0xfd || len(p) < 1+int(p[0])+1 {
		return "reject"
	}
	n := int(p[0])
	return fmt.Sprintf("reject(%s/0x%02x)", p[1:1+n], p[1+n])
}

// ProbeCounts returns how many judgements passed, failed and were skipped.
func ProbeCounts(js []ProbeJudgement) (passed, failed, skipped int) {
	for _, j := range js {
		switch {
		case !j.Passed():
			failed++
		case j.Skipped != "":
			skipped++
		default:
			passed++
		}
	}
	return passed, failed, skipped
}

// WriteProbeTable writes a human table: probe, rule, expected, observed,
// verdict; then the reasons of failures and a closing count line.
func WriteProbeTable(w io.Writer, js []ProbeJudgement) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tRULE\tEXPECTED\tOBSERVED\tVERDICT")
	for _, j := range js {
		exp := "-"
		if j.HasExpectation {
			exp = j.Expected.String()
		}
		obs, verdict := j.Observation.Summary(), "pass"
		switch {
		case !j.Passed():
			verdict = "FAIL"
		case j.Skipped != "":
			verdict = "skip"
			if j.Observation.LocalAddr == "" {
				obs = "-"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.Probe, j.Rule, exp, obs, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, j := range js {
		if !j.Passed() {
			fmt.Fprintf(w, "\n%s: %s\n", j.Probe, strings.Join(j.Reasons, "; "))
			if j.Observation.Note != "" {
				fmt.Fprintf(w, "  probe note: %s\n", j.Observation.Note)
			}
		}
	}
	p, f, s := ProbeCounts(js)
	profile := ""
	if len(js) > 0 {
		profile = " (profile " + js[0].Profile + ")"
	}
	_, err := fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped%s\n", p, f, s, profile)
	return err
}

// WriteProbeNDJSON writes one JSON object per judgement, then a summary
// object {"type":"summary","passed":..,"failed":..,"skipped":..}.
func WriteProbeNDJSON(w io.Writer, js []ProbeJudgement) error {
	enc := json.NewEncoder(w)
	for _, j := range js {
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	p, f, s := ProbeCounts(js)
	return enc.Encode(map[string]any{"type": "summary", "passed": p, "failed": f, "skipped": s})
}
