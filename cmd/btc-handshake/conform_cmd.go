package main

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
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// conformLong is conform's help.
const conformLong = `Play every conformance probe (or those named with --probe) against the node
at host:port, as a client, and compare each observed reaction (what the node
sends after the probe's last message, and whether it keeps the connection)
with the reaction the profile expects:

  core     Bitcoin Core v30 with -v2transport=0
  core-v2  Bitcoin Core v30 with -v2transport=1 (its default)
  btcd     btcd v0.26.2
  btcd-v2  btcd v0.26.2 with --v2transport

The v1 probes speak v1 (or send bytes that are neither). The v2 probes play a
BIP324 client: garbage of 0, 4095 and 4096 bytes, a wrong terminator, a
tampered AAD, decoys, v1 detection, an oversized packet, an unknown short id,
a rekey; each cites its Bitcoin Core test case or BIP324 rule (--list), and
what the node sends after the v2 handshake is judged decrypted. --transport
picks the probes: v1, v2 or all; by default the profile's: v1 for core and
btcd, all (v1 then v2) for core-v2 and btcd-v2. The v2 probes that need a
finished v2 handshake have no expectation for a v1-only profile: skipped.

Some probes wait for the node's peer timeout (btcd: 30 s, Core: -peertimeout,
60 s by default): set --peer-timeout to the node's, or skip them with --fast.
Probes run a few at a time, each from its own loopback /24 when the node is on
loopback (btcd admits at most 8 unfinished handshakes per /24).

A probe whose setup fails (the node never sends the version or verack the
probe needs, a write fails before the probe's message) is an error, not a
verdict on the node. A probe where the node sends nothing and keeps the
connection then checks that the node still answers (a ping gets its pong,
our version gets the node's version): a hung or mute node passes no probe.
A probe keeps at most 64 of the frames a node sends and counts the rest.

When stderr is a terminal, progress goes there (probe N of M, and which
probe waits for the node's peer timeout).

Exit status: 0 when the node reacts as the profile expects to every probe,
1 when it does not or a probe could not run (error), 2 for usage errors and
for a node that cannot be reached.`

// conformExample is conform's examples.
const conformExample = `  btc-handshake conform 127.0.0.1:18444 -n regtest --profile btcd
  btc-handshake conform 127.0.0.1:18444 --profile core --peer-timeout 5s --json
  btc-handshake conform 127.0.0.1:18444 --profile btcd-v2 --transport v2 --fast
  btc-handshake conform 127.0.0.1:18444 --probe ping-before-verack --probe wrong-magic --fast`

// conformOptions are conform's flags.
type conformOptions struct {
	network, profile  string
	transport         string
	names             []string
	asJSON, fast      bool
	observe, peerTime time.Duration
	parallel          int
	list              bool
}

func newConformCmd() *cobra.Command {
	var o conformOptions
	cmd := &cobra.Command{
		Use:     "conform <host:port>",
		Short:   "Probe a node's handshake and compare what it does with a node profile",
		Long:    conformLong,
		Example: conformExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.list {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.list {
				return listProbes(cmd, o.asJSON)
			}
			return o.run(cmd, args[0])
		},
	}
	o.register(cmd.Flags())
	return cmd
}

func (o *conformOptions) register(fl *pflag.FlagSet) {
	fl.StringVarP(&o.network, "network", "n", "regtest", "the node's network")
	fl.StringVar(&o.profile, "profile", string(scenarios.ModelCore), "expected behaviour: "+modelNames())
	fl.StringArrayVar(&o.names, "probe", nil, "probe to run (repeatable; default: all of --transport)")
	fl.StringVar(&o.transport, "transport", "", "probes to run: v1, v2 (a BIP324 client) or all; the profile's is v1 for core and btcd, all for core-v2 and btcd-v2")
	fl.Lookup("transport").DefValue = "the profile's"
	fl.BoolVar(&o.asJSON, "json", false, "print NDJSON (one object per probe, then a summary) instead of a table")
	fl.BoolVar(&o.fast, "fast", false, "skip the probes that wait for the node's peer timeout")
	fl.DurationVar(&o.observe, "observe", harness.DefaultObserve, "how long to watch the connection after a probe's last message")
	fl.DurationVar(&o.peerTime, "peer-timeout", 0, "the node's peer timeout (default: the profile's, btcd 30s, Core 60s)")
	fl.Lookup("peer-timeout").DefValue = "the profile's"
	fl.IntVar(&o.parallel, "parallel", harness.DefaultProbeParallel, "probes run at once (1 to 8)")
	fl.BoolVar(&o.list, "list", false, "list the probes and each profile's expected reaction, then exit")
}

