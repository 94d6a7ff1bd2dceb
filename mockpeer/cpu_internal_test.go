package mockpeer

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// scriptedConn is a net.Conn that hands out a fixed byte stream, then
// io.EOF, and swallows writes: the mock's own CPU per connection, without
// sockets or scheduling.
type scriptedConn struct {
	in  []byte
	off int
}

func (s *scriptedConn) Read(b []byte) (int, error) {
	if s.off == len(s.in) {
		return 0, io.EOF
	}
	n := copy(b, s.in[s.off:])
	s.off += n
	return n, nil
}
func (s *scriptedConn) Write(b []byte) (int, error) { return len(b), nil }
func (s *scriptedConn) Close() error                { return nil }
func (s *scriptedConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 18444}
}
func (s *scriptedConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (s *scriptedConn) SetDeadline(time.Time) error      { return nil }
func (s *scriptedConn) SetReadDeadline(time.Time) error  { return nil }
func (s *scriptedConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkCoreConnCPU is one CoreResponder connection (accept record,
// version, verack, the post-verack burst, EOF, close) in RecordEvents
// mode, as a Server serves it, on a scripted conn. The records pile up
// as on a server under load.
func BenchmarkCoreConnCPU(b *testing.B) {
	client := wire.AppendMessage(nil, wire.Regtest, &wire.Version{ProtocolVersion: 70016, Nonce: 7,
		UserAgent: "/btc-handshake:0.1.0/", Relay: true})
	client = wire.AppendMessage(client, wire.Regtest, wire.WtxidRelay{})
	client = wire.AppendMessage(client, wire.Regtest, wire.SendAddrV2{})
	client = wire.AppendMessage(client, wire.Regtest, wire.Verack{})
	e := newEnv(newConfig([]Option{WithRecording(Recording{Frames: -1})}), "Close")
	sc := CoreResponder().HandshakeTimeout(0).Script()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c := newConn(e, &scriptedConn{in: client}, i)
		c.recordAccept()
		c.play(sc)
		_ = c.Close()
	}
}
