//go:build !linux

package fleet

import (
	"errors"
	"net"
)

// listenLoopbackDevice is Linux's (SO_BINDTODEVICE); elsewhere each peer
// of a Fleet listens on its own (on the same port).
func listenLoopbackDevice() (net.Listener, error) { return nil, errors.ErrUnsupported }
