package mockpeer

import "net"

// WithListener makes a Server accept on l, a listener the caller already
// holds (a recording listener, say), instead of listening itself. The
// Server owns l from then on and closes it in Close. Dial ignores it.
func WithListener(l net.Listener) Option { return func(c *config) { c.listener = l } }
