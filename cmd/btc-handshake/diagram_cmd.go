package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/handshake"
)

func newDiagramCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "diagram FILE",
		Short: "Print a mermaid sequenceDiagram of each connection of a cassette or of --json output",
		Long: `Print a mermaid sequenceDiagram per connection: the client and the node as
participants, one arrow per message with its time, notes for closes and for how
the connection ended. FILE is a cassette, or the NDJSON that btc-handshake --json
prints (one diagram per peer object, from its transcript).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := readDiagramInput(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			return cassette.WriteDiagram(cmd.OutOrStdout(), c)
		},
	}
}

// maxReportLine and maxReportSize bound an NDJSON input: a peer object
// with a full transcript is a few kilobytes.
const (
	maxReportLine = 1 << 20
	maxReportSize = 64 << 20
)

// readDiagramInput reads a cassette, or --json output turned into a
// messages-only cassette: one connection per peer object, our client as
// the client, the peer as the node.
func readDiagramInput(path string) (*cassette.Cassette, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(io.LimitReader(f, maxReportSize))
	first, _ := br.Peek(64)
	var probe struct {
		Type string `json:"type"`
	}
	line, _, _ := strings.Cut(string(first), ",")
	if json.Unmarshal([]byte(line+"}"), &probe) == nil && probe.Type == "cassette" || strings.Contains(line, `"type":"cassette"`) {
		return cassette.Read(br)
	}
	c := &cassette.Cassette{Header: cassette.Header{Format: cassette.FormatVersion, Source: cassette.SourceReport, Origin: filepath.Base(path)}}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), maxReportLine)
	n := 0
	for sc.Scan() {
		n++
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var rep handshake.Report
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			return nil, fmt.Errorf("%s: line %d: neither a cassette nor --json output: %v", path, n, err)
		}
		if rep.Type != "peer" {
			continue
		}
		c.Conns = append(c.Conns, reportConn(len(c.Conns)+1, rep))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %v", path, n+1, err)
	}
	if len(c.Conns) == 0 {
		return nil, fmt.Errorf("%s: no cassette header and no peer objects", path)
	}
	return c, nil
}

// reportConn is one peer object's transcript as a connection.
func reportConn(id int, rep handshake.Report) cassette.Conn {
	cn := cassette.Conn{ID: id, Node: rep.Address, End: cassette.End{How: cassette.EndUnknown}}
	var last int64
	for _, m := range rep.Messages {
		from := cassette.Client
		if m.Received {
			from = cassette.Node
		}
		at := max(m.At.Microseconds(), last)
		last = at
		cn.Events = append(cn.Events, cassette.Event{From: from, At: at,
			Msgs: []cassette.Message{{Cmd: m.Command, Len: max(m.Size, 0), Err: m.Err}}})
	}
	cn.End.At = last
	if rep.Error != nil {
		// The verdict goes beside the last message: End.How says only how
		// the connection ended, which the report does not record.
		cn.Events = append(cn.Events, cassette.Event{From: cassette.Client, At: last,
			Msgs: []cassette.Message{{Cmd: "(failed)", Err: string(rep.Error.Kind) + ": " + rep.Error.Message}}})
	}
	return cn
}
