//go:build !unix

package mockpeer

// rawIO is not available where raw descriptors are not unix ones.
type rawIO struct{}

// tryWrite leaves every write to the caller's ordinary Write.
func (c *Conn) tryWrite([]byte) (int, bool) { return 0, false }

// peerLeft cannot tell without waiting.
func (c *Conn) peerLeft() bool { return false }
