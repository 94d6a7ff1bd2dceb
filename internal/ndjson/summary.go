// Package ndjson holds what the commands of btc-handshake share in their
// NDJSON output beside handshake.Report: the closing summary object.
package ndjson

import (
	"strconv"

	"github.com/btc-handshake/btc-handshake/handshake"
)

// Summary is the last object of a command's NDJSON output, the same shape
// for every command: how many items (peers, scenarios, probes) there were
// and how many passed, failed or were skipped. For a survey an item passes
// when its handshake completes. Counts, when present, breaks the items
// down by a property ("user_agent", "version", "transport", "quirk",
// "error" for a survey), each a map from value to number of items.
type Summary struct {
	Type      string                    `json:"type"`    // always "summary"
	Command   string                    `json:"command"` // e.g. "survey", "connect", "demo"
	Total     int                       `json:"total"`
	Passed    int                       `json:"passed"`
	Failed    int                       `json:"failed"`
	Skipped   int                       `json:"skipped"`
	ElapsedMS float64                   `json:"elapsed_ms"`
	Counts    map[string]map[string]int `json:"counts,omitempty"`
}

// Add counts one survey result in s: passed or failed, and in Counts by
// the peer's user agent and protocol version (when it sent a version), by
// transport (of every connection made), by quirk and by error
// kind. Type and Command are the caller's to set.
func (s *Summary) Add(r *handshake.Result) {
	s.Type = "summary"
	s.Total++
	if r.OK() {
		s.Passed++
	} else {
		s.Failed++
	}
	if s.Counts == nil {
		s.Counts = map[string]map[string]int{}
	}
	count := func(by, value string) {
		m := s.Counts[by]
		if m == nil {
			m = map[string]int{}
			s.Counts[by] = m
		}
		m[value]++
	}
	if r.Peer != nil || r.Kind() == handshake.KindVersionTooLow {
		// A version refused as too low still says who the peer is: the
		// report shows it.
		rep := r.Report()
		count("user_agent", rep.UserAgent)
		count("version", strconv.Itoa(int(rep.Version)))
	}
	if r.Phase != handshake.PhaseConnect && r.Transport != "" {
		count("transport", string(r.Transport))
	}
	for _, q := range r.Quirks {
		count("quirk", string(q))
	}
	if k := r.Kind(); k != "" {
		count("error", string(k))
	} else if !r.OK() {
		count("error", string(handshake.KindIO))
	}
}
