package harness

import (
	"fmt"
	"slices"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/btc-handshake/btc-handshake/handshake"
)

// outcomeOf accepts what the matchers can judge: handshake results,
// reports, outcomes and judgements.
func outcomeOf(actual any) (Outcome, error) {
	switch a := actual.(type) {
	case *handshake.Result:
		if a == nil {
			return Outcome{}, fmt.Errorf("nil *handshake.Result")
		}
		return FromResult(a), nil
	case handshake.Result:
		return FromResult(&a), nil
	case handshake.Report:
		return fromReport(a), nil
	case *handshake.Report:
		return fromReport(*a), nil
	case Outcome:
		return a, nil
	case *Outcome:
		return *a, nil
	case Judgement:
		return a.Outcome, nil
	}
	return Outcome{}, fmt.Errorf("harness matchers take a *handshake.Result, handshake.Report, harness.Outcome or harness.Judgement, not %T", actual)
}

// CompleteHandshake succeeds when the handshake completed.
func CompleteHandshake() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o, err := outcomeOf(actual)
		return err == nil && o.Completed, err
	}).WithTemplate("Expected the handshake to {{.To}} complete; it ended with {{.Actual | format}}")
}

// FailWith succeeds when the handshake failed with the given error kind (a
// handshake.Kind or its string) and, when a phase is given, in that phase.
// An empty kind or phase accepts any, as in a scenarios.Verdict.
func FailWith[K ~string](kind K, phase ...handshake.Phase) types.GomegaMatcher {
	var p handshake.Phase
	if len(phase) > 0 {
		p = phase[0]
	}
	what := "kind " + string(kind)
	if kind == "" {
		what = "any kind"
	}
	if p != "" {
		what += " in phase " + string(p)
	}
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o, err := outcomeOf(actual)
		if err != nil {
			return false, err
		}
		return !o.Completed && (kind == "" || o.Kind == string(kind)) && (p == "" || o.Phase == string(p)), nil
	}).WithTemplate("Expected the handshake {{.To}} fail with {{.Data}}; got {{.Actual | format}}", what)
}

// HaveQuirk succeeds when the named quirk was reported.
func HaveQuirk[Q ~string](quirk Q) types.GomegaMatcher {
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		o, err := outcomeOf(actual)
		if err != nil {
			return false, err
		}
		return slices.Contains(o.Quirks, string(quirk)), nil
	}).WithTemplate("Expected {{.Actual | format}} {{.To}} have quirk {{.Data}}", string(quirk))
}

// PassVerdict succeeds when a Judgement passed, or every one of
// Judgements (as Run returns them); its failure message lists the
// reasons.
func PassVerdict() types.GomegaMatcher {
	return gcustom.MakeMatcher(func(actual any) (bool, error) {
		switch a := actual.(type) {
		case Judgement:
			return a.Passed(), nil
		case Judgements:
			if len(a) == 0 {
				return false, fmt.Errorf("PassVerdict: no judgements (nothing ran)")
			}
			_, failed := a.Counts()
			return failed == 0, nil
		}
		return false, fmt.Errorf("PassVerdict takes a harness.Judgement or harness.Judgements, not %T", actual)
	}).WithTemplate("Expected scenario verdict {{.To}} pass:\n{{.Actual | format}}")
}
