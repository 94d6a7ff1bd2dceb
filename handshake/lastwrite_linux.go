package handshake

import (
	"io"
	"net"
	"os"
	"syscall"
)

// lastWriter writes the last bytes Dial sends before it closes the
// connection, with MSG_MORE, then shuts down the write side: the kernel
// holds the bytes until the shutdown, which sends them and the FIN in one
// segment. The peer then reads our verack and the end of the stream
// together, as if we had written and closed at once, and does not send its
// post-handshake messages into a closing socket (each answered with a
// reset): fewer packets for every peer a survey touches.
//
// The shutdown is what makes the bytes leave. Closing a socket that still
// has unread bytes (a peer message that came after our last read) sends a
// reset and throws away whatever the socket has not sent yet: a verack
// corked with MSG_MORE would be lost, and the peer would never see the
// handshake complete. After the shutdown the verack and the FIN are on
// their way, and a reset from the close can only follow them.
//
// It lives in the pooled session, so its callback is made once, not per
// handshake.
type lastWriter struct {
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// write writes b on conn; a connection that is not a *net.TCPConn is
// written as usual.
func (w *lastWriter) write(conn net.Conn, b []byte) error {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		_, err := conn.Write(b)
		return err
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	if w.fn == nil {
		w.fn = w.send
	}
	defer func() { w.b, w.err = nil, nil }()
	for w.b = b; len(w.b) > 0; w.b = w.b[w.n:] {
		w.n, w.err = 0, nil
		// RawConn.Write waits for the socket to take more, up to the
		// write deadline.
		if err := rc.Write(w.fn); err != nil {
			return err
		}
		if w.err != nil {
			return &net.OpError{Op: "write", Net: "tcp", Source: tc.LocalAddr(), Addr: tc.RemoteAddr(),
				Err: os.NewSyscallError("sendmsg", w.err)}
		}
		if w.n <= 0 {
			return io.ErrShortWrite
		}
	}
	return tc.CloseWrite()
}

func (w *lastWriter) send(fd uintptr) bool {
	for {
		w.n, w.err = syscall.SendmsgN(int(fd), w.b, nil, nil, syscall.MSG_MORE|syscall.MSG_NOSIGNAL)
		if w.err != syscall.EINTR {
			return w.err != syscall.EAGAIN
		}
	}
}
