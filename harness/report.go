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

	"github.com/btc-handshake/btc-handshake/internal/ndjson"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

// Judgement is one client run against one scenario, judged.
type Judgement struct {
	Scenario string
	Summary  string
	// Expected is the scenario's verdict, with its alternatives.
	Expected scenarios.Verdict
	Outcome  Outcome
	// Witness is what the mock peer observed of the run.
	Witness Witness
	// Behaviour is the label of the outcome the client reached, when the
	// scenario has several ("" otherwise, or when it reached none).
	Behaviour scenarios.Behaviour
	// Reasons the client fell short; empty when it passed.
	Reasons []string
	// MockNotes are what the mock peer's script reported (for example, a
	// client that never sent its version); they explain, they do not judge.
	MockNotes []string
}

// Passed reports whether the client reached an acceptable outcome in a run
// that was not interrupted.
func (j Judgement) Passed() bool { return len(j.Reasons) == 0 && !j.Outcome.Interrupted }

// result is "PASS", "FAIL" or "INTERRUPTED".
func (j Judgement) result() string {
	switch {
	case j.Outcome.Interrupted:
		return "INTERRUPTED"
	case j.Passed():
		return "PASS"
	}
	return "FAIL"
}

// got is a short human form of what the client did, in the verdicts' terms.
func (j Judgement) got() string {
	o := j.Outcome
	if o.Interrupted {
		return "interrupted"
	}
	v := scenarios.Verdict{Complete: o.Completed, Quirks: o.Quirks}
	if !o.Completed && o.Kind != "" {
		v.Kind, v.Phase = o.Kind, o.Phase
	}
	return v.String()
}

// expected is the verdict's first outcome, and how many others are
// acceptable.
func (j Judgement) expected() string {
	s := j.Expected.String()
	if n := len(j.Expected.Or); n > 0 {
		s += fmt.Sprintf(" (or %d more)", n)
	}
	return s
}

func behaviourText(b scenarios.Behaviour) string {
	if b == "" {
		return "-"
	}
	return string(b)
}

// Judgements are the judgements of a run, in the scenarios' order.
type Judgements []Judgement

// Counts returns how many judgements passed and how many did not (failed
// or interrupted).
func (js Judgements) Counts() (passed, failed int) {
	for _, j := range js {
		if j.Passed() {
			passed++
		} else {
			failed++
		}
	}
	return passed, failed
}

func (js Judgements) interrupted() int {
	n := 0
	for _, j := range js {
		if j.Outcome.Interrupted {
			n++
		}
	}
	return n
}

