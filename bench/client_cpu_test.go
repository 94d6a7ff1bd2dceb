package bench_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// fakeConn is a net.Conn that answers with a fixed byte stream and
// swallows writes: our client's own CPU per handshake, without sockets.
type fakeConn struct {
	net.Conn
	reply []byte
	off   int
}

func (f *fakeConn) Write(b []byte) (int, error) { return len(b), nil }
func (f *fakeConn) Read(b []byte) (int, error) {
	n := copy(b, f.reply[f.off:])
	f.off += n
	return n, nil
}
func (f *fakeConn) SetDeadline(time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }
func (f *fakeConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8333}
}
func (f *fakeConn) Close() error { return nil }

// BenchmarkClientCPU is handshake.Run against a peer that answers as
// Bitcoin Core does (version, wtxidrelay, sendaddrv2, verack in one read),
// on an in-memory conn: the client's CPU and allocations per handshake.
func BenchmarkClientCPU(b *testing.B) {
	if err := benchClientCPU(b); err != nil {
		b.Fatal(err)
	}
}

func benchClientCPU(b *testing.B) error {
	reply := wire.AppendMessage(nil, wire.Regtest, &wire.Version{ProtocolVersion: 70016, Nonce: 7, UserAgent: "/Satoshi:30.0.0/", Relay: true})
	reply = wire.AppendMessage(reply, wire.Regtest, wire.WtxidRelay{})
	reply = wire.AppendMessage(reply, wire.Regtest, wire.SendAddrV2{})
	reply = wire.AppendMessage(reply, wire.Regtest, wire.Verack{})
	b.ReportAllocs()
	fc := &fakeConn{reply: reply}
	for b.Loop() {
		fc.off = 0
		if _, err := handshake.Run(context.Background(), fc, oursConfig); err != nil {
			return err
		}
	}
	return nil
}
