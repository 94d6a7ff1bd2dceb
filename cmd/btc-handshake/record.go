package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// checkOutputPath refuses, before any network work, a path whose
// directory does not exist.
func checkOutputPath(flag, path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return usageErr("%s %s: no such directory %s", flag, path, filepath.Dir(path))
	}
	return nil
}

// isDirTarget says whether --diagram names a directory (one file per
// connection) rather than a file (every diagram in it).
func isDirTarget(path string) bool {
	if strings.HasSuffix(path, string(os.PathSeparator)) {
		return true
	}
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// checkDiagramPath refuses a --diagram that is neither an existing
// directory nor a file in one.
func checkDiagramPath(path string) error {
	if path == "" || isDirTarget(path) && dirExists(path) {
		return nil
	}
	if isDirTarget(path) {
		return usageErr("--diagram %s: no such directory", path)
	}
	return checkOutputPath("--diagram", path)
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName makes a file name of s: what a peer or a cassette names is not
// trusted with the file system.
func fileName(s string) string {
	s = strings.Trim(unsafeName.ReplaceAllString(s, "_"), "._")
	if len(s) > 100 {
		s = s[:100]
	}
	if s == "" {
		s = "conn"
	}
	return s
}

// writeDiagrams writes c's mermaid diagrams to path: one file per
// connection, named by name(i), in a directory, or all in one file.
func writeDiagrams(path string, c *cassette.Cassette, name func(i int) string) error {
	if !isDirTarget(path) {
		var b bytes.Buffer
		if err := cassette.WriteDiagram(&b, c); err != nil {
			return err
		}
		return os.WriteFile(path, b.Bytes(), 0o644)
	}
	for i, cn := range c.Conns {
		one := &cassette.Cassette{Header: c.Header, Conns: []cassette.Conn{cn}}
		var b bytes.Buffer
		if err := cassette.WriteDiagram(&b, one); err != nil {
			return err
		}
		file := filepath.Join(path, fmt.Sprintf("%03d-%s.mmd", i+1, fileName(name(i))))
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// saveRecording writes what rec recorded of a survey: the cassette
// (redacted unless noRedact) and the diagrams.
func saveRecording(rec *cassette.Recorder, record, diagram string, noRedact bool) error {
	c := rec.Cassette()
	if !noRedact {
		cassette.Redact(c)
	}
	if record != "" {
		if err := c.WriteFile(record); err != nil {
			return err
		}
	}
	if diagram != "" {
		nodes := make([]string, len(c.Conns))
		for i, cn := range c.Conns {
			nodes[i] = cn.Node
		}
		return writeDiagrams(diagram, c, func(i int) string { return nodes[i] })
	}
	return nil
}

// cassetteScenarios turns every connection of the cassettes at paths into
// a scenario named FILE#CONN, expecting what the recorded client
// concluded unless expect (complete, fail) overrides it. It returns the
// cassettes' network, which they must share.
func cassetteScenarios(paths []string, expect string, speed float64) ([]scenarios.Scenario, wire.Network, error) {
	var out []scenarios.Scenario
	var network string
	for _, p := range paths {
		c, err := cassette.ReadFile(p)
		if err != nil {
			return nil, 0, usageErr("--cassette %v", err)
		}
		if network != "" && c.Header.Network != network {
			return nil, 0, usageErr("--cassette %s: network %s, the others are %s", p, c.Header.Network, network)
		}
		network = c.Header.Network
		for _, cn := range c.Conns {
			name := fmt.Sprintf("%s#%d", filepath.Base(p), cn.ID)
			s, err := cassette.Scenario(name, cn, cassette.ReplayOptions{Speed: speed})
			if err != nil {
				return nil, 0, usageErr("--cassette %s: %v", p, err)
			}
			switch expect {
			case "complete":
				s.Expect = scenarios.Completes()
			case "fail":
				s.Expect = scenarios.Verdict{}
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, 0, usageErr("--cassette: no connections to replay")
	}
	n, err := wire.ParseNetwork(network)
	if err != nil {
		return nil, 0, usageErr("--cassette: %v", err)
	}
	return out, n, nil
}

// judgementCassette draws a check run from what the mock witnessed: the
// client's commands and how the connection ended, with the verdict.
func judgementCassette(js []harness.Judgement, n wire.Network) *cassette.Cassette {
	c := &cassette.Cassette{Header: cassette.Header{Format: cassette.FormatVersion, Network: n.String(),
		Source: cassette.SourceReport, Tool: "btc-handshake check"}}
	for i, j := range js {
		cn := cassette.Conn{ID: i + 1, Node: "mock " + j.Scenario, End: cassette.End{How: cassette.EndUnknown}}
		for _, cmd := range j.Witness.Received {
			m := cassette.Message{Cmd: strings.TrimPrefix(cmd, "!")}
			if strings.HasPrefix(cmd, "!") {
				m.Err = "refused by the mock"
			}
			cn.Events = append(cn.Events, cassette.Event{From: cassette.Client, Msgs: []cassette.Message{m}})
		}
		switch j.Witness.Closed {
		case "client-fin":
			cn.End = cassette.End{How: cassette.EndFIN, By: cassette.Client}
		case "client-rst":
			cn.End = cassette.End{How: cassette.EndRST, By: cassette.Client}
		case "mock-fin":
			cn.End = cassette.End{How: cassette.EndFIN, By: cassette.Node}
		case "mock-rst":
			cn.End = cassette.End{How: cassette.EndRST, By: cassette.Node}
		case "open":
			cn.End = cassette.End{How: cassette.EndOpen}
		}
		verdict := "PASS"
		if !j.Passed() {
			verdict = "FAIL: " + strings.Join(j.Reasons, "; ")
		}
		outcome := "completed"
		if !j.Outcome.Completed {
			outcome = "failed " + j.Outcome.Kind
		}
		cn.Events = append(cn.Events, cassette.Event{From: cassette.Client,
			Msgs: []cassette.Message{{Cmd: "(" + outcome + ")", Err: verdict}}})
		c.Conns = append(c.Conns, cn)
	}
	return c
}
