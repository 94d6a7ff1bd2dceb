// Package loopback holds what the loopback fuzz targets of handshake and
// mockpeer share: dialing from a fresh 127/8 address and knowing whether
// the fuzzer (not just the seed corpus) is running; and the loopback
// sources the conformance probes (and the integration lanes) connect from.
package loopback

import (
	"flag"
	"math/rand/v2"
	"net"
	"time"
)

// Dial connects to addr from a random address in 127/8, trying four times
// with a 2 s timeout each. A fresh source address means a SYN never meets
// a TIME_WAIT left on the same ports, and a SYN dropped by a full
// connection-tracking table is retried from elsewhere.
func Dial(addr string) (net.Conn, error) {
	var err error
	for range 4 {
		d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{
			IP: net.IPv4(127, byte(1+rand.IntN(254)), byte(rand.IntN(256)), byte(1+rand.IntN(254)))}}
		var c net.Conn
		if c, err = d.Dial("tcp", addr); err == nil {
			return c, nil
		}
	}
	return nil, err
}

// Fuzzing reports whether the test binary runs the fuzzer (-test.fuzz),
// not only the seed corpus of go test.
func Fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}
