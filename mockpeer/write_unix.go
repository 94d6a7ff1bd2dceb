//go:build unix

package mockpeer

import (
	"net"
	"syscall"
)

// tryWrite writes as much of b as the socket takes without waiting, and
// reports how many bytes that was and whether it was all of b. It never
// blocks and never reports an error: whatever it could not write, for
// whatever reason, is left to the caller's ordinary Write, which waits
// with a deadline and reports errors as net.Conn does.
func tryWrite(nc net.Conn, b []byte) (int, bool) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	n := 0
	err = rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			k, err := syscall.Write(int(fd), b[n:])
			if err == syscall.EINTR {
				continue
			}
			if err != nil || k <= 0 {
				break
			}
			n += k
		}
		return true // done either way: never wait here
	})
	return n, err == nil && n == len(b)
}
