package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
)

// humanLine is one peer's line of human output: address, SUCCESS/FAILED,
// peer version, user agent, quirks, time, error. Peer-controlled text is
// quoted with control characters escaped, so a peer cannot write to the
// terminal.
func humanLine(res *handshake.Result) string {
	status := "SUCCESS"
	if !res.OK() {
		status = "FAILED "
	}
	version, ua := "-", "-"
	if p := res.Peer; p != nil {
		version = strconv.Itoa(int(p.ProtocolVersion))
		ua = safeText(p.UserAgent)
	}
	quirks := "-"
	if len(res.Quirks) > 0 {
		names := make([]string, len(res.Quirks))
		for i, q := range res.Quirks {
			names[i] = string(q)
		}
		quirks = strings.Join(names, ",")
	}
	line := fmt.Sprintf("%-22s %s  version=%-6s ua=%s quirks=%s time=%s",
		res.Addr, status, version, ua, quirks, res.Timings.Total.Round(10*time.Microsecond))
	if res.Err != nil {
		line += " error=" + safeText(res.Err.Error())
	}
	return line
}

// safeText quotes s as a Go string literal, escaping control characters
// and invalid UTF-8, so terminal escape sequences from a peer are inert.
func safeText(s string) string { return strconv.Quote(s) }
