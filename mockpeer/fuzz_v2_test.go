package mockpeer_test

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/internal/loopback"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// FuzzV2Responder feeds arbitrary bytes to the v2-capable Core responder,
// either as they are (v1 detection, then a "key" and what follows) or
// after a real key exchange, as the bytes after the client's key (garbage,
// terminator, packets). The mock must not panic, must allocate in
// proportion to what it received (never to a length a packet declares),
// and must end the connection within its peer timeout.
func FuzzV2Responder(f *testing.F) {
	k, _ := bip324.NewKey()
	f.Add([]byte{}, false)
	f.Add(k.EllSwift[:], false)
	f.Add(append(append([]byte{}, k.EllSwift[:]...), make([]byte, 5000)...), false)
	f.Add(wire.AppendMessage(nil, wire.Mainnet, wire.Verack{}), false)
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 2}, true)
	f.Add(make([]byte, 4200), true)
	f.Fuzz(func(t *testing.T, stream []byte, keyed bool) {
		if len(stream) > 1<<16 {
			return
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		srv := mockpeer.NewServer(mockpeer.WithRecording(mockpeer.Recording{Frames: -1}), mockpeer.WithStepTimeout(fuzzMargin))
		srv.SetDefaultScript(mockpeer.CoreResponder().HandshakeTimeout(fuzzPeerTimeout).Script())
		nc, err := loopback.Dial(srv.Addr())
		if err != nil {
			_ = srv.Close()
			if !loopback.Fuzzing() {
				t.Fatalf("dial: %v", err)
			}
			t.Skipf("the loopback drops our SYNs: %v", err)
		}
		start := time.Now()
		_ = nc.SetDeadline(start.Add(fuzzPeerTimeout + fuzzMargin))
		if keyed {
			ours, _ := bip324.NewKey()
			_, _ = nc.Write(ours.EllSwift[:])
		}
		_, _ = nc.Write(stream)
		_, rerr := io.Copy(io.Discard, nc)
		elapsed := time.Since(start)
		_ = nc.Close()
		if cerr := srv.Close(); cerr != nil {
			t.Fatalf("Close reported: %v", cerr)
		}
		runtime.ReadMemStats(&after)
		var ne net.Error
		if errors.As(rerr, &ne) && ne.Timeout() || errors.Is(rerr, os.ErrDeadlineExceeded) {
			t.Fatalf("the mock kept the connection %v, past its peer timeout %v", elapsed, fuzzPeerTimeout)
		}
		if fs := srv.Failures(); len(fs) > 0 {
			t.Fatalf("failures: %v", fs)
		}
		// Keys, ciphers and buffers for what arrived: far below a packet's
		// declarable 16 MiB, whatever the stream declares.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
			t.Fatalf("allocated %d bytes for a %d-byte stream", grew, len(stream))
		}
	})
}
