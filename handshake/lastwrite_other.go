//go:build !linux

package handshake

import "net"

// lastWriter writes the last bytes Dial sends before it closes the
// connection. Linux sends them with the FIN in one segment
// (lastwrite_linux.go).
type lastWriter struct{}

func (*lastWriter) write(conn net.Conn, b []byte) error {
	_, err := conn.Write(b)
	return err
}
