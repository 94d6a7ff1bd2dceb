package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

func newMockCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mock",
		Short: "Serve mock peers from the scenario catalog",
	}
	cmd.AddCommand(newMockServeCmd())
	return cmd
}

// mockServeLong is mock serve's help.
const mockServeLong = `Serve one scenario of the catalog to every connection until SIGINT or
SIGTERM, then exit 0. The first line of stdout is the listening address
(host:port). The default listen address is on loopback only; give --listen
explicitly to listen elsewhere.

The scenarios that play a real node keep that node's peer timeout: they drop
a connection that has not completed the handshake (a silent peer, a peer that
never sends its verack) that long after it was accepted, as the node does:
core-v30-responder after 60 s (Bitcoin Core's -peertimeout default),
btcd-v0.26.2-responder after 30 s (btcd's negotiate timeout). --peer-timeout
sets it (0: never drop), for example to match 'conform --peer-timeout'. The
other scenarios play no node's timeout (the client's own decides), and
--peer-timeout is refused for them.

--replay serves the node's side of one recorded connection of a cassette
(btc-handshake --record, cassette import): to each client it sends the
recorded bytes with their segmentation and delays (--speed 2 twice as fast,
0 without delays) after the client's messages that came before them, and
ends as the node did. A client that departs from the recording (another
command where the recorded client sent one) is logged with the message's
position and both messages. Only v1 connections with bytes replay.`

// mockServeExample is mock serve's examples.
const mockServeExample = `  btc-handshake mock serve --scenario sendcmpct-before-verack -n regtest
  btc-handshake mock serve --scenario core-v30-responder --listen 127.0.0.1:18444
  btc-handshake mock serve --scenario btcd-v0.26.2-responder --peer-timeout 5s
  btc-handshake mock serve --replay wild-peer.cassette --conn 2 --speed 0`

// mockServeOptions are mock serve's flags.
type mockServeOptions struct {
	name, listen, network string
	verbose               bool
	peerTimeout           time.Duration
	replay                string
	speed                 float64
	connID                int
}

func newMockServeCmd() *cobra.Command {
	var o mockServeOptions
	cmd := &cobra.Command{
		Use:     "serve --scenario NAME | --replay FILE",
		Short:   "Serve one scenario to every connection until SIGINT/SIGTERM",
		Long:    mockServeLong,
		Example: mockServeExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, sc, err := o.plan(cmd)
			if err != nil {
				return err
			}
			return o.serve(cmd, n, sc)
		},
	}
	o.register(cmd.Flags())
	return cmd
}

func (o *mockServeOptions) register(fl *pflag.FlagSet) {
	fl.StringVar(&o.name, "scenario", "", "scenario to serve (see 'btc-handshake scenarios')")
	fl.StringVar(&o.listen, "listen", "127.0.0.1:0", "address to listen on (loopback unless given)")
	fl.StringVarP(&o.network, "network", "n", "regtest", "network whose magic the peer speaks")
	fl.BoolVarP(&o.verbose, "verbose", "v", false, "log each step to stderr")
	fl.DurationVar(&o.peerTimeout, "peer-timeout", 0, "drop a peer without a complete handshake after this long, 0 never (default: the real node's, core-v30-responder 60s, btcd-v0.26.2-responder 30s)")
	fl.StringVar(&o.replay, "replay", "", "serve the node of a recorded connection of this cassette instead of a scenario")
	fl.Float64Var(&o.speed, "speed", 1, "with --replay: divide the recorded delays by this (0: no delays)")
	fl.IntVar(&o.connID, "conn", 0, "with --replay: the cassette's connection to serve (default: the first)")
}

