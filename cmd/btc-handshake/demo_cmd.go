package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	mockfleet "github.com/btc-handshake/btc-handshake/internal/fleet"
	"github.com/btc-handshake/btc-handshake/internal/ndjson"
	"github.com/btc-handshake/btc-handshake/internal/seeddns"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

const demoSeed = "seed.btc-handshake.test."

// demoSeedFor is the seed of the demo's peers whose scenarios ask for
// transport t: demoSeed for v1, "v2." or "auto." in front of it otherwise.
func demoSeedFor(t string) string {
	if t == "v1" {
		return demoSeed
	}
	return t + "." + demoSeed
}

func newDemoCmd() *cobra.Command {
	var (
		timeout time.Duration
		asJSON  bool
		names   []string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Survey a local DNS seed whose peers play the scenario catalog (what `make run` does)",
		Long: `Start a DNS server on loopback serving the seed ` + demoSeed + `, whose A records
point at one mock peer per scenario (127.0.0.2, 127.0.0.3, ... all on one
port), then survey the seed exactly as 'btc-handshake --dns-server ... <seed>'
does. Nothing leaves the machine.

After the usual per-peer lines it checks every peer's outcome against its
scenario's verdict, and exits 0 when all of them match.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Every transport by default: the v2 peers show the
			// transport column.
			scs, unknown := scenarios.All().Select(names...)
			if len(unknown) > 0 {
				return usageErr("unknown scenario(s): %v", unknown)
			}
			return runDemo(cmd, scs, timeout, asJSON)
		},
	}
	durationVarP(cmd.Flags(), &timeout, "timeout", "t", 2*time.Second, false, "time allowed per peer, connecting included")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print NDJSON: one object per peer, one verdict per scenario, then a summary")
	cmd.Flags().StringArrayVar(&names, "scenario", nil, "only these scenarios (repeatable; default: all)")
	return cmd
}

func runDemo(cmd *cobra.Command, scs []scenarios.Scenario, timeout time.Duration, asJSON bool) error {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	fleet, err := mockfleet.StartScenarios(scs, wire.Regtest)
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("starting mock peers: %w", err)}
	}
	defer fleet.Close()
	// One seed per transport: the survey of each speaks what its
	// scenarios ask a client to speak (v1, v2, or auto with v1 fallback).
	port := strconv.Itoa(int(fleet.Port()))
	groups, order := demoGroups(fleet, port)
	seeds := map[string][]netip.Addr{}
	for _, t := range order {
		seeds[demoSeedFor(t)] = groups[t]
	}
	dns, err := seeddns.Start("127.0.0.1:0", seeds)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	defer dns.Close()

	fmt.Fprintf(errOut, "# %d mock peers on 127.0.0.2..%s port %s, one scenario each; DNS seeds at %s\n",
		len(scs), fleet.Addrs()[len(scs)-1], port, dns.Addr())
	results := &collector{}
	start := time.Now()
	for _, t := range order {
		seed := demoSeedFor(t)
		fmt.Fprintf(errOut, "# btc-handshake --dns-server %s -n regtest -p %s -t %s --concurrency 64 --transport %s %s\n",
			dns.Addr(), port, timeout, t, seed)
		var part ndjson.Summary
		f := surveyFlags{
			port: fleet.Port(), timeout: timeout, network: "regtest", concurrency: 64, json: asJSON,
			dnsServer: dns.Addr(), userAgent: "", protocolVersion: wire.ProtocolVersion,
			minPeerVersion: wire.MinPeerProtoVersion, maxAddrs: len(groups[t]), onResult: results.add,
			summary: &part, transport: t,
		}
		serr := runSurvey(cmd.Context(), out, errOut, f, []string{seed})
		if code := exitCodeOf(serr); code == exitUsage {
			return serr
		}
	}
	verdicts := demoVerdicts(fleet, port, results.all, timeout+harness.DefaultSlack)
	sum := demoSummary(verdicts, results.all, start)
	if err := writeDemoVerdicts(out, verdicts, sum, asJSON); err != nil {
		return err
	}
	if sum.Failed > 0 {
		return &exitError{code: exitFailed, err: fmt.Errorf("%d peers did not match their scenario", sum.Failed)}
	}
	return nil
}

// demoPeers is what the demo needs of its mock peers: their port, their
// addresses and the scenario each plays.
type demoPeers interface {
	Port() uint16
	Addrs() []netip.Addr
	Scenario(addr string) (scenarios.Scenario, bool)
}

// demoGroups groups the peers' addresses by the transport their scenarios
// ask a client for, transports in the order they first appear.
func demoGroups(fleet demoPeers, port string) (map[string][]netip.Addr, []string) {
	groups := map[string][]netip.Addr{}
	var order []string
	for _, a := range fleet.Addrs() {
		sc, _ := fleet.Scenario(net.JoinHostPort(a.String(), port))
		t := sc.TransportOf()
		if _, ok := groups[t]; !ok {
			order = append(order, t)
		}
		groups[t] = append(groups[t], a)
	}
	return groups, order
}

// demoVerdicts judges each peer's result against its scenario's verdict,
// in the peers' order; limit bounds how long a failure may take.
func demoVerdicts(fleet demoPeers, port string, results []*handshake.Result, limit time.Duration) []demoVerdict {
	byAddr := map[string]*handshake.Result{}
	for _, res := range results {
		byAddr[res.Addr] = res
	}
	var verdicts []demoVerdict
	for _, a := range fleet.Addrs() {
		addr := net.JoinHostPort(a.String(), port)
		sc, _ := fleet.Scenario(addr)
		v := demoVerdict{Type: "verdict", Address: addr, Scenario: sc.Name, Expected: sc.Expect.String(), Reasons: []string{}}
		if res, ok := byAddr[addr]; ok {
			v.Reasons = append(v.Reasons, harness.FromResult(res).Judge(sc.Expect, limit)...)
		} else {
			v.Reasons = append(v.Reasons, "no result")
		}
		v.Match = len(v.Reasons) == 0
		verdicts = append(verdicts, v)
	}
	return verdicts
}

// demoSummary is the demo's summary: the surveys' counts, and how many
// peers matched their scenario.
func demoSummary(verdicts []demoVerdict, results []*handshake.Result, start time.Time) ndjson.Summary {
	var survey ndjson.Summary
	for _, res := range results {
		survey.Add(res)
	}
	sum := ndjson.Summary{Type: "summary", Command: "demo", Total: len(verdicts), Counts: survey.Counts,
		ElapsedMS: float64(time.Since(start).Microseconds()) / 1000}
	for _, v := range verdicts {
		if v.Match {
			sum.Passed++
		} else {
			sum.Failed++
		}
	}
	return sum
}

// writeDemoVerdicts prints the verdicts and the summary: NDJSON, or a table
// and a line.
func writeDemoVerdicts(out io.Writer, verdicts []demoVerdict, sum ndjson.Summary, asJSON bool) error {
	if asJSON {
		// Pure NDJSON: the peers (above), a verdict per scenario, one summary.
		enc := json.NewEncoder(out)
		for _, v := range verdicts {
			if err := enc.Encode(v); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
		}
		if err := enc.Encode(sum); err != nil {
			return &exitError{code: exitFailed, err: err}
		}
		return nil
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "peer verdicts against the scenario catalog:")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, v := range verdicts {
		host, _, _ := net.SplitHostPort(v.Address)
		mark := "as expected"
		if !v.Match {
			mark = "MISMATCH: " + strings.Join(v.Reasons, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\texpected %s\t%s\n", host, v.Scenario, v.Expected, mark)
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "%d of %d peers behaved as their scenarios predict (details: btc-handshake scenarios --json)\n",
		sum.Passed, sum.Total)
	return nil
}

// demoVerdict is one scenario's verdict in the demo's --json output.
type demoVerdict struct {
	Type     string   `json:"type"` // always "verdict"
	Address  string   `json:"address"`
	Scenario string   `json:"scenario"`
	Expected string   `json:"expected"`
	Match    bool     `json:"match"`
	Reasons  []string `json:"reasons"`
}

type collector struct{ all []*handshake.Result }

func (c *collector) add(r *handshake.Result) { c.all = append(c.all, r) }

func exitCodeOf(err error) int {
	if err == nil {
		return exitOK
	}
	if ee, ok := err.(*exitError); ok {
		return ee.code
	}
	return exitFailed
}
