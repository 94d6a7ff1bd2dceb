package scenarios

import (
	"fmt"
	"strings"
	"time"
)

// Behaviour labels one of several outcomes that correct clients reach when
// they legitimately differ: where Bitcoin Core ignores what a peer did and
// others refuse it, or the other way round.
type Behaviour string

// The behaviours a verdict's outcomes are labelled with.
const (
	// CoreLike is what Bitcoin Core does as the connecting side.
	CoreLike Behaviour = "core-like"
	// Tolerant completes where Core would not (it accepts more).
	Tolerant Behaviour = "tolerant"
	// Rejecting fails where Core completes, on a peer that broke a rule
	// no correct peer breaks (btcd, for example, drops such peers).
	Rejecting Behaviour = "rejecting"
)

// Verdict is what a correct counterpart does against a scenario: complete
// the handshake, or fail with the listed error kind within a bounded time.
// Where correct clients legitimately differ, Or lists the other outcomes
// they may reach, each labelled with its Behaviour. Kinds and quirks are
// the names used by package handshake and in the CLI's JSON.
type Verdict struct {
	// Complete: the handshake must complete. Otherwise it must fail.
	Complete bool
	// Kind is the error kind of a failure ("" accepts any kind).
	Kind string
	// Phase is the phase a failure happens in ("" accepts any).
	Phase string
	// Quirks are what a client that reports quirks is expected to name;
	// they are diagnostics, required only in a strict run.
	Quirks []string
	// Within bounds how long after the client's own timeout a failure may
	// take; zero means the harness default.
	Within time.Duration
	// Sent lists the commands the mock peer must have received from the
	// client on one connection, in this order (others may come between):
	// how far a correct client takes part before it reaches this outcome.
	// Empty means version and verack for a completion and version for a
	// failure; a completion always needs both.
	Sent []string
	// Behaviour labels this outcome when the scenario has several ("" when
	// it is the only correct one).
	Behaviour Behaviour
	// Or lists the other outcomes a correct client may reach (their own Or
	// is ignored).
	Or []Verdict
}

// Completes is the verdict "completes, showing these quirks".
func Completes(quirks ...string) Verdict { return Verdict{Complete: true, Quirks: quirks} }

// Fails is the verdict "fails with this kind (in this phase, if given)".
func Fails(kind string, phase ...string) Verdict {
	v := Verdict{Kind: kind}
	if len(phase) > 0 {
		v.Phase = phase[0]
	}
	return v
}

// Outcomes returns every acceptable outcome: v itself (without Or), then
// each of v.Or.
func (v Verdict) Outcomes() []Verdict {
	first := v
	first.Or = nil
	out := []Verdict{first}
	for _, o := range v.Or {
		o.Or = nil
		out = append(out, o)
	}
	return out
}

// String is a short human form of the first outcome: "complete [q1 q2]" or
// "fail timeout@verack".
func (v Verdict) String() string {
	if v.Complete {
		if len(v.Quirks) == 0 {
			return "complete"
		}
		return "complete [" + strings.Join(v.Quirks, " ") + "]"
	}
	s := "fail"
	if v.Kind != "" {
		s += " " + v.Kind
	}
	if v.Phase != "" {
		s += fmt.Sprintf("@%s", v.Phase)
	}
	return s
}