// plan validates the flags: the network and the scenario to serve (the
// catalog's or a recorded connection's).
func (o *mockServeOptions) plan(cmd *cobra.Command) (wire.Network, scenarios.Scenario, error) {
	name := o.name
	n, err := wire.ParseNetwork(o.network)
	if err != nil {
		return n, scenarios.Scenario{}, usageErr("%v", err)
	}
	if name == "" && o.replay == "" {
		return n, scenarios.Scenario{}, usageErr("give --scenario NAME or --replay FILE")
	}
	sc, ok := scenarios.All().Get(name)
	if o.replay != "" {
		if sc, n, err = replayScenario(cmd, o.replay, name, o.speed, o.connID, n); err != nil {
			return n, sc, err
		}
		name, ok = sc.Name, true
	}
	if !ok {
		return n, sc, usageErr("unknown scenario %q (see 'btc-handshake scenarios')", name)
	}
	if cmd.Flags().Changed("peer-timeout") {
		if o.peerTimeout < 0 {
			return n, sc, usageErr("--peer-timeout %v: want a duration of 0 or more", o.peerTimeout)
		}
		var ok bool
		if sc, ok = sc.WithPeerTimeout(o.peerTimeout); !ok {
			return n, sc, usageErr("--peer-timeout: scenario %q plays no node's peer timeout (core-v30-responder and btcd-v0.26.2-responder do)", name)
		}
	}
	if _, err := netip.ParseAddrPort(o.listen); err != nil {
		if _, _, serr := net.SplitHostPort(o.listen); serr != nil {
			return n, sc, usageErr("--listen %q: want host:port", o.listen)
		}
	}
	return n, sc, nil
}

// serve serves sc until the command's context ends.
func (o *mockServeOptions) serve(cmd *cobra.Command, n wire.Network, sc scenarios.Scenario) error {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
	srv := mockpeer.NewUnstartedServer(
		mockpeer.WithNetwork(n),
		mockpeer.WithAddr(o.listen),
		mockpeer.WithLogger(logger),
		// It serves until signalled: keep no transcript, so memory
		// does not grow with every connection a client makes.
		mockpeer.WithRecording(mockpeer.Recording{Off: true}),
		mockpeer.WithFailHandler(func(message string, _ ...int) {
			logger.Warn("script", slog.String("scenario", sc.Name), slog.String("failure", strings.TrimSpace(message)))
		}),
	)
	srv.SetDefaultScript(sc.Script)
	if err := srv.Start(); err != nil {
		// The net error says it all ("listen tcp ...: bind: ...").
		var op *net.OpError
		if errors.As(err, &op) {
			err = op
		}
		return usageErr("--listen %s: %v", o.listen, err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), srv.Addr())
	logger.Info("serving", slog.String("scenario", sc.Name), slog.String("addr", srv.Addr()), slog.String("network", n.String()))
	<-cmd.Context().Done()
	_ = srv.Close()
	logger.Info("stopped", slog.Int("connections", srv.Accepted()))
	return nil
}

// replayScenario is the scenario of --replay: the connection connID (0:
// the first) of the cassette at path, on its network unless -n was given.
func replayScenario(cmd *cobra.Command, path, name string, speed float64, connID int, n wire.Network) (scenarios.Scenario, wire.Network, error) {
	if name != "" {
		return scenarios.Scenario{}, 0, usageErr("give either --scenario or --replay, not both")
	}
	if speed < 0 {
		return scenarios.Scenario{}, 0, usageErr("--speed %v: want 0 or more", speed)
	}
	c, err := cassette.ReadFile(path)
	if err != nil {
		return scenarios.Scenario{}, 0, usageErr("--replay %v", err)
	}
	if !cmd.Flags().Changed("network") {
		if n, err = wire.ParseNetwork(c.Header.Network); err != nil {
			return scenarios.Scenario{}, 0, usageErr("--replay %s: %v", path, err)
		}
	}
	for _, cn := range c.Conns {
		if connID == 0 || cn.ID == connID {
			sc, err := cassette.Scenario(fmt.Sprintf("%s#%d", filepath.Base(path), cn.ID), cn, cassette.ReplayOptions{Speed: speed})
			if err != nil {
				return scenarios.Scenario{}, 0, usageErr("--replay %s: %v", path, err)
			}
			return sc, n, nil
		}
	}
	return scenarios.Scenario{}, 0, usageErr("--replay %s: no connection %d", path, connID)
}
