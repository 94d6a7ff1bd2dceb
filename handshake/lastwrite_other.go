//go:build !linux

package handshake

import "net"

// writeLast writes b, the last bytes Dial sends before it closes conn.
// Linux sends them with the FIN in one segment (lastwrite_linux.go).
func writeLast(conn net.Conn, b []byte) error {
	_, err := conn.Write(b)
	return err
}
