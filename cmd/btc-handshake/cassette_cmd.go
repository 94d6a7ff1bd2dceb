package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/wire"
)

func newCassetteCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cassette",
		Short: "Import recordings (pcap, pcapng, Core -capturemessages) as cassettes and show them",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCassetteImportCmd(), newCassetteShowCmd())
	return cmd
}

func newCassetteImportCmd() *cobra.Command {
	var (
		out, host, network string
		port               uint16
		noRedact           bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE|DIR",
		Short: "Turn a pcap/pcapng file or a Core -capturemessages directory into a cassette",
		Long: `Turn a pcap or pcapng file (one connection per TCP stream) or Bitcoin Core's
-capturemessages output (a directory with msgs_recv.dat and msgs_sent.dat, or a
directory of such directories; messages only) into a cassette (JSON Lines).

Endpoint addresses, the addresses in version messages and version nonces are
redacted unless --no-redact is given; redacted frames keep valid checksums.`,
		Example: `  btc-handshake cassette import capture.pcap --port 8333 -o peer.cassette
  btc-handshake cassette import ~/.bitcoin/regtest/message_capture -n regtest`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := cassette.ImportOptions{Port: port, NoRedact: noRedact, Tool: "btc-handshake " + version()}
			if network != "" {
				net, err := wire.ParseNetwork(network)
				if err != nil {
					return usageErr("%v", err)
				}
				o.Network = net
			}
			if host != "" {
				a, err := netip.ParseAddr(strings.Trim(host, "[]"))
				if err != nil {
					return usageErr("--host %q: want an IP address", host)
				}
				o.Host = a
			}
			st, err := os.Stat(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			var c *cassette.Cassette
			if st.IsDir() {
				c, err = cassette.ImportCapture(args[0], o)
			} else {
				f, ferr := os.Open(args[0])
				if ferr != nil {
					return usageErr("%v", ferr)
				}
				defer f.Close()
				c, err = cassette.ImportPcap(f, filepath.Base(args[0]), o)
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			if out == "" || out == "-" {
				return c.Write(cmd.OutOrStdout())
			}
			if err := c.WriteFile(out); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			_, err = fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d connections\n", out, len(c.Conns))
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&out, "output", "o", "", "write the cassette to this file (default: standard output)")
	fl.Uint16Var(&port, "port", 0, "keep only connections with this TCP port on either side")
	fl.StringVar(&host, "host", "", "keep only connections with this IP address on either side")
	fl.StringVarP(&network, "network", "n", "", "network of the frames (default: found from the first version header; a capture directory needs it, else mainnet)")
	fl.BoolVar(&noRedact, "no-redact", false, "keep endpoint addresses, version addresses and nonces as recorded")
	return cmd
}

func newCassetteShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE",
		Short: "Print a cassette as a readable transcript, one line per message",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cassette.ReadFile(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			return cassette.WriteTranscript(cmd.OutOrStdout(), c)
		},
	}
}
