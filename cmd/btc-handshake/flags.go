package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// maxDuration bounds every duration flag: a handshake timeout of hours is
// a typo (-t 1e10), not a wish.
const maxDuration = 24 * time.Hour

// parseDuration reads a duration flag: a Go duration with its unit
// ("2s", "500ms", "1m30s") or a bare number of seconds ("2", "0.5"), as
// -t always took. NaN, infinities and anything over maxDuration are
// refused, as are negative values; zero only when allowZero.
func parseDuration(s string, allowZero bool) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, errors.New("not a duration (use 2s, 500ms, or a number of seconds)")
		}
		if math.Abs(secs) > maxDuration.Seconds() {
			return 0, fmt.Errorf("over the limit of %v", maxDuration)
		}
		d = time.Duration(secs * float64(time.Second))
	} else {
		var perr error
		if d, perr = time.ParseDuration(s); perr != nil {
			return 0, errors.New("not a duration (use 2s, 500ms, or a number of seconds)")
		}
		if d > maxDuration || d < -maxDuration {
			return 0, fmt.Errorf("over the limit of %v", maxDuration)
		}
	}
	switch {
	case d < 0:
		return 0, errors.New("must not be negative")
	case d == 0 && !allowZero:
		return 0, errors.New("must be more than zero")
	}
	return d, nil
}

// durationFlag is a pflag.Value for parseDuration, so that a bad value is
// a usage error when the flags are parsed, before anything else runs.
type durationFlag struct {
	d         *time.Duration
	allowZero bool
}

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(s string) error {
	d, err := parseDuration(s, f.allowZero)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

func (f durationFlag) Type() string { return "duration" }

// durationVarP defines a duration flag read by parseDuration; zero is
// accepted only when allowZero (meaning "none", as --linger's 0).
func durationVarP(fs *pflag.FlagSet, d *time.Duration, name, short string, value time.Duration, allowZero bool, usage string) {
	*d = value
	fs.VarP(durationFlag{d: d, allowZero: allowZero}, name, short, usage+" (a duration such as 2s or 500ms; a bare number is seconds)")
}

// checkHostPort validates a host:port given by the user, before any
// network work: a missing port or host is a usage error, not a peer that
// failed to connect.
func checkHostPort(flag, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("%s %q: want host:port (e.g. 127.0.0.1:8333 or [::1]:8333)", flag, addr)
	}
	if host == "" {
		return usageErr("%s %q: the host is missing", flag, addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return usageErr("%s %q: the port must be a number from 1 to 65535", flag, addr)
	}
	return nil
}

// checkRange is a usage error when n is outside [lo, hi].
func checkRange(flag string, n, lo, hi int) error {
	if n < lo || n > hi {
		return usageErr("%s must be between %d and %d, not %d", flag, lo, hi, n)
	}
	return nil
}

// suggestCommand returns a usage error when arg looks like a mistyped
// subcommand of root rather than a DNS seed: it has no dot (a seed is a
// domain name) and is within a small edit distance of a subcommand's
// name (two edits, one for names under five letters). nil otherwise.
func suggestCommand(root *cobra.Command, arg string) error {
	if strings.Contains(arg, ".") || arg == "" {
		return nil
	}
	best, bestDist := "", math.MaxInt
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		for _, name := range append([]string{c.Name()}, c.Aliases...) {
			if d := editDistance(strings.ToLower(arg), name); d < bestDist {
				best, bestDist = name, d
			}
		}
	}
	limit := 2
	if len(best) < 5 {
		limit = 1
	}
	if bestDist > limit {
		return nil
	}
	return usageErr("unknown command %q — did you mean %q? (a DNS seed is a domain name: give it with its dots)", arg, best)
}

// editDistance is the edit distance between a and b, in bytes, counting
// an insertion, a deletion, a substitution or a swap of two neighbours as
// one edit each (the optimal string alignment distance): "dmeo" is one
// edit from "demo".
func editDistance(a, b string) int {
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(a); i++ {
		pp, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		rows[0], rows[1], rows[2] = prev, cur, pp
	}
	return rows[1][len(b)]
}

// version is the program's version: the module version it was built as,
// or "devel" with the VCS revision it was built from.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel (no build information)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v + " " + info.GoVersion
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel " + info.GoVersion
	}
	return "devel " + rev[:min(len(rev), 12)] + modified + " " + info.GoVersion
}
