package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// expectBehaviour maps --expect to the behaviour required ("" for any).
func expectBehaviour(s string) (scenarios.Behaviour, bool) {
	switch s {
	case "any":
		return "", true
	case "core", "core-like":
		return scenarios.CoreLike, true
	case "tolerant":
		return scenarios.Tolerant, true
	case "rejecting":
		return scenarios.Rejecting, true
	}
	return "", false
}

// checkLong is check's help.
const checkLong = `Run an external handshake client against every scenario (or those named
with --scenario), each against a mock peer of its own, and judge each run.

In the client command, {addr} becomes the mock peer's host:port, {host} and
{port} its parts, and {network} the network name. The client completed the
handshake when it exits 0. When it prints btc-handshake's NDJSON peer
objects (--json), its error kind and phase are judged as well.

The mock peer is the witness. A scenario that expects completion passes only
if the mock received the client's version and verack over the connection;
one that expects a failure passes only if the client connected, took part
as far as the scenario allows (its version, and its verack where the
scenario sends a valid version) and then reported failure. A client that
never connects passes nothing. Each row shows what the mock witnessed: the
commands it received from the client and who closed the connection
(client-fin, client-rst, mock-fin, mock-rst, or open at the end).

Where correct clients differ (Bitcoin Core ignores an early verack and then
times out, a tolerant client completes; a rejecting client drops a peer that
sends a ping before verack, Core ignores it), a scenario accepts each correct
outcome and the BEHAVIOUR column says which one the client showed:
core-like, tolerant or rejecting. --expect requires one of them (a scenario
without that outcome then requires its core-like one). Quirk names are
diagnostics; --strict requires a client that reports quirks to name them.

Transports: each scenario asks the client for a transport, v1 (the
original framing), v2 (BIP324) or auto (v2, reconnecting with v1 when the
peer hangs up on the key, as Bitcoin Core does). {transport} becomes it in
the command line, and BTC_HANDSHAKE_TRANSPORT carries it in the
environment (btc-handshake itself takes its --transport default from
there). --transport selects the scenarios: v1 (the default: a client that
speaks only v1 is judged as before), v2, auto or all.

Timeout contract: the client has --client-timeout for a handshake. Tell it
so: {timeout} becomes that timeout in seconds (e.g. 2 or 0.5) and
{timeout_ms} in milliseconds, and the client's environment carries
BTC_HANDSHAKE_TIMEOUT (seconds). A failure must be reported, and the
command must exit, within --client-timeout plus --slack of its start;
a client still running then is stopped and judged too slow.

--cassette replays recorded connections instead of the catalog: each
connection of each cassette is a scenario named FILE#CONN whose mock plays
the recorded node byte for byte (see 'mock serve --replay'), and which
expects what the recorded client concluded (complete when the node's
verack reached it and it sent its own), or --cassette-expect.

An interrupted run (Ctrl-C) is reported as interrupted, never as a pass.

Exit status: 0 when every scenario passes, 1 when any fails or is
interrupted, 2 for usage errors.`

// checkExample is check's examples.
const checkExample = `  btc-handshake check --client-cmd 'bin/btc-handshake --connect {addr} -n {network} -t {timeout} --json' --client-timeout 2s
  btc-handshake check --transport all --client-cmd 'bin/btc-handshake --connect {addr} -n {network} --transport {transport} --json'
  btc-handshake check --client-cmd './my-client {host} {port} --timeout-ms {timeout_ms}' --expect core
  btc-handshake check --client-cmd './my-client {addr}' --scenario verack-skipped-held --junit report.xml
  btc-handshake check --client-cmd './my-client {addr}' --cassette wild-peer.cassette --diagram diagrams/`

// checkOptions are check's flags.
type checkOptions struct {
	clientCmd, junit, network string
	names                     []string
	asJSON                    bool
	clientTimeout, slack      time.Duration
	parallel                  int
	expect                    string
	strict                    bool
	cassettes                 []string
	cassetteExpect, diagram   string
	transport                 string
}

func newCheckCmd() *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:     "check --client-cmd 'CMD {addr} {network}'",
		Short:   "Judge any handshake client against the scenario catalog",
		Long:    checkLong,
		Example: checkExample,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.register(cmd.Flags())
	_ = cmd.MarkFlagRequired("client-cmd")
	return cmd
}

