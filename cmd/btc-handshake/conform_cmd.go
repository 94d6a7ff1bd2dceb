package main

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

func newConformCmd() *cobra.Command {
	var (
		network, profile  string
		names             []string
		asJSON, fast      bool
		observe, peerTime time.Duration
		parallel          int
		list              bool
	)
	cmd := &cobra.Command{
		Use:   "conform <host:port>",
		Short: "Probe a node's handshake and compare what it does with a node profile",
		Long: `Play every conformance probe (or those named with --probe) against the node
at host:port, as a client, and compare each observed reaction (what the node
sends after the probe's last message, and whether it keeps the connection)
with the reaction the profile expects:

  core     Bitcoin Core v30 with -v2transport=0
  core-v2  Bitcoin Core v30 with -v2transport=1 (its default)
  btcd     btcd v0.26.2

Two probes wait for the node's peer timeout (btcd: 30 s, Core: -peertimeout,
60 s by default): set --peer-timeout to the node's, or skip them with --fast.
Probes run a few at a time, each from its own loopback /24 when the node is on
loopback (btcd admits at most 8 unfinished handshakes per /24).

Exit status: 0 when the node reacts as the profile expects to every probe,
1 when it does not, 2 for usage errors.`,
		Example: `  btc-handshake conform 127.0.0.1:18444 -n regtest --profile btcd
  btc-handshake conform 127.0.0.1:18444 --profile core --peer-timeout 5s --json
  btc-handshake conform 127.0.0.1:18444 --probe ping-before-verack --probe wrong-magic --fast`,
		Args: func(cmd *cobra.Command, args []string) error {
			if list {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				return listProbes(cmd, asJSON)
			}
			n, err := wire.ParseNetwork(network)
			if err != nil {
				return usageErr("%v", err)
			}
			if _, _, err := net.SplitHostPort(args[0]); err != nil {
				return usageErr("node address %q: want host:port", args[0])
			}
			if !slices.Contains(scenarios.Profiles(), profile) {
				return usageErr("unknown profile %q (want %s)", profile, strings.Join(scenarios.Profiles(), ", "))
			}
			if parallel < 1 || parallel > 8 {
				return usageErr("--parallel must be between 1 and 8 (btcd admits 8 unfinished handshakes per /24)")
			}
			probes, unknown := scenarios.SelectProbes(names...)
			if len(unknown) > 0 {
				return usageErr("unknown probe(s): %s (see 'btc-handshake conform --list')", strings.Join(unknown, ", "))
			}
			js := harness.RunProbesWith(cmd.Context(), args[0], harness.ProbeOptions{
				Network: n, Profile: profile, Observe: observe, PeerTimeout: peerTime,
				SkipSlow: fast, Parallel: parallel,
			}, probes...)
			out := cmd.OutOrStdout()
			if asJSON {
				err = harness.WriteProbeNDJSON(out, js)
			} else {
				err = harness.WriteProbeTable(out, js)
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			if cmd.Context().Err() != nil {
				return &exitError{code: exitFailed, err: cmd.Context().Err()}
			}
			if _, failed, _ := harness.ProbeCounts(js); failed > 0 {
				return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d probes: %s does not react as %s does", failed, len(js), args[0], profile)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&network, "network", "n", "regtest", "the node's network")
	fl.StringVar(&profile, "profile", scenarios.ProfileCore, "expected behaviour: "+strings.Join(scenarios.Profiles(), ", "))
	fl.StringArrayVar(&names, "probe", nil, "probe to run (repeatable; default: all)")
	fl.BoolVar(&asJSON, "json", false, "print NDJSON (one object per probe, then a summary) instead of a table")
	fl.BoolVar(&fast, "fast", false, "skip the probes that wait for the node's peer timeout")
	fl.DurationVar(&observe, "observe", scenarios.DefaultProbeObserve, "how long to watch the connection after a probe's last message")
	fl.DurationVar(&peerTime, "peer-timeout", 0, "the node's peer timeout (default: the profile's, btcd 30s, Core 60s)")
	fl.IntVar(&parallel, "parallel", harness.DefaultProbeParallel, "probes run at once (1 to 8)")
	fl.BoolVar(&list, "list", false, "list the probes and each profile's expected reaction, then exit")
	return cmd
}

// listProbes prints the catalog of probes with the reaction each profile
// expects.
func listProbes(cmd *cobra.Command, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		for _, p := range scenarios.AllProbes() {
			exp := map[string]string{}
			for _, prof := range scenarios.Profiles() {
				if r, ok := p.ExpectFor(prof); ok {
					exp[prof] = r.String()
				}
			}
			if err := enc.Encode(map[string]any{"name": p.Name, "rule": p.Rule, "summary": p.Summary,
				"origin": p.Origin, "slow": p.Slow, "expect": exp}); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
		}
		return nil
	}
	for _, p := range scenarios.AllProbes() {
		core, _ := p.ExpectFor(scenarios.ProfileCore)
		btcd, _ := p.ExpectFor(scenarios.ProfileBtcd)
		fmt.Fprintf(out, "%-31s %-4s %s\n    core: %s\n    btcd: %s\n", p.Name, p.Rule, p.Summary, core, btcd)
		if v2, ok := p.Expect[scenarios.ProfileCoreV2]; ok {
			fmt.Fprintf(out, "    core-v2: %s\n", v2)
		}
	}
	return nil
}
