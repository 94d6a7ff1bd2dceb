package harness

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

// Judgement is one client run against one scenario, judged.
type Judgement struct {
	Scenario string
	Summary  string
	Expected scenarios.Verdict
	Outcome  Outcome
	// Reasons the client fell short; empty when it passed.
	Reasons []string
	// MockNotes are what the mock peer's script reported (for example, a
	// client that never sent its version); they explain, they do not judge.
	MockNotes []string
}

// Passed reports whether the client reached the expected verdict.
func (j Judgement) Passed() bool { return len(j.Reasons) == 0 }

// got is a short human form of what the client did, in the verdicts' terms.
func (j Judgement) got() string {
	o := j.Outcome
	v := scenarios.Verdict{Complete: o.Completed, Quirks: o.Quirks}
	if !o.Completed && o.Kind != "" {
		v.Kind, v.Phase = o.Kind, o.Phase
	}
	return v.String()
}

// Counts returns how many judgements passed and failed.
func Counts(js []Judgement) (passed, failed int) {
	for _, j := range js {
		if j.Passed() {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

// WriteTable writes a human table, one row per scenario, and a total line.
func WriteTable(w io.Writer, js []Judgement) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tSCENARIO\tEXPECTED\tGOT\tTIME\tWHY")
	for _, j := range js {
		res := "PASS"
		if !j.Passed() {
			res = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", res, j.Scenario, j.Expected, j.got(),
			j.Outcome.Duration.Round(time.Millisecond), strings.Join(j.Reasons, "; "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p, f := Counts(js)
	_, err := fmt.Fprintf(w, "%d scenarios: %d passed, %d failed\n", p+f, p, f)
	return err
}

// ndjsonRow is the NDJSON form of a Judgement.
type ndjsonRow struct {
	Type       string   `json:"type"` // "scenario"
	Scenario   string   `json:"scenario"`
	Pass       bool     `json:"pass"`
	Expected   string   `json:"expected"`
	Got        string   `json:"got"`
	Kind       string   `json:"kind,omitempty"`
	Quirks     []string `json:"quirks"`
	DurationMS float64  `json:"duration_ms"`
	Reasons    []string `json:"reasons"`
	Message    string   `json:"message,omitempty"`
}

// WriteNDJSON writes one JSON object per judgement and a summary object.
func WriteNDJSON(w io.Writer, js []Judgement) error {
	enc := json.NewEncoder(w)
	for _, j := range js {
		row := ndjsonRow{Type: "scenario", Scenario: j.Scenario, Pass: j.Passed(), Expected: j.Expected.String(),
			Got: j.got(), Kind: j.Outcome.Kind, Quirks: append([]string{}, j.Outcome.Quirks...),
			DurationMS: float64(j.Outcome.Duration.Microseconds()) / 1000, Reasons: append([]string{}, j.Reasons...),
			Message: j.Outcome.Message}
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	p, f := Counts(js)
	return enc.Encode(map[string]any{"type": "summary", "passed": p, "failed": f, "total": p + f})
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes a JUnit XML report with one testcase per scenario.
func WriteJUnit(w io.Writer, suite string, js []Judgement) error {
	s := junitSuite{Name: suite, Tests: len(js)}
	var total time.Duration
	for _, j := range js {
		total += j.Outcome.Duration
		c := junitCase{Name: j.Scenario, Classname: suite, Time: secs(j.Outcome.Duration), SystemOut: j.Outcome.Output}
		if !j.Passed() {
			s.Failures++
			c.Failure = &junitFailure{Message: strings.Join(j.Reasons, "; "), Type: "verdict",
				Text: fmt.Sprintf("scenario: %s\nexpected: %s\ngot: %s\n%s", j.Summary, j.Expected, j.got(), j.Outcome.Message)}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