// run plays the probes the flags select against the node at addr and
// reports.
func (o *conformOptions) run(cmd *cobra.Command, addr string) error {
	opts, probes, err := o.plan(cmd, addr)
	if err != nil {
		return err
	}
	if err := reachable(cmd.Context(), addr); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	var prog *probeProgress
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		prog = &probeProgress{w: f, total: len(probes)}
		opts.Started = prog.started
	}
	start := time.Now()
	js := harness.RunProbes(cmd.Context(), addr, opts, probes...)
	prog.done()
	if err := unreachable(addr, js); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	out := cmd.OutOrStdout()
	if o.asJSON {
		err = js.WriteNDJSON(out, time.Since(start))
	} else {
		err = js.WriteTable(out)
	}
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	if cmd.Context().Err() != nil {
		return &exitError{code: exitFailed, err: cmd.Context().Err()}
	}
	return o.verdict(addr, js)
}

// plan validates the flags and the node's address: the options of the run
// and the probes to play.
func (o *conformOptions) plan(cmd *cobra.Command, addr string) (harness.ProbeOptions, []scenarios.Probe, error) {
	n, err := wire.ParseNetwork(o.network)
	if err != nil {
		return harness.ProbeOptions{}, nil, usageErr("%v", err)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return harness.ProbeOptions{}, nil, usageErr("node address %q: want host:port", addr)
	}
	model := scenarios.Model(o.profile)
	if !slices.Contains(scenarios.Models(), model) {
		return harness.ProbeOptions{}, nil, usageErr("unknown profile %q (want %s)", o.profile, modelNames())
	}
	if o.parallel < 1 || o.parallel > 8 {
		return harness.ProbeOptions{}, nil, usageErr("--parallel must be between 1 and 8 (btcd admits 8 unfinished handshakes per /24)")
	}
	if o.observe <= 0 {
		return harness.ProbeOptions{}, nil, usageErr("--observe must be positive")
	}
	if cmd.Flags().Changed("peer-timeout") && o.peerTime <= 0 {
		return harness.ProbeOptions{}, nil, usageErr("--peer-timeout must be positive")
	}
	probes, err := selectProbes(model, o.transport, o.names)
	if err != nil {
		return harness.ProbeOptions{}, nil, err
	}
	return harness.ProbeOptions{
		Network: n, Model: model, Observe: o.observe, PeerTimeout: o.peerTime,
		SkipSlow: o.fast, Parallel: o.parallel,
	}, probes, nil
}

// verdict is the run's exit status: failed probes and probes that could
// not observe a reaction make it fail.
func (o *conformOptions) verdict(addr string, js harness.ProbeJudgements) error {
	_, failed, errored, _ := js.Counts()
	var msgs []string
	if failed > 0 {
		msgs = append(msgs, fmt.Sprintf("%d of %d probes: %s does not react as %s does", failed, len(js), addr, o.profile))
	}
	if errored > 0 {
		msgs = append(msgs, fmt.Sprintf("%d of %d probes could not observe a reaction (error)", errored, len(js)))
	}
	if len(msgs) > 0 {
		return &exitError{code: exitFailed, err: errors.New(strings.Join(msgs, "; "))}
	}
	return nil
}

