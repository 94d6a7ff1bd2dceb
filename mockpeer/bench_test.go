package mockpeer_test

import (
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// handshakeWith runs a minimal client handshake against a Core responder
// and returns the open connection.
func handshakeWith(b *testing.B, addr string, nonce uint64) net.Conn {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	r := wire.NewReaderSize(conn, wire.Regtest, 512, 0)
	v := &wire.Version{ProtocolVersion: 70016, Services: wire.NodeNetwork, Nonce: nonce, UserAgent: "/bench/", Relay: true}
	if _, err := conn.Write(wire.AppendMessage(nil, wire.Regtest, v)); err != nil {
		b.Fatal(err)
	}
	readUntil(b, r, wire.CmdVerack)
	if _, err := conn.Write(wire.AppendMessage(nil, wire.Regtest, wire.Verack{})); err != nil {
		b.Fatal(err)
	}
	readUntil(b, r, wire.CmdFeeFilter)
	return conn
}

func readUntil(b *testing.B, r *wire.Reader, cmd string) {
	for {
		f, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		if f.Command() == cmd {
			return
		}
	}
}

// BenchmarkCoreResponderHandshake measures one full handshake (dial,
// version, verack, Core's post-verack burst, close) against CoreResponder.
func BenchmarkCoreResponderHandshake(b *testing.B) {
	srv := mockpeer.NewServer(mockpeer.WithRecording(mockpeer.Recording{Frames: -1}))
	defer srv.Close()
	srv.SetDefaultScript(mockpeer.CoreResponder().HandshakeTimeout(0).Script())
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = handshakeWith(b, srv.Addr(), uint64(i)+1).Close()
	}
}

// BenchmarkHeldPairs holds 1,000 established pairs (a minimal client and
// a CoreResponder connection) and reports memory per pair.
func BenchmarkHeldPairs(b *testing.B) {
	const pairs = 1000
	for b.Loop() {
		b.StopTimer()
		srv := mockpeer.NewServer(mockpeer.WithRecording(mockpeer.Recording{Frames: -1}))
		srv.SetDefaultScript(mockpeer.CoreResponder().HandshakeTimeout(0).Script())
		runtime.GC()
		debug.FreeOSMemory()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		rss0 := rssBytes()
		b.StartTimer()
		conns := make([]net.Conn, 0, pairs)
		for i := range pairs {
			conns = append(conns, handshakeWith(b, srv.Addr(), uint64(i)+1))
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(rssBytes()-rss0)/pairs, "rss-B/pair")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/pairs, "heap-B/pair")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/pairs, "stack-B/pair")
		for _, c := range conns {
			_ = c.Close()
		}
		_ = srv.Close()
		b.StartTimer()
	}
}

func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
