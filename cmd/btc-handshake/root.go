package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/internal/ndjson"
	"github.com/btc-handshake/btc-handshake/wire"
)

// The CLI's defaults and limits. Survey caps concurrency at 4096 itself;
// the CLI refuses more rather than have it quietly reduced.
const (
	defaultTimeout     = 5 * time.Second
	defaultConcurrency = 32
	maxConcurrency     = 4096
	defaultMaxAddrs    = 256
)

// surveyFlags are the flags of the root command.
type surveyFlags struct {
	port            uint16
	timeout         time.Duration
	network         string
	connect         []string
	concurrency     int
	json            bool
	dnsServer       string
	userAgent       string
	protocolVersion int32
	minPeerVersion  int32
	linger          time.Duration
	maxAddrs        int
	verbose         bool
	record          string
	noRedact        bool
	diagram         string
	transport       string
	// onResult, when set, sees every result (for the demo's verdict check).
	onResult func(*handshake.Result)
	// summary, when set, receives the survey's counts instead of the
	// survey printing its JSON summary: the demo prints one of its own.
	summary *ndjson.Summary
}

func newRootCmd() *cobra.Command {
	var f surveyFlags
	cmd := &cobra.Command{
		Use:   "btc-handshake [flags] <DNS_SEED>",
		Short: "Bitcoin P2P handshake tester: survey real peers, serve misbehaving mock peers, judge clients",
		Long: `btc-handshake performs the Bitcoin v1 version/verack handshake with every
peer a DNS seed returns (or with --connect addresses) and reports, per peer,
whether it completed, the peer's version, user agent and the quirks it showed.

Exit status: 0 when every peer completed, 1 when any failed, 2 for usage or
resolution errors.`,
		Example: `  btc-handshake seed.bitcoin.sipa.be.
  btc-handshake -n testnet4 --json seed.testnet4.bitcoin.sprovoost.nl.
  btc-handshake --connect 127.0.0.1:18444 -n regtest -t 2
  btc-handshake --connect 127.0.0.1:18444 -n regtest --record peer.cassette --diagram diagrams/`,
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if err := suggestCommand(cmd, args[0]); err != nil {
					return err
				}
			}
			return runSurvey(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f, args)
		},
		Version: version(),
	}
	cmd.SetVersionTemplate("btc-handshake {{.Version}}\n")
	// A bad flag value is a usage error of one line, for every command.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	fl := cmd.Flags()
	fl.Uint16VarP(&f.port, "port", "p", 0, "target's TCP port (default: the network's port)")
	durationVarP(fl, &f.timeout, "timeout", "t", defaultTimeout, false, "time allowed per peer, connecting included")
	fl.StringVarP(&f.network, "network", "n", "mainnet", "target network: "+networkNames())
	fl.StringArrayVar(&f.connect, "connect", nil, "handshake with host:port instead of resolving a seed (repeatable)")
	fl.IntVar(&f.concurrency, "concurrency", defaultConcurrency, fmt.Sprintf("handshakes in flight at once (at most %d)", maxConcurrency))
	fl.BoolVar(&f.json, "json", false, "print one JSON object per peer, then a summary object (NDJSON)")
	fl.StringVar(&f.dnsServer, "dns-server", "", "resolve the seed with this DNS server (host:port) instead of the system resolver")
	fl.StringVar(&f.userAgent, "user-agent", "", "user agent we announce (default: btc-handshake's own)")
	fl.Int32Var(&f.protocolVersion, "protocol-version", wire.ProtocolVersion, "protocol version we announce")
	fl.Int32Var(&f.minPeerVersion, "min-peer-version", wire.MinPeerProtoVersion, "lowest peer protocol version accepted")
	durationVarP(fl, &f.linger, "linger", "", 0, true, "keep reading this long after the handshake to record what the peer sends next")
	fl.IntVar(&f.maxAddrs, "max-addrs", defaultMaxAddrs, "most addresses taken from one seed answer")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log each handshake's progress to stderr")
	fl.StringVar(&f.record, "record", "", "record every connection, byte for byte, into this cassette file (redacted: see --no-redact)")
	fl.BoolVar(&f.noRedact, "no-redact", false, "keep addresses and our nonce in --record and --diagram output")
	fl.StringVar(&f.diagram, "diagram", "", "write a mermaid sequence diagram of each peer: one file per peer in this directory, or all in this file")
	fl.StringVar(&f.transport, "transport", defaultTransport(),
		"v1, v2 (BIP324, encrypted) or auto: v2, reconnecting with v1 when the peer hangs up on our key, as Bitcoin Core v30 does; "+
			"auto shows who speaks v2 and still reaches v1-only peers; v1 is the original tool's behaviour "+
			"(default from $"+envTransport+", which check sets for the client it runs, else auto)")
	cmd.Flags().SortFlags = false
	cmd.AddCommand(newScenariosCmd(), newMockCmd(), newCheckCmd(), newDemoCmd(), newConformCmd())
	cmd.AddCommand(newCassetteCmd())
	cmd.AddCommand(newDiagramCmd())
	return cmd
}

