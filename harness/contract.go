package harness

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The timeout contract between the harness and a client.
//
// Run hands the client a context whose deadline is the client's own
// deadline: the moment by which a correct client has given up and
// reported. A Go client honours ctx's deadline; a command is told it as
// {timeout} / {timeout_ms} on its command line and BTC_HANDSHAKE_TIMEOUT
// in its environment. The harness judges a failure against exactly that
// deadline plus Options.Slack, and stops a command that is still running
// then. The slack travels in the context (withSlack) so that a Client
// built by this package knows when to stop, without a wider interface.

type slackKey struct{}

// withSlack returns ctx carrying the slack a client may take beyond ctx's
// deadline before it is stopped.
func withSlack(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, slackKey{}, d)
}

// slackOf returns the slack carried by ctx, or DefaultSlack.
func slackOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(slackKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return DefaultSlack
}

// escapeText makes text that a client, a peer or a node chose safe for a
// terminal: control characters (escape sequences among them), invalid
// UTF-8 and the Unicode format characters that reorder text become Go
// escapes (\x1b, \u202e, ...); everything else is kept as it is, so plain
// messages stay readable.
func escapeText(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case needsEscape(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
