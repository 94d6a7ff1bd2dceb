package harness

import (
	"fmt"
	"slices"
	"time"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

// Judge compares an outcome with a verdict and returns the reasons it
// falls short; none means the client passed. limit bounds how long a
// failing client may take (its timeout plus the verdict's slack).
func Judge(v scenarios.Verdict, o Outcome, limit time.Duration) []string {
	var reasons []string
	if v.Complete {
		if !o.Completed {
			reasons = append(reasons, fmt.Sprintf("expected the handshake to complete, but it failed (%s)", describe(o)))
			return reasons
		}
		if o.Detailed {
			for _, q := range v.Quirks {
				if !slices.Contains(o.Quirks, q) {
					reasons = append(reasons, fmt.Sprintf("expected quirk %q, got %v", q, o.Quirks))
				}
			}
		}
		return reasons
	}
	if o.Completed {
		return append(reasons, fmt.Sprintf("expected a failure (%s), but the client reported success", v))
	}
	if o.Detailed {
		if v.Kind != "" && o.Kind != v.Kind {
			reasons = append(reasons, fmt.Sprintf("expected error kind %q, got %q (%s)", v.Kind, o.Kind, o.Message))
		}
		if v.Phase != "" && o.Phase != "" && o.Phase != v.Phase {
			reasons = append(reasons, fmt.Sprintf("expected failure in phase %q, got %q", v.Phase, o.Phase))
		}
	}
	if limit > 0 && o.Duration > limit {
		reasons = append(reasons, fmt.Sprintf("failure took %s, more than the bound %s", o.Duration.Round(time.Millisecond), limit))
	}
	return reasons
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
