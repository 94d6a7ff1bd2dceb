package handshake

import (
	"net"
	"os"
	"syscall"
)

// writeLast writes b, the last bytes Dial sends before it closes conn,
// with MSG_MORE: the kernel holds them until the close, which sends them
// and the FIN in one segment. The peer then reads our verack and the end
// of the stream together, as if we had written and closed at once, and
// does not send its post-handshake messages into a closing socket (each
// answered with a reset): fewer packets for every peer a survey touches.
// Any other connection is written as usual.
func writeLast(conn net.Conn, b []byte) error {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		_, err := conn.Write(b)
		return err
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	for len(b) > 0 {
		var n int
		var werr error
		// RawConn.Write waits for the socket to take more, up to the
		// write deadline.
		err = rc.Write(func(fd uintptr) bool {
			for {
				n, werr = syscall.SendmsgN(int(fd), b, nil, nil, syscall.MSG_MORE|syscall.MSG_NOSIGNAL)
				if werr != syscall.EINTR {
					return werr != syscall.EAGAIN
				}
			}
		})
		if err == nil && werr != nil {
			err = &net.OpError{Op: "write", Net: "tcp", Source: tc.LocalAddr(), Addr: tc.RemoteAddr(),
				Err: os.NewSyscallError("sendmsg", werr)}
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
