package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// surveyFlags are the flags of the root command.
type surveyFlags struct {
	port            uint16
	timeout         float64
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
	// onResult, when set, sees every result (for the demo's verdict check).
	onResult func(*handshake.Result)
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
  btc-handshake --connect 127.0.0.1:18444 -n regtest -t 2`,
		Args:          cobra.MaximumNArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSurvey(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f, args)
		},
	}
	fl := cmd.Flags()
	fl.Uint16VarP(&f.port, "port", "p", 0, "target's TCP port (default: the network's port)")
	fl.Float64VarP(&f.timeout, "timeout", "t", 5, "handshake timeout per peer, in seconds")
	fl.StringVarP(&f.network, "network", "n", "mainnet", "target network: "+strings.Join(wire.NetworkNames(), ", "))
	fl.StringArrayVar(&f.connect, "connect", nil, "handshake with host:port instead of resolving a seed (repeatable)")
	fl.IntVar(&f.concurrency, "concurrency", handshake.DefaultConcurrency, fmt.Sprintf("handshakes in flight at once (at most %d)", handshake.MaxConcurrency))
	fl.BoolVar(&f.json, "json", false, "print one JSON object per peer, then a summary object (NDJSON)")
	fl.StringVar(&f.dnsServer, "dns-server", "", "resolve the seed with this DNS server (host:port) instead of the system resolver")
	fl.StringVar(&f.userAgent, "user-agent", handshake.DefaultUserAgent, "user agent we announce")
	fl.Int32Var(&f.protocolVersion, "protocol-version", wire.ProtocolVersion, "protocol version we announce")
	fl.Int32Var(&f.minPeerVersion, "min-peer-version", wire.MinPeerProtoVersion, "lowest peer protocol version accepted")
	fl.DurationVar(&f.linger, "linger", 0, "keep reading this long after the handshake to record what the peer sends next")
	fl.IntVar(&f.maxAddrs, "max-addrs", handshake.DefaultMaxSeedAddrs, "most addresses taken from one seed answer")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log each handshake's progress to stderr")
	cmd.Flags().SortFlags = false
	cmd.AddCommand(newScenariosCmd(), newMockCmd(), newCheckCmd(), newDemoCmd(), newConformCmd())
	return cmd
}

func runSurvey(ctx context.Context, stdout, stderr io.Writer, f surveyFlags, args []string) error {
	net, err := wire.ParseNetwork(f.network)
	if err != nil {
		return usageErr("%v", err)
	}
	if len(args) == 0 && len(f.connect) == 0 {
		return usageErr("give a DNS seed or at least one --connect host:port")
	}
	if len(args) == 1 && len(f.connect) > 0 {
		return usageErr("give either a DNS seed or --connect, not both")
	}
	if f.timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	if f.concurrency < 1 || f.concurrency > handshake.MaxConcurrency {
		return usageErr("--concurrency must be between 1 and %d", handshake.MaxConcurrency)
	}
	if f.maxAddrs < 1 {
		return usageErr("--max-addrs must be at least 1")
	}
	port := f.port
	if port == 0 {
		port = net.DefaultPort()
	}
	timeout := time.Duration(f.timeout * float64(time.Second))
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	targets := f.connect
	if len(args) == 1 {
		var resolver handshake.Resolver
		if f.dnsServer != "" {
			resolver = handshake.NewResolver(f.dnsServer, timeout)
		}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		targets, err = handshake.ResolveSeed(rctx, args[0], port, resolver, f.maxAddrs)
		cancel()
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		logger.Info("resolved seed", slog.String("seed", args[0]), slog.Int("addresses", len(targets)))
	}

	cfg := handshake.Config{
		Network:         net,
		ProtocolVersion: f.protocolVersion,
		UserAgent:       f.userAgent,
		Timeout:         timeout,
		MinPeerVersion:  f.minPeerVersion,
		Linger:          f.linger,
		Logger:          logger,
	}
	start := time.Now()
	ok, failed := 0, 0
	enc := json.NewEncoder(stdout)
	for res := range handshake.Survey(ctx, targets, cfg, f.concurrency) {
		if f.onResult != nil {
			f.onResult(res)
		}
		if res.OK() {
			ok++
		} else {
			failed++
		}
		if f.json {
			if err := enc.Encode(res.Report()); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			continue
		}
		fmt.Fprintln(stdout, humanLine(res))
	}
	if f.json {
		if err := enc.Encode(handshake.NewSummary(ok, failed, time.Since(start))); err != nil {
			return &exitError{code: exitFailed, err: err}
		}
	} else {
		fmt.Fprintf(stdout, "finished with %d SUCCESS & %d FAILED\n", ok, failed)
	}
	if failed > 0 {
		return &exitError{code: exitFailed}
	}
	return nil
}
