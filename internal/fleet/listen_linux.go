package fleet

import (
	"context"
	"net"
	"syscall"
)

// listenLoopbackDevice listens on 0.0.0.0, port chosen by the kernel,
// bound to the loopback device: connections to any 127.x.y.z arrive,
// nothing from another interface does.
func listenLoopbackDevice() (net.Listener, error) {
	lc := listenConfig()
	lc.Control = func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, "lo")
		}); err != nil {
			return err
		}
		return serr
	}
	return lc.Listen(context.Background(), "tcp4", "0.0.0.0:0")
}
