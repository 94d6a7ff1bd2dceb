//go:build unix

package mockpeer

import (
	"errors"
	"io"
	"syscall"
	"time"
)

// rawIO does a connection's reads and writes that must not wait, on its
// descriptor. It is part of the Conn, set up on first use, so that a
// write costs no allocation: the RawConn and the one function handed to
// it are made once per connection.
type rawIO struct {
	rc    syscall.RawConn
	fn    func(fd uintptr) bool
	write bool   // what fn does
	b     []byte // what it writes, or where it reads to
	n     int
	err   error
}

// errWouldBlock: nothing could be read without waiting.
var errWouldBlock = errors.New("mockpeer: read would block")

func (c *Conn) rawIO() *rawIO {
	if c.raw.fn != nil {
		return &c.raw
	}
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	x := &c.raw
	x.rc = rc
	x.fn = func(fd uintptr) bool {
		if x.write {
			for x.n < len(x.b) {
				k, err := syscall.Write(int(fd), x.b[x.n:])
				if err == syscall.EINTR {
					continue
				}
				if err != nil || k <= 0 {
					break
				}
				x.n += k
			}
			return true // done either way: never wait here
		}
		for {
			k, err := syscall.Read(int(fd), x.b)
			if err == syscall.EINTR {
				continue
			}
			x.n, x.err = max(k, 0), err
			return true
		}
	}
	return x
}

// tryWrite writes as much of b as the socket takes without waiting, and
// reports how many bytes that was and whether it was all of b. It never
// blocks and never reports an error: whatever it could not write, for
// whatever reason, is left to the caller's ordinary Write, which waits
// with a deadline and reports errors as net.Conn does.
func (c *Conn) tryWrite(b []byte) (int, bool) {
	x := c.rawIO()
	if x == nil {
		return 0, false
	}
	x.write, x.b, x.n = true, b, 0
	err := x.rc.Write(x.fn)
	n := x.n
	x.b = nil
	return n, err == nil && n == len(b)
}

// Read is one read without waiting, for wire.Reader.FillFrom: what is
// there, io.EOF when the other side has closed, its reset, or
// errWouldBlock when nothing has arrived.
func (x *rawIO) Read(p []byte) (int, error) {
	x.write, x.b, x.n, x.err = false, p, 0, nil
	if err := x.rc.Read(x.fn); err != nil {
		return 0, err
	}
	n, err := x.n, x.err
	x.b = nil
	switch {
	case err == syscall.EAGAIN:
		return 0, errWouldBlock
	case err != nil:
		return 0, err
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// peerLeft reports, without waiting, that the other side has closed or
// reset the connection and sent nothing more: Bitcoin Core's socket
// thread has then marked the peer for disconnection, and its message
// handler skips such a peer instead of answering it (ThreadMessageHandler,
// src/net.cpp). Whatever the read brings stays buffered for Next; a reset
// it takes is handed to the next Next, as the read there would have seen
// it.
func (c *Conn) peerLeft() bool {
	if c.closed || c.fatal != nil || c.pending != nil || c.v2 != nil || c.r.Buffered() > 0 {
		return false
	}
	x := c.rawIO()
	if x == nil {
		return false
	}
	n, err := c.r.FillFrom(x)
	switch {
	case n > 0:
		c.lastRead = time.Now()
		return false
	case errors.Is(err, io.EOF):
		return true
	case errors.Is(err, syscall.ECONNRESET):
		c.pending, c.lastRead = err, time.Now()
		return true
	}
	return false
}