func (o *checkOptions) register(fl *pflag.FlagSet) {
	fl.StringVar(&o.clientCmd, "client-cmd", "", "client command line, run with sh -c; {addr}, {host}, {port}, {network}, {timeout}, {timeout_ms}, {transport} are replaced")
	fl.StringVar(&o.transport, "transport", "v1", "scenarios of this client transport: v1, v2, auto or all (--scenario names any)")
	fl.StringArrayVar(&o.names, "scenario", nil, "scenario to run (repeatable; default: all)")
	fl.StringVar(&o.junit, "junit", "", "also write a JUnit XML report to this file")
	fl.BoolVar(&o.asJSON, "json", false, "print NDJSON (one object per scenario, then a summary) instead of a table")
	fl.StringVarP(&o.network, "network", "n", "regtest", "network the mock peers speak")
	fl.DurationVar(&o.clientTimeout, "client-timeout", 5*time.Second, "the client's deadline for one handshake, passed to it as {timeout}, {timeout_ms} and BTC_HANDSHAKE_TIMEOUT")
	fl.DurationVar(&o.slack, "slack", harness.DefaultSlack, "how long after its deadline a failing client may take to report and exit")
	fl.StringVar(&o.expect, "expect", "any", "require one behaviour where correct clients differ: core, tolerant, rejecting or any")
	fl.BoolVar(&o.strict, "strict", false, "require a client that reports quirks (our NDJSON) to name each quirk of the outcome it reached")
	fl.IntVar(&o.parallel, "parallel", 16, "scenarios run at once")
	fl.StringArrayVar(&o.cassettes, "cassette", nil, "replay each connection of this cassette as a scenario instead of the catalog (repeatable)")
	fl.StringVar(&o.cassetteExpect, "cassette-expect", "recorded", "verdict of --cassette scenarios: recorded (what the recorded client concluded), complete or fail")
	fl.StringVar(&o.diagram, "diagram", "", "write a mermaid sequence diagram of each scenario (what the mock witnessed, the verdict): one file each in this directory, or all in this file")
}

// run judges the client on the scenarios the flags select and reports.
func (o *checkOptions) run(cmd *cobra.Command) error {
	n, behaviour, scs, err := o.plan(cmd)
	if err != nil {
		return err
	}
	start := time.Now()
	js := harness.Run(cmd.Context(), harness.CommandClient(o.clientCmd), harness.Options{
		Network: n, ClientTimeout: o.clientTimeout, Slack: o.slack, Parallel: o.parallel,
		Expect: behaviour, Strict: o.strict,
	}, scs...)
	if err := o.report(cmd.OutOrStdout(), js, n, start); err != nil {
		return err
	}
	if err := interrupted(cmd.Context()); err != nil {
		return err
	}
	if _, failed := js.Counts(); failed > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d scenarios failed", failed, len(js))}
	}
	return nil
}

// plan validates the flags: the network, the behaviour --expect requires
// and the scenarios to run (the catalog's or the cassettes').
func (o *checkOptions) plan(cmd *cobra.Command) (wire.Network, scenarios.Behaviour, []scenarios.Scenario, error) {
	n, err := wire.ParseNetwork(o.network)
	if err != nil {
		return n, "", nil, usageErr("%v", err)
	}
	if !strings.Contains(o.clientCmd, "{addr}") && !strings.Contains(o.clientCmd, "{port}") {
		return n, "", nil, usageErr("--client-cmd must contain {addr} (or {host} and {port})")
	}
	behaviour, ok := expectBehaviour(o.expect)
	if !ok {
		return n, "", nil, usageErr("--expect must be core, tolerant, rejecting or any, not %q", o.expect)
	}
	if o.clientTimeout <= 0 {
		return n, "", nil, usageErr("--client-timeout must be positive")
	}
	if o.slack <= 0 {
		return n, "", nil, usageErr("--slack must be positive")
	}
	scs := []scenarios.Scenario(scenarios.All().Transport(o.transport))
	if !slices.Contains([]string{"v1", "v2", "auto", "all"}, o.transport) {
		return n, "", nil, usageErr("--transport must be v1, v2, auto or all, not %q", o.transport)
	}
	if len(o.names) > 0 {
		var unknown []string
		scs, unknown = scenarios.All().Select(o.names...)
		if len(unknown) > 0 {
			return n, "", nil, usageErr("unknown scenario(s): %s (see 'btc-handshake scenarios')", strings.Join(unknown, ", "))
		}
	}
	if err := checkDiagramPath(o.diagram); err != nil {
		return n, "", nil, err
	}
	if len(o.cassettes) > 0 {
		if len(o.names) > 0 {
			return n, "", nil, usageErr("give either --scenario or --cassette, not both")
		}
		if o.cassetteExpect != "recorded" && o.cassetteExpect != "complete" && o.cassetteExpect != "fail" {
			return n, "", nil, usageErr("--cassette-expect must be recorded, complete or fail, not %q", o.cassetteExpect)
		}
		var cn wire.Network
		if scs, cn, err = cassetteScenarios(o.cassettes, o.cassetteExpect, 1); err != nil {
			return n, "", nil, err
		}
		if cmd.Flags().Changed("network") && cn != n {
			return n, "", nil, usageErr("--network %s: the cassettes were recorded on %s", n, cn)
		}
		n = cn
	}
	return n, behaviour, scs, nil
}

// report writes the judgements as a table or NDJSON, then the diagrams and
// the JUnit report the flags ask for.
func (o *checkOptions) report(out io.Writer, js harness.Judgements, n wire.Network, start time.Time) error {
	var err error
	if o.asJSON {
		err = js.WriteNDJSON(out, time.Since(start))
	} else {
		err = js.WriteTable(out)
	}
	if err != nil {
		return &exitError{code: exitFailed, err: err}
	}
	if o.diagram != "" {
		c := judgementCassette(js, n)
		if err := writeDiagrams(o.diagram, c, func(i int) string { return js[i].Scenario }); err != nil {
			return &exitError{code: exitFailed, err: err}
		}
	}
	if o.junit != "" {
		f, err := os.Create(o.junit)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		werr := js.WriteJUnit(f, "btc-handshake check")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return &exitError{code: exitFailed, err: werr}
		}
	}
	return nil
}
