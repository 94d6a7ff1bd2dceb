//go:build !linux

package mockpeer

import (
	"errors"
	"net"
)

// listenLoopbackDevice is Linux's (SO_BINDTODEVICE); elsewhere each peer
// of a Fleet listens on its own.
func listenLoopbackDevice() (net.Listener, error) { return nil, errors.ErrUnsupported }
