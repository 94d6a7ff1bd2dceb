package scenarios

import (
	"fmt"
	"strings"
	"time"
)

// Verdict is what a correct counterpart does against a scenario: complete
// the handshake (showing at least the listed quirks), or fail with the
// listed error kind within a bounded time. Kinds and quirks are the names
// used by package handshake and in the CLI's JSON.
type Verdict struct {
	// Complete: the handshake must complete. Otherwise it must fail.
	Complete bool
	// Kind is the error kind of a failure ("" accepts any kind).
	Kind string
	// Phase is the phase a failure happens in ("" accepts any).
	Phase string
	// Quirks must all be reported (checked only for clients that report quirks).
	Quirks []string
	// Within bounds how long after the client's own timeout a failure may
	// take; zero means the harness default.
	Within time.Duration
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

// String is a short human form: "complete [q1 q2]" or "fail timeout@verack".
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
