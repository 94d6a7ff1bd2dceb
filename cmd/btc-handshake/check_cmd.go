package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

func newCheckCmd() *cobra.Command {
	var (
		clientCmd, junit, network string
		names                     []string
		asJSON                    bool
		clientTimeout, slack      time.Duration
		parallel                  int
	)
	cmd := &cobra.Command{
		Use:   "check --client-cmd 'CMD {addr} {network}'",
		Short: "Judge any handshake client against the scenario catalog",
		Long: `Run an external handshake client against every scenario (or those named
with --scenario) and judge each run against the scenario's verdict.

In the client command, {addr} becomes the mock peer's host:port, {host} and
{port} its parts, and {network} the network name. The client completed the
handshake when it exits 0. When it prints btc-handshake's NDJSON peer
objects (--json), the error kind, phase and quirks are judged as well.

A failing client must fail within --client-timeout plus --slack: set
--client-timeout to the timeout your client is configured with.

Exit status: 0 when every scenario passes, 1 when any fails, 2 for usage errors.`,
		Example: `  btc-handshake check --client-cmd 'bin/btc-handshake --connect {addr} -n {network} -t 2 --json' --client-timeout 2s
  btc-handshake check --client-cmd './my-client {host} {port}' --scenario verack-skipped-held --junit report.xml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := wire.ParseNetwork(network)
			if err != nil {
				return usageErr("%v", err)
			}
			if !strings.Contains(clientCmd, "{addr}") && !strings.Contains(clientCmd, "{port}") {
				return usageErr("--client-cmd must contain {addr} (or {host} and {port})")
			}
			scs, unknown := scenarios.Select(names...)
			if len(unknown) > 0 {
				return usageErr("unknown scenario(s): %s (see 'btc-handshake scenarios')", strings.Join(unknown, ", "))
			}
			js := harness.Run(cmd.Context(), harness.CommandClient(clientCmd), scs, harness.Options{
				Network: n, ClientTimeout: clientTimeout, Slack: slack, Parallel: parallel,
			})
			out := cmd.OutOrStdout()
			if asJSON {
				err = harness.WriteNDJSON(out, js)
			} else {
				err = harness.WriteTable(out, js)
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			if junit != "" {
				f, err := os.Create(junit)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				werr := harness.WriteJUnit(f, "btc-handshake check", js)
				if cerr := f.Close(); werr == nil {
					werr = cerr
				}
				if werr != nil {
					return &exitError{code: exitFailed, err: werr}
				}
			}
			if _, failed := harness.Counts(js); failed > 0 {
				return &exitError{code: exitFailed, err: fmt.Errorf("%d of %d scenarios failed", failed, len(js))}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&clientCmd, "client-cmd", "", "client command line, run with sh -c; {addr}, {host}, {port}, {network} are replaced")
	fl.StringArrayVar(&names, "scenario", nil, "scenario to run (repeatable; default: all)")
	fl.StringVar(&junit, "junit", "", "also write a JUnit XML report to this file")
	fl.BoolVar(&asJSON, "json", false, "print NDJSON (one object per scenario, then a summary) instead of a table")
	fl.StringVarP(&network, "network", "n", "regtest", "network the mock peers speak")
	fl.DurationVar(&clientTimeout, "client-timeout", 5*time.Second, "the handshake timeout the client is configured with")
	fl.DurationVar(&slack, "slack", harness.DefaultSlack, "extra time a failing client may take beyond --client-timeout")
	fl.IntVar(&parallel, "parallel", 16, "scenarios run at once")
	_ = cmd.MarkFlagRequired("client-cmd")
	return cmd
}
