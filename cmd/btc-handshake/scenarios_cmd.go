package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

// scenarioJSON is the --json form of one scenario.
type scenarioJSON struct {
	Name     string   `json:"name"`
	Summary  string   `json:"summary"`
	Origin   string   `json:"origin"`
	Role     string   `json:"role"`
	Tags     []string `json:"tags"`
	Expected string   `json:"expected"`
	Complete bool     `json:"complete"`
	Kind     string   `json:"kind,omitempty"`
	Phase    string   `json:"phase,omitempty"`
	Quirks   []string `json:"quirks"`
	// Transport is the transport a client is told to use: v1, v2 or auto.
	Transport string `json:"transport"`
	// Also lists the other outcomes a correct client may reach, each with
	// its behaviour ("core-like", "tolerant", "rejecting").
	Also []string `json:"also_correct"`
}

// alsoCorrect renders the outcomes after the first, e.g.
// "fail timeout@verack (core-like)".
func alsoCorrect(v scenarios.Verdict) []string {
	out := []string{}
	for _, o := range v.Outcomes()[1:] {
		s := o.String()
		if o.Behaviour != "" {
			s += " (" + string(o.Behaviour) + ")"
		}
		out = append(out, s)
	}
	return out
}

func newScenariosCmd() *cobra.Command {
	var (
		asJSON    bool
		transport string
	)
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List the catalog of misbehaving peers and the verdict a correct client reaches",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			all := scenarios.All().Transport(transport)
			if !slices.Contains([]string{"v1", "v2", "auto", "all"}, transport) {
				return usageErr("--transport must be v1, v2, auto or all, not %q", transport)
			}
			if asJSON {
				enc := json.NewEncoder(out)
				for _, s := range all {
					// Every scenario plays a node (probes play a client).
					if err := enc.Encode(scenarioJSON{Name: s.Name, Summary: s.Summary, Origin: s.Origin, Role: "node",
						Tags: append([]string{}, s.Tags...), Expected: s.Expect.String(), Complete: s.Expect.Complete,
						Kind: s.Expect.Kind, Phase: s.Expect.Phase, Quirks: append([]string{}, s.Expect.Quirks...), Also: alsoCorrect(s.Expect),
						Transport: s.TransportOf()}); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTRANSPORT\tEXPECTED\tALSO CORRECT\tSUMMARY")
			for _, s := range all {
				also := strings.Join(alsoCorrect(s.Expect), "; ")
				if also == "" {
					also = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.TransportOf(), s.Expect, also, s.Summary)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			_, err := fmt.Fprintf(out, "%d scenarios (tags: %s); --json adds each one's origin\n", len(all),
				strings.Join([]string{"log", "core", "malformed", "transport", "timing", "implementation", "v2"}, ", "))
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per scenario, with origin and tags")
	cmd.Flags().StringVar(&transport, "transport", "all", "only scenarios whose client transport is v1, v2 or auto (default all)")
	return cmd
}