// modelNames lists the node models for people: "core, core-v2, btcd, btcd-v2".
func modelNames() string {
	var names []string
	for _, m := range scenarios.Models() {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ")
}

// selectProbes is the probes named, or those of the transport (default:
// the model's), or a usage error.
func selectProbes(model scenarios.Model, transport string, names []string) ([]scenarios.Probe, error) {
	if len(names) > 0 {
		if transport != "" {
			return nil, usageErr("--probe and --transport cannot be combined")
		}
		probes, unknown := scenarios.Probes().Select(names...)
		if len(unknown) > 0 {
			return nil, usageErr("unknown probe(s): %s (see 'btc-handshake conform --list')", strings.Join(unknown, ", "))
		}
		return probes, nil
	}
	switch transport {
	case "":
		return model.Probes(), nil
	case "v1":
		return scenarios.Probes().Transport("v1"), nil
	case "v2":
		return scenarios.Probes().Transport("v2"), nil
	case "all":
		return scenarios.Probes(), nil
	}
	return nil, usageErr("--transport must be v1, v2 or all, not %q", transport)
}

// listProbes prints the catalog of probes with the reaction each profile
// expects.
func listProbes(cmd *cobra.Command, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		for _, p := range scenarios.Probes() {
			exp := map[scenarios.Model]string{}
			for _, m := range scenarios.Models() {
				if r, ok := p.ExpectFor(m); ok {
					exp[m] = r.String()
				}
			}
			obj := map[string]any{"name": p.Name, "rule": p.Rule, "summary": p.Summary,
				"origin": p.Origin, "slow": p.Slow, "expect": exp, "transport": p.TransportOf()}
			if f := p.FollowUp(); f != "" {
				obj["follow_up"] = f
			}
			if err := enc.Encode(obj); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
		}
		return nil
	}
	for _, p := range scenarios.Probes().Transport("v1") {
		core, _ := p.ExpectFor(scenarios.ModelCore)
		btcd, _ := p.ExpectFor(scenarios.ModelBtcd)
		fmt.Fprintf(out, "%-31s %-4s %s\n    core: %s\n    btcd: %s\n", p.Name, p.Rule, p.Summary, core, btcd)
		for _, prof := range []scenarios.Model{scenarios.ModelCoreV2, scenarios.ModelBtcdV2} {
			if r, ok := p.Expect[prof]; ok {
				fmt.Fprintf(out, "    %s: %s\n", prof, r)
			}
		}
		if f := p.FollowUp(); f != "" {
			fmt.Fprintf(out, "    then, if the node sent nothing and kept the connection: %s\n", f)
		}
	}
	fmt.Fprintln(out, "\nv2 probes (a BIP324 client; run for core-v2 and btcd-v2, or with --transport v2):")
	for _, p := range scenarios.Probes().Transport("v2") {
		fmt.Fprintf(out, "%-31s %-14s %s\n", p.Name, p.Rule, p.Summary)
		for _, prof := range []scenarios.Model{scenarios.ModelCoreV2, scenarios.ModelBtcdV2, scenarios.ModelCore, scenarios.ModelBtcd} {
			if r, ok := p.Expect[prof]; ok {
				fmt.Fprintf(out, "    %s: %s\n", prof, r)
			}
		}
		fmt.Fprintf(out, "    from: %s\n", p.Origin)
		if f := p.FollowUp(); f != "" {
			fmt.Fprintf(out, "    then, if the node sent nothing and kept the connection: %s\n", f)
		}
	}
	return nil
}

// reachTimeout bounds the connection attempt that checks a node is there
// before any probe runs.
const reachTimeout = 5 * time.Second

// reachable connects to addr once and hangs up: a node that cannot be
// reached is an error of its own, not 32 failed probes.
func reachable(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: reachTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot connect to %s: %s", addr, dialReason(err))
	}
	return c.Close()
}

// unreachable is the error for a run where no probe could connect (the
// node went away after the first check), or nil.
func unreachable(addr string, js harness.ProbeJudgements) error {
	const prefix = "cannot connect: "
	reason, ran := "", 0
	for _, j := range js {
		if j.Verdict() == "skip" {
			continue
		}
		ran++
		if j.Observation.LocalAddr != "" || !strings.HasPrefix(j.Observation.Error, prefix) {
			return nil
		}
		reason = strings.TrimPrefix(j.Observation.Error, prefix)
	}
	if ran == 0 {
		return nil
	}
	return fmt.Errorf("cannot connect to %s: %s", addr, reason)
}

// dialReason is the innermost reason a dial failed: "connection refused",
// "i/o timeout", "no such host".
func dialReason(err error) string {
	if se, ok := errors.AsType[*os.SyscallError](err); ok {
		return se.Err.Error()
	}
	if de, ok := errors.AsType[*net.DNSError](err); ok {
		return de.Err
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// probeProgress reports on a terminal which probe runs, rewriting one status
// line, and leaves a line for each probe that waits for the peer timeout
// (the only ones that take long).
type probeProgress struct {
	w     io.Writer
	total int
	n     int
}

func (p *probeProgress) started(_ int, probe scenarios.Probe, watch time.Duration) {
	p.n++
	fmt.Fprintf(p.w, "\r\x1b[Kprobe %d of %d: %s", p.n, p.total, probe.Name)
	if probe.Slow {
		fmt.Fprintf(p.w, ": waiting up to %v for the node's peer timeout (%s)\n", watch.Round(time.Second), probe.Name)
	}
}

// done clears the status line.
func (p *probeProgress) done() {
	if p != nil {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
