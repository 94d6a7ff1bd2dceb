package cassette_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/gomega"
)

// reasonClientClosed is Core's log line for a peer that closed first: not
// a reason of Core's own.
const reasonClientClosed = "socket closed"

var (
	logAccepted   = regexp.MustCompile(`\[net\] connection from (\S+) accepted$`)
	logAdded      = regexp.MustCompile(`\[net\] Added connection peer=(\d+)$`)
	logDisconnect = regexp.MustCompile(`\[net\] (.*?),? disconnecting peer=(\d+)`)
	logHeaderErr  = regexp.MustCompile(`\[net\] (Header error: .*), peer=(\d+)$`)
	logV2Err      = regexp.MustCompile(`\[net\] (V2 transport error: .*)$`)
)

// disconnectReasons reads one of the recorded debug logs (-debug=net) and
// returns, per client address of an inbound connection, the reason Core
// gave for disconnecting it: the text before "disconnecting peer=N", or,
// for "receiving message bytes failed", the transport error logged just
// before it (a v1 "Header error" names its peer; a "V2 transport error"
// does not, and is the line right before).
func disconnectReasons(name string) map[string]string {
	f, err := os.Open(filepath.Join(needRecordings(), "debug-log", name))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	addr := map[string]string{}      // peer id → client address
	headerErr := map[string]string{} // peer id → last Header error
	out := map[string]string{}
	lastPeer, lastV2Err := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := logAdded.FindStringSubmatch(line); m != nil {
			lastPeer = m[1]
			continue
		}
		if m := logAccepted.FindStringSubmatch(line); m != nil && lastPeer != "" {
			addr[lastPeer] = m[1]
			lastPeer = ""
			continue
		}
		if m := logHeaderErr.FindStringSubmatch(line); m != nil {
			headerErr[m[2]] = m[1]
			continue
		}
		if m := logV2Err.FindStringSubmatch(line); m != nil {
			lastV2Err = m[1]
			continue
		}
		if m := logDisconnect.FindStringSubmatch(line); m != nil {
			reason := m[1]
			if reason == "receiving message bytes failed" {
				if h, ok := headerErr[m[2]]; ok {
					reason = h
				} else if lastV2Err != "" {
					reason = lastV2Err
				}
				lastV2Err = ""
			}
			if a, ok := addr[m[2]]; ok {
				out[a] = strings.TrimSpace(reason)
			}
		}
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return out
}
