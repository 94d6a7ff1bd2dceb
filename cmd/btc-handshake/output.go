package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/internal/ndjson"
)

// humanLine is one peer's line of human output: address, SUCCESS/FAILED,
// peer version, user agent, quirks, time, error. Peer-controlled text is
// quoted with control characters escaped, so a peer cannot write to the
// terminal. A version refused as too low is shown too: it says how far
// off the peer is.
func humanLine(res *handshake.Result) string {
	status := "SUCCESS"
	if !res.OK() {
		status = "FAILED "
	}
	version, ua := "-", "-"
	if res.Peer != nil || res.Kind() == handshake.KindVersionTooLow {
		rep := res.Report()
		version = strconv.Itoa(int(rep.Version))
		ua = safeText(rep.UserAgent)
	}
	quirks := "-"
	if len(res.Quirks) > 0 {
		names := make([]string, len(res.Quirks))
		for i, q := range res.Quirks {
			names[i] = string(q)
		}
		quirks = strings.Join(names, ",")
	}
	transport := string(res.Transport)
	switch {
	case transport == "":
		transport = "-"
	case res.Fallback:
		transport += "(fallback)"
	}
	line := fmt.Sprintf("%-22s %s  version=%-6s ua=%s quirks=%s time=%s transport=%s",
		res.Addr, status, version, ua, quirks, res.Timings.Total.Round(10*time.Microsecond), transport)
	if res.Err != nil {
		line += " error=" + safeText(res.Err.Error())
	}
	return line
}

// safeText quotes s as a Go string literal, escaping control characters
// and invalid UTF-8, so terminal escape sequences from a peer are inert.
func safeText(s string) string { return strconv.Quote(s) }

// summaryCategories are the survey's counts in the order printed, with
// the label of each line.
var summaryCategories = []struct{ key, label string }{
	{"user_agent", "user agents"},
	{"version", "versions"},
	{"transport", "transports"},
	{"quirk", "quirks"},
	{"error", "errors"},
}

// maxSummaryValues bounds each human summary line: a survey of thousands
// of peers has hundreds of user agents, the JSON summary has them all.
const maxSummaryValues = 10

// writeSurveySummary prints a survey's closing lines: the totals, then
// one line per category, most frequent values first.
func writeSurveySummary(w io.Writer, s ndjson.Summary) {
	fmt.Fprintf(w, "finished with %d SUCCESS & %d FAILED\n", s.Passed, s.Failed)
	for _, c := range summaryCategories {
		fmt.Fprintf(w, "  %-12s %s\n", c.label+":", countsLine(c.key, s.Counts[c.key]))
	}
}

// countsLine renders value=count pairs, most frequent first; user agents
// are peer text, quoted.
func countsLine(key string, m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	type kv struct {
		k string
		n int
	}
	all := make([]kv, 0, len(m))
	for k, n := range m {
		all = append(all, kv{k, n})
	}
	slices.SortFunc(all, func(a, b kv) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.k, b.k))
	})
	var parts []string
	for i, e := range all {
		if i == maxSummaryValues {
			parts = append(parts, fmt.Sprintf("(%d more)", len(all)-i))
			break
		}
		k := e.k
		if key == "user_agent" {
			k = safeText(k)
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, e.n))
	}
	return strings.Join(parts, ", ")
}

// progress shows a survey's progress on stderr when stderr is a terminal
// (done/total, rate, ETA), redrawn in place a few times a second, and
// nothing otherwise: redirected output stays free of carriage returns.
type progress struct {
	w      io.Writer
	total  int
	start  time.Time
	ticker *time.Ticker
	shown  bool
}

// progressEvery is how often the progress line is redrawn.
const progressEvery = 200 * time.Millisecond

func newProgress(stderr io.Writer, total int) *progress {
	p := &progress{w: stderr, total: total, start: time.Now()}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && total > 0 {
		p.ticker = time.NewTicker(progressEvery)
	}
	return p
}

// tick fires when the line is due for a redraw; never when it is off.
func (p *progress) tick() <-chan time.Time {
	if p.ticker == nil {
		return nil
	}
	return p.ticker.C
}

func (p *progress) draw(done int) {
	elapsed := time.Since(p.start)
	rate := float64(done) / elapsed.Seconds()
	eta := "?"
	if done > 0 {
		eta = time.Duration(float64(p.total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r\x1b[K%d/%d peers, %.1f/s, ETA %s", done, p.total, rate, eta)
	p.shown = true
}

// clear removes the line before other output is written.
func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// done stops the redraws and removes the line; it may be called twice.
func (p *progress) done() {
	if p.ticker != nil {
		p.ticker.Stop()
		p.ticker = nil
	}
	p.clear()
}