// envTransport is the environment variable that sets --transport's
// default: check puts the scenario's transport there, so that a client
// command without {transport} still speaks what the scenario asks for.
const envTransport = "BTC_HANDSHAKE_TRANSPORT"

func defaultTransport() string {
	if t := os.Getenv(envTransport); t != "" {
		return t
	}
	return string(handshake.TransportAuto)
}

func parseTransport(s string) (handshake.Transport, error) {
	switch t := handshake.Transport(s); t {
	case handshake.TransportV1, handshake.TransportV2, handshake.TransportAuto:
		return t, nil
	}
	return "", usageErr("--transport must be v1, v2 or auto, not %q", s)
}

func runSurvey(ctx context.Context, stdout, stderr io.Writer, f surveyFlags, args []string) error {
	net, transport, err := f.validate(args)
	if err != nil {
		return err
	}
	port := f.port
	if port == 0 {
		port = net.DefaultPort()
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	targets, command, err := surveyTargets(ctx, f, args, port, logger)
	if err != nil {
		return err
	}

	// Survey bounds each peer's whole attempt, connecting included, by
	// Timeout (plus Linger): -t is the most one peer takes.
	cfg := handshake.Config{
		Network:         net,
		ProtocolVersion: f.protocolVersion,
		UserAgent:       f.userAgent,
		Timeout:         f.timeout,
		MinPeerVersion:  f.minPeerVersion,
		Linger:          f.linger,
		Logger:          logger,
		Transport:       transport,
	}
	var rec *cassette.Recorder
	if f.record != "" || f.diagram != "" {
		rec = cassette.NewRecorder(net)
		cfg.DialContext = rec.Dialer(nil)
	}
	start := time.Now()
	sum := ndjson.Summary{Type: "summary", Command: command}
	enc := json.NewEncoder(stdout)
	if err := collectSurvey(ctx, stdout, stderr, f, targets, cfg, rec, &sum, enc); err != nil {
		return err
	}
	if rec != nil {
		if err := saveRecording(rec, f.record, f.diagram, f.noRedact); err != nil {
			return &exitError{code: exitFailed, err: err}
		}
	}
	sum.ElapsedMS = float64(time.Since(start).Microseconds()) / 1000
	switch {
	case f.summary != nil:
		*f.summary = sum
		if !f.json {
			writeSurveySummary(stdout, sum)
		}
	case f.json:
		if err := enc.Encode(sum); err != nil {
			return &exitError{code: exitFailed, err: err}
		}
	default:
		writeSurveySummary(stdout, sum)
	}
	if sum.Failed > 0 {
		return &exitError{code: exitFailed}
	}
	return nil
}

// validate checks the flags and arguments of a survey: the network and
// transport it speaks, or a usage error.
func (f surveyFlags) validate(args []string) (wire.Network, handshake.Transport, error) {
	net, err := wire.ParseNetwork(f.network)
	if err != nil {
		return net, "", usageErr("%v", err)
	}
	if len(args) == 0 && len(f.connect) == 0 {
		return net, "", usageErr("give a DNS seed or at least one --connect host:port")
	}
	if len(args) == 1 && len(f.connect) > 0 {
		return net, "", usageErr("give either a DNS seed or --connect, not both")
	}
	for _, c := range f.connect {
		if err := checkHostPort("--connect", c); err != nil {
			return net, "", err
		}
	}
	if f.dnsServer != "" {
		if err := checkHostPort("--dns-server", f.dnsServer); err != nil {
			return net, "", err
		}
	}
	transport, err := parseTransport(f.transport)
	if err != nil {
		return net, "", err
	}
	if f.timeout <= 0 { // the flag refuses it; the demo passes its own
		return net, "", usageErr("--timeout must be more than zero")
	}
	if err := checkRange("--concurrency", f.concurrency, 1, maxConcurrency); err != nil {
		return net, "", err
	}
	if err := checkRange("--max-addrs", f.maxAddrs, 1, 1<<20); err != nil {
		return net, "", err
	}
	if err := checkOutputPath("--record", f.record); err != nil {
		return net, "", err
	}
	if err := checkDiagramPath(f.diagram); err != nil {
		return net, "", err
	}
	return net, transport, nil
}

// surveyTargets is the addresses to survey, --connect's or the seed's, and
// the command the summary names ("connect" or "survey").
func surveyTargets(ctx context.Context, f surveyFlags, args []string, port uint16, logger *slog.Logger) ([]string, string, error) {
	targets, command := f.connect, "connect"
	if len(args) == 1 {
		command = "survey"
		seed := handshake.Seed{Name: args[0], Port: port, Server: f.dnsServer, Timeout: f.timeout, MaxAddrs: f.maxAddrs}
		rctx, cancel := context.WithTimeout(ctx, f.timeout)
		var err error
		targets, err = seed.Resolve(rctx)
		cancel()
		if err != nil {
			return nil, command, &exitError{code: exitUsage, err: err}
		}
		logger.Info("resolved seed", slog.String("seed", args[0]), slog.Int("addresses", len(targets)))
	}
	return targets, command, nil
}

// collectSurvey runs the handshakes and prints each result as it comes,
// adding it to sum, with progress on stderr meanwhile.
func collectSurvey(ctx context.Context, stdout, stderr io.Writer, f surveyFlags, targets []string, cfg handshake.Config,
	rec *cassette.Recorder, sum *ndjson.Summary, enc *json.Encoder) error {
	prog := newProgress(stderr, len(targets))
	defer prog.done()
	results := handshake.Survey(ctx, targets, cfg, f.concurrency)
read:
	for {
		var res *handshake.Result
		select {
		case r, ok := <-results:
			if !ok {
				break read
			}
			res = r
		case <-prog.tick():
			prog.draw(sum.Total)
			continue
		}
		if rec != nil {
			// Only the client holds a v2 session's keys: the recording
			// gets its decrypted messages and framing from the Result.
			rec.Annotate(res)
		}
		if f.onResult != nil {
			f.onResult(res)
		}
		sum.Add(res)
		if f.json {
			if err := enc.Encode(res.Report()); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			continue
		}
		prog.clear()
		fmt.Fprintln(stdout, humanLine(res))
	}
	prog.done()
	return nil
}

// networkNames lists what --network accepts: each network's name, with
// testnet (testnet3's other name) before testnet3.
func networkNames() string {
	var names []string
	for _, n := range wire.Networks() {
		if n == wire.Testnet3 {
			names = append(names, "testnet")
		}
		names = append(names, n.String())
	}
	return strings.Join(names, ", ")
}
