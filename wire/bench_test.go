package wire_test

import (
	"bytes"
	"net"
	"testing"
	"time"

	btcwire "github.com/btcsuite/btcd/wire/v2"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Benchmarks of our codec and btcd's wire side by side, on the same
// message: `go test -run '^$' -bench . -benchmem ./wire/`.
// Each pair does the same work: encode writes a whole frame (header and
// payload), decode reads a whole frame (header checks, checksum, payload).

func benchVersion() (*wire.Version, *btcwire.MsgVersion) {
	ours := fullVersion()
	btcd := &btcwire.MsgVersion{
		ProtocolVersion: ours.ProtocolVersion,
		Services:        btcwire.ServiceFlag(ours.Services),
		Timestamp:       time.Unix(ours.Timestamp, 0),
		AddrYou:         btcwire.NetAddress{Services: btcwire.ServiceFlag(ours.AddrRecv.Services), IP: net.IP(bytes.Clone(ours.AddrRecv.IP[:])), Port: ours.AddrRecv.Port},
		AddrMe:          btcwire.NetAddress{Services: btcwire.ServiceFlag(ours.AddrFrom.Services), IP: net.IP(bytes.Clone(ours.AddrFrom.IP[:])), Port: ours.AddrFrom.Port},
		Nonce:           ours.Nonce,
		UserAgent:       ours.UserAgent,
		LastBlock:       ours.StartHeight,
		DisableRelayTx:  !ours.Relay,
	}
	return ours, btcd
}

func BenchmarkVersionEncode(b *testing.B) {
	ours, btcd := benchVersion()
	frame := wire.AppendMessage(nil, wire.Mainnet, ours)
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = wire.AppendMessage(buf[:0], wire.Mainnet, ours)
		}
	})
	b.Run("btcd", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := btcwire.WriteMessage(&buf, btcd, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVersionDecode(b *testing.B) {
	ours, _ := benchVersion()
	frame := wire.AppendMessage(nil, wire.Mainnet, ours)
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		r := wire.NewReader(&loopReader{data: frame}, wire.Mainnet)
		var v wire.Version
		for b.Loop() {
			f, err := r.Next()
			if err != nil {
				b.Fatal(err)
			}
			if err := v.DecodePayload(f.Payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("btcd", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		src := bytes.NewReader(frame)
		for b.Loop() {
			src.Reset(frame)
			if _, _, err := btcwire.ReadMessage(src, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkVersionRoundTrip(b *testing.B) {
	ours, btcd := benchVersion()
	frame := wire.AppendMessage(nil, wire.Mainnet, ours)
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		buf := make([]byte, 0, 256)
		src := bytes.NewReader(nil)
		r := wire.NewReader(src, wire.Mainnet)
		var v wire.Version
		for b.Loop() {
			buf = wire.AppendMessage(buf[:0], wire.Mainnet, ours)
			src.Reset(buf)
			f, err := r.Next()
			if err != nil {
				b.Fatal(err)
			}
			if err := v.DecodePayload(f.Payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("btcd", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := btcwire.WriteMessage(&buf, btcd, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
			if _, _, err := btcwire.ReadMessage(&buf, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkHeaderParse reads a header-only frame (verack): magic, command,
// length and the empty-payload checksum. btcd exports no header parser, so
// ReadMessage of a verack is its nearest equivalent; ours-bytes is
// ParseHeader plus Header.ValidCommand on 24 bytes already in memory.
func BenchmarkHeaderParse(b *testing.B) {
	frame := wire.AppendMessage(nil, wire.Mainnet, wire.Verack{})
	b.Run("ours", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		r := wire.NewReader(&loopReader{data: frame}, wire.Mainnet)
		for b.Loop() {
			if _, err := r.Next(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("btcd", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		src := bytes.NewReader(frame)
		for b.Loop() {
			src.Reset(frame)
			if _, _, err := btcwire.ReadMessage(src, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ours-bytes", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(frame)))
		for b.Loop() {
			h, err := wire.ParseHeader(frame, wire.Mainnet, 0)
			if err != nil || !h.ValidCommand() {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSmallRoundTrip encodes and decodes the frames a handshake sends
// most, ours against btcd's wire: verack (header only), ping and pong
// (8-byte nonce). Ours must not allocate (issue 5).
func BenchmarkSmallRoundTrip(b *testing.B) {
	b.Run("verack/ours", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64)
		src := bytes.NewReader(nil)
		r := wire.NewReader(src, wire.Mainnet)
		for b.Loop() {
			buf = wire.AppendMessage(buf[:0], wire.Mainnet, wire.Verack{})
			src.Reset(buf)
			if _, err := r.Next(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verack/btcd", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		m := btcwire.NewMsgVerAck()
		for b.Loop() {
			buf.Reset()
			if err := btcwire.WriteMessage(&buf, m, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
			if _, _, err := btcwire.ReadMessage(&buf, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ping/ours", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64)
		src := bytes.NewReader(nil)
		r := wire.NewReader(src, wire.Mainnet)
		var p wire.Ping
		for b.Loop() {
			buf = wire.AppendMessage(buf[:0], wire.Mainnet, wire.Ping{Nonce: 0x1122334455667788})
			src.Reset(buf)
			f, err := r.Next()
			if err != nil {
				b.Fatal(err)
			}
			if err := p.DecodePayload(f.Payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ping/btcd", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		m := btcwire.NewMsgPing(0x1122334455667788)
		for b.Loop() {
			buf.Reset()
			if err := btcwire.WriteMessage(&buf, m, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
			if _, _, err := btcwire.ReadMessage(&buf, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pong/ours", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 64)
		src := bytes.NewReader(nil)
		r := wire.NewReader(src, wire.Mainnet)
		var p wire.Pong
		for b.Loop() {
			buf = wire.AppendMessage(buf[:0], wire.Mainnet, wire.Pong{Nonce: 0x1122334455667788})
			src.Reset(buf)
			f, err := r.Next()
			if err != nil {
				b.Fatal(err)
			}
			if err := p.DecodePayload(f.Payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pong/btcd", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		m := btcwire.NewMsgPong(0x1122334455667788)
		for b.Loop() {
			buf.Reset()
			if err := btcwire.WriteMessage(&buf, m, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
			if _, _, err := btcwire.ReadMessage(&buf, btcwire.ProtocolVersion, btcwire.MainNet); err != nil {
				b.Fatal(err)
			}
		}
	})
}
