package harness

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

// Judge compares what a client reported with a verdict and its
// alternatives, without a witness (for runs no mock peer watched, such as
// a survey of real peers), and returns the reasons it falls short of every
// acceptable outcome; none means the report is one a correct client may
// give. limit bounds how long a failing client may take. Quirks are not
// required. Run judges with what its mock peer witnessed as well.
func (o Outcome) Judge(v scenarios.Verdict, limit time.Duration) []string {
	_, reasons := judge(v, o, nil, limit, Options{})
	return reasons
}

// judge picks the first acceptable outcome of v that the client reached,
// checking what it reported (o) and, when w is not nil, what the mock
// peer witnessed. It returns that outcome's behaviour, or the reasons the
// run falls short of the closest acceptable outcome.
func judge(v scenarios.Verdict, o Outcome, w *Witness, limit time.Duration, opts Options) (scenarios.Behaviour, []string) {
	if o.Interrupted {
		return "", []string{"interrupted: the run was cut short before the client's deadline, so it proves nothing"}
	}
	if o.Invalid != "" {
		return "", []string{"could not read the client's result: " + o.Invalid}
	}
	if w != nil && !w.Connected {
		claim := "it reported a failure"
		if o.Completed {
			claim = "it reported success"
		}
		return "", []string{"the client never connected to the mock peer (" + claim + ")"}
	}
	all := v.Outcomes()
	allowed := allowedOutcomes(all, opts.Expect)
	elapsed := o.Duration
	if w != nil && w.Elapsed > 0 {
		elapsed = w.Elapsed
	}
	var best []string
	bestScore := -1
	for _, c := range allowed {
		reasons := check(c, o, w, elapsed, limit, opts.Strict)
		if len(reasons) == 0 {
			return c.Behaviour, nil
		}
		// The closest outcome is one whose completion agrees with the
		// client's; among those, the first.
		score := 0
		if c.Complete == o.Completed {
			score = 1
		}
		if score > bestScore {
			best, bestScore = reasons, score
		}
	}
	if len(allowed) < len(all) {
		for _, c := range all {
			if slices.ContainsFunc(allowed, func(a scenarios.Verdict) bool { return a.Behaviour == c.Behaviour }) {
				continue
			}
			if len(check(c, o, w, elapsed, limit, opts.Strict)) == 0 {
				return c.Behaviour, []string{fmt.Sprintf("the client showed %s behaviour (%s), but %s behaviour was required (%s)",
					c.Behaviour, c, opts.Expect, outcomesString(allowed))}
			}
		}
	}
	return "", best
}

// allowedOutcomes keeps the outcomes labelled want; where none is, the
// Core-like ones (a tolerant or a rejecting client behaves like Core
// wherever it has no latitude); where none is labelled at all, every one.
func allowedOutcomes(all []scenarios.Verdict, want scenarios.Behaviour) []scenarios.Verdict {
	if want == "" {
		return all
	}
	for _, b := range []scenarios.Behaviour{want, scenarios.CoreLike} {
		var keep []scenarios.Verdict
		for _, c := range all {
			if c.Behaviour == b {
				keep = append(keep, c)
			}
		}
		if len(keep) > 0 {
			return keep
		}
	}
	return all
}

// check returns the reasons the run did not reach outcome c.
func check(c scenarios.Verdict, o Outcome, w *Witness, elapsed, limit time.Duration, strict bool) []string {
	var reasons []string
	if c.Complete {
		if !o.Completed {
			return []string{fmt.Sprintf("expected the handshake to complete, but it failed (%s)", describe(o))}
		}
		if w != nil {
			if r := w.missing(sentOrDefault(c)); r != "" {
				reasons = append(reasons, "the client reported success, but "+r)
			}
		}
		if strict && o.Detailed {
			for _, q := range c.Quirks {
				if !slices.Contains(o.Quirks, q) {
					reasons = append(reasons, fmt.Sprintf("expected quirk %q, got %v", q, o.Quirks))
				}
			}
		}
		return reasons
	}
	if o.Completed {
		reasons = append(reasons, fmt.Sprintf("expected a failure (%s), but the client reported success", c))
		if w != nil {
			if r := w.missing(sentOrDefault(c)); r != "" {
				reasons = append(reasons, r)
			}
		}
		return reasons
	}
	if w != nil {
		if r := w.missing(sentOrDefault(c)); r != "" {
			reasons = append(reasons, "the client failed without taking part as far as the scenario allows: "+r)
		}
	}
	if o.Detailed {
		if c.Kind != "" && o.Kind != c.Kind {
			reasons = append(reasons, fmt.Sprintf("expected error kind %q, got %q (%s)", c.Kind, o.Kind, o.Message))
		}
		if c.Phase != "" && o.Phase != "" && o.Phase != c.Phase {
			reasons = append(reasons, fmt.Sprintf("expected failure in phase %q, got %q", c.Phase, o.Phase))
		}
	}
	if limit > 0 && elapsed > limit+c.Within {
		reasons = append(reasons, fmt.Sprintf("failure took %s, more than the bound %s", elapsed.Round(time.Millisecond), limit+c.Within))
	}
	return reasons
}

// sentOrDefault is what the mock must have received for outcome c.
func sentOrDefault(c scenarios.Verdict) []string {
	if c.Complete {
		// A completion needs both, whatever the verdict lists.
		return []string{"version", "verack"}
	}
	if len(c.Sent) == 0 {
		return []string{"version"}
	}
	return c.Sent
}

func outcomesString(vs []scenarios.Verdict) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.String()
		if v.Behaviour != "" {
			parts[i] += " (" + string(v.Behaviour) + ")"
		}
	}
	return strings.Join(parts, " or ")
}

func describe(o Outcome) string {
	switch {
	case o.Kind != "" && o.Message != "":
		return o.Kind + ": " + o.Message
	case o.Kind != "":
		return o.Kind
	case o.Message != "":
		return o.Message
	}
	return "no detail"
}