// WriteTable writes a human table, one row per scenario, and a total line.
// What the client and the mock peer saw is escaped.
func (js Judgements) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tSCENARIO\tEXPECTED\tGOT\tBEHAVIOUR\tWITNESS\tTIME\tWHY")
	for _, j := range js {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.result(), j.Scenario, j.expected(), escapeText(j.got()),
			behaviourText(j.Behaviour), escapeText(j.Witness.String()), j.Outcome.Duration.Round(time.Millisecond),
			escapeText(strings.Join(j.Reasons, "; ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p, f := js.Counts()
	line := fmt.Sprintf("%d scenarios: %d passed, %d failed", p+f, p, f)
	if n := js.interrupted(); n > 0 {
		line += fmt.Sprintf(" (%d interrupted)", n)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// ndjsonRow is the NDJSON form of a Judgement.
type ndjsonRow struct {
	Type        string          `json:"type"` // "scenario"
	Scenario    string          `json:"scenario"`
	Pass        bool            `json:"pass"`
	Result      string          `json:"result"` // "pass", "fail" or "interrupted"
	Interrupted bool            `json:"interrupted"`
	Expected    string          `json:"expected"`
	Acceptable  []ndjsonOutcome `json:"acceptable"`
	Got         string          `json:"got"`
	Behaviour   string          `json:"behaviour,omitempty"`
	Kind        string          `json:"kind,omitempty"`
	Quirks      []string        `json:"quirks"`
	Witness     ndjsonWitness   `json:"witness"`
	DurationMS  float64         `json:"duration_ms"`
	Reasons     []string        `json:"reasons"`
	Message     string          `json:"message,omitempty"`
	MockNotes   []string        `json:"mock_notes,omitempty"`
}

type ndjsonOutcome struct {
	Outcome   string   `json:"outcome"`
	Behaviour string   `json:"behaviour,omitempty"`
	Sent      []string `json:"sent"`
}

type ndjsonWitness struct {
	Connected   bool     `json:"connected"`
	Connections int      `json:"connections"`
	Received    []string `json:"received"`
	Dropped     int      `json:"dropped,omitempty"`
	Closed      string   `json:"closed,omitempty"`
	ElapsedMS   float64  `json:"elapsed_ms"`
}

// runSummary is the closing NDJSON object of check and conform: the shape
// every command of the CLI ends with (ndjson.Summary), plus the counts
// only these two have.
type runSummary struct {
	ndjson.Summary
	Interrupted *int `json:"interrupted,omitempty"`
	Errors      *int `json:"errors,omitempty"`
}

// WriteNDJSON writes one JSON object per judgement, then the summary
// {"type":"summary","command":"check","total","passed","failed","skipped",
// "interrupted","elapsed_ms"}; elapsed is the run's wall time.
func (js Judgements) WriteNDJSON(w io.Writer, elapsed time.Duration) error {
	enc := json.NewEncoder(w)
	for _, j := range js {
		row := ndjsonRow{Type: "scenario", Scenario: j.Scenario, Pass: j.Passed(), Result: strings.ToLower(j.result()),
			Interrupted: j.Outcome.Interrupted, Expected: j.Expected.String(), Got: j.got(),
			Behaviour: string(j.Behaviour), Kind: j.Outcome.Kind, Quirks: append([]string{}, j.Outcome.Quirks...),
			Witness: ndjsonWitness{Connected: j.Witness.Connected, Connections: j.Witness.Connections,
				Received: append([]string{}, j.Witness.Received...), Dropped: j.Witness.Dropped,
				Closed: j.Witness.Closed, ElapsedMS: ms(j.Witness.Elapsed)},
			DurationMS: ms(j.Outcome.Duration), Reasons: append([]string{}, j.Reasons...),
			Message: j.Outcome.Message, MockNotes: j.MockNotes}
		for _, v := range j.Expected.Outcomes() {
			row.Acceptable = append(row.Acceptable, ndjsonOutcome{Outcome: v.String(), Behaviour: string(v.Behaviour), Sent: sentOrDefault(v)})
		}
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	p, f := js.Counts()
	n := js.interrupted()
	return enc.Encode(runSummary{Summary: ndjson.Summary{Type: "summary", Command: "check", Total: p + f,
		Passed: p, Failed: f, ElapsedMS: ms(elapsed)}, Interrupted: &n})
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Error     *junitFailure `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes a JUnit XML report, a test suite named suite with one
// testcase per scenario: a failure for a scenario the client did not
// pass, an error for an interrupted run. Text from the client and the mock
// is escaped line by line, so the XML stays valid whatever the client
// printed.
func (js Judgements) WriteJUnit(w io.Writer, suite string) error {
	s := junitSuite{Name: suite, Tests: len(js)}
	var total time.Duration
	for _, j := range js {
		total += j.Outcome.Duration
		c := junitCase{Name: j.Scenario, Classname: suite, Time: secs(j.Outcome.Duration),
			SystemOut: fmt.Sprintf("behaviour: %s\nwitness: %s\n", behaviourText(j.Behaviour), xmlText(j.Witness.String()))}
		if j.Outcome.Output != "" {
			c.SystemOut += "client output:\n" + xmlText(j.Outcome.Output)
		}
		detail := xmlText(fmt.Sprintf("scenario: %s\nacceptable: %s\ngot: %s\nwitness: %s\n%s",
			j.Summary, outcomesString(j.Expected.Outcomes()), j.got(), j.Witness, j.Outcome.Message))
		switch {
		case j.Outcome.Interrupted:
			s.Errors++
			c.Error = &junitFailure{Message: xmlText(strings.Join(j.Reasons, "; ")), Type: "interrupted", Text: detail}
		case !j.Passed():
			s.Failures++
			c.Failure = &junitFailure{Message: xmlText(strings.Join(j.Reasons, "; ")), Type: "verdict", Text: detail}
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

// xmlText escapes each line of s for a terminal (escapeText), which also
// leaves nothing XML 1.0 forbids but the non-characters U+FFFE and U+FFFF;
// those, too, become escapes. Line breaks are kept.
func xmlText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = escapeText(strings.TrimSuffix(l, "\r"))
		lines[i] = strings.NewReplacer("\ufffe", `\ufffe`, "\uffff", `\uffff`).Replace(l)
	}
	return strings.Join(lines, "\n")
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }
