package loopback

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
)

// Sources returns, for a node at addr, the local address of a run's i-th
// connection (harness.ProbeOptions.LocalAddr's default). When the node is
// on an IPv4 loopback address on Linux (where all of 127/8 is the
// machine's), connection i binds 127.x.y.1, each from its own /24, so
// btcd's limit of 8 unfinished inbound handshakes per source /24 never
// bites, and never from 127.0.0.1, which btcd on regtest treats
// specially. Otherwise it is "" (the system's choice).
func Sources(addr string) func(i int) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return func(int) string { return "" }
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Unmap().Is4() || !ip.IsLoopback() || runtime.GOOS != "linux" {
		return func(int) string { return "" }
	}
	return func(i int) string {
		n := i + 1
		return fmt.Sprintf("127.%d.%d.1:0", (n/254)%256, 1+n%254)
	}
}
