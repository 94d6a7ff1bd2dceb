//go:build !unix

package mockpeer

import "net"

// tryWrite leaves every write to the caller's ordinary Write where raw
// descriptors are not unix ones.
func tryWrite(net.Conn, []byte) (int, bool) { return 0, false }
