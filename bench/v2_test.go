package bench_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/btcsuite/btcd/peer"
	btcwire "github.com/btcsuite/btcd/wire/v2"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// The v2 (BIP324) figures, issue 14. Every implementation picks its
// garbage length uniformly over 0..4095 per connection, as Core does, so
// that none wins by sending less: our client (Config.V2GarbageLen 0), the
// mock's CoreResponder (V2{RandomGarbage: true}, its default), btcd's peer
// (rand.Intn(MaxGarbageLen+1) on both sides, peer.go).

// Concurrency levels of the v2 throughput figures: the crypto takes a
// millisecond or so of CPU per handshake, so 16 workers keep both CPUs
// busy.
var v2Concurrency = []int{1, 16}

// v2Rounds: 25 handshakes of each implementation a round at c=1 (btcd's
// take about 7 ms each), 100 at c=16, and at least eight rounds however
// small b.N is.
func v2Rounds(conc int) rounds {
	size := 25 * max(1, conc/4)
	return rounds{size: size, minOps: 8 * size}
}

// oursV2Config is our client over v2, with random garbage.
var oursV2Config = handshake.Config{Network: wire.Regtest, Timeout: benchTimeout, Transport: handshake.TransportV2}

// v2Impls are what the v2 figures compare, ours first:
//
//   - ours: handshake.Dial with Transport v2 against the mock's
//     CoreResponder (v2-capable by default, replies coalesced as in the v1
//     figures; newMock);
//   - btcd: btcd's peer package on both ends with UsingV2Conn;
//   - crypto: the crypto floor, no sockets: the two sides' ElligatorSwift
//     keys (bip324.NewKey) and their ECDH and key derivation
//     (bip324.NewCipher), one after the other;
//   - auto: handshake.Dial with Transport auto against a v1-only mock
//     (CoreResponder with WithV2Transport(nil)): the v2 attempt the peer
//     hangs up on, then a v1 handshake on a new connection.
//
// ours/auto-hs/s is then the time of an auto handshake ÷ a v2 one.
func v2Impls() []impl {
	return selectV2Impls(oursV2Impl(), btcdV2Impl(), cryptoFloorImpl(), autoImpl())
}

// v2ImplsFlag selects v2 implementations, to profile one alone.
var v2ImplsFlag = flag.String("v2-impls", "ours,btcd,crypto,auto", "implementations the v2 benchmarks compare (comma-separated)")

func selectV2Impls(ims ...impl) []impl {
	old := *implsFlag
	*implsFlag = *v2ImplsFlag
	defer func() { *implsFlag = old }()
	return selectImpls(ims...)
}

// BenchmarkV2Handshake is BenchmarkHandshake for v2: complete handshakes
// (dial, v2 handshake, version, verack, close) per second and their
// latency, in rounds, with ratios within each round (see benchHandshakes).
// The targets: ours ÷ btcd ≥ 5, ours ÷ crypto ≥ 0.8, at c=1 and c=16; auto
// (against a v1-only peer) ÷ ours < 1.5 in time per handshake.
func BenchmarkV2Handshake(b *testing.B) {
	for _, c := range v2Concurrency {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			if err := benchHandshakes(b, v2Impls(), c, v2Rounds(c)); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(btcdV2Retries.Swap(0)), "btcd-retries")
		})
	}
}

// BenchmarkV2HeldPairs is BenchmarkHeldPairs with v2 pairs: our client
// (handshake.Run, Transport v2) and the mock's v2 CoreResponder; btcd's
// peers with UsingV2Conn.
func BenchmarkV2HeldPairs(b *testing.B) {
	for _, im := range selectV2Impls(oursV2Impl(), btcdV2Impl()) {
		b.Run(im.name, func(b *testing.B) {
			if err := benchHeldPairs(b, im, heldPairs); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkV2Survey is BenchmarkSurvey with our client on v2: the
// fleet's CoreResponder peers are v2-capable by default.
func BenchmarkV2Survey(b *testing.B) {
	if err := benchSurvey(b, surveyPeers, surveyConcurrency, surveyV2Config); err != nil {
		b.Fatal(err)
	}
}

var surveyV2Config = handshake.Config{Network: wire.Regtest, Timeout: benchTimeout, Transport: handshake.TransportV2}

// ---- ours over v2 ----

func oursV2Impl() impl { return oursImplWith(oursV2Config) }

// autoImpl is our client with Transport auto against a v1-only mock.
func autoImpl() impl {
	cfg := oursV2Config
	cfg.Transport = handshake.TransportAuto
	return impl{
		name: "auto",
		serve: func(addr string) (responder, error) {
			var srv *mockpeer.Server
			if err := catchPanic(func() {
				srv = mockpeer.NewServer(mockpeer.WithAddr(addr), mockpeer.WithRecording(mockpeer.Recording{Frames: -1}))
			}); err != nil {
				return nil, err
			}
			srv.SetDefaultScript(mockpeer.CoreResponder().HandshakeTimeout(0).V2Transport(nil).Coalesced().Script())
			return mockResponder{srv}, nil
		},
		once: func(ctx context.Context, addr string) error {
			res, err := handshake.Dial(ctx, addr, cfg)
			if err == nil && !res.Fallback {
				err = errors.New("auto against a v1-only peer did not fall back")
			}
			return err
		},
		hold: func(context.Context, string) (io.Closer, error) {
			return nil, errors.New("auto holds no pairs")
		},
	}
}

// ---- the crypto floor ----

// cryptoFloorImpl is the cryptography of a v2 handshake and nothing
// else: both sides' keys, ECDH and key schedules, in the worker's
// goroutine. Its responder does nothing.
func cryptoFloorImpl() impl {
	return impl{
		name:  "crypto",
		serve: func(string) (responder, error) { return nopResponder{}, nil },
		once: func(context.Context, string) error {
			ki, err := bip324.NewKey()
			if err != nil {
				return err
			}
			kr, err := bip324.NewKey()
			if err != nil {
				return err
			}
			ci, err := bip324.NewCipher(ki, kr.EllSwift, true, wire.Regtest)
			if err != nil {
				return err
			}
			cr, err := bip324.NewCipher(kr, ki.EllSwift, false, wire.Regtest)
			if err != nil {
				return err
			}
			if ci.SessionID() != cr.SessionID() {
				return errors.New("crypto floor: the two sides derived different sessions")
			}
			return nil
		},
		hold: func(context.Context, string) (io.Closer, error) {
			return nil, errors.New("the crypto floor holds no pairs")
		},
	}
}

type nopResponder struct{}

func (nopResponder) Addr() string { return "" }
func (nopResponder) Close() error { return nil }
func (nopResponder) quiesce()     {}

// ---- btcd's peer package on both ends, v2 ----

// btcdV2Retries counts btcd v2 handshakes that failed and were tried
// again: btcd's v2transport stops its terminator scan one byte short of
// 4095+16, so a side that draws 4095 bytes of garbage (1 in 4096, on
// either side) fails the handshake; btcd's connection manager would
// redial. The retry is timed as btcd's.
var btcdV2Retries atomic.Int64

func btcdV2PeerConfig(onVerAck func()) *peer.Config {
	cfg := btcdPeerConfig(onVerAck)
	// btcd speaks v2 only with NODE_P2P_V2 among its own services.
	cfg.Services |= btcwire.SFNodeP2PV2
	cfg.UsingV2Conn = true
	return cfg
}

func btcdV2Impl() impl {
	return impl{
		name: "btcd",
		serve: func(addr string) (responder, error) {
			return newBtcdServerWith(addr, func() *peer.Config { return btcdV2PeerConfig(nil) })
		},
		hold: func(ctx context.Context, addr string) (io.Closer, error) {
			for try := 0; ; try++ {
				c, err := btcdHoldWith(ctx, addr, btcdV2PeerConfig)
				if err == nil || !errors.Is(err, errBtcdDisconnected) || try == 2 {
					return c, err
				}
				btcdV2Retries.Add(1)
			}
		},
	}
}

// ---- allocation bound ----

// declaredLen is what the lying packet of BenchmarkV2Declared declares:
// nearly the most a packet may carry (wire.MaxPayload), of which 100
// bytes come.
const declaredLen = wire.MaxPayload

// BenchmarkV2Declared is our client against a v2 peer whose first
// message packet declares declaredLen bytes and sends 100 before closing:
// bytes allocated per handshake (both ends, alloc-B/hs) must stay far
// below the declared length, since buffers grow with what arrives.
func BenchmarkV2Declared(b *testing.B) {
	if err := benchV2Declared(b); err != nil {
		b.Fatal(err)
	}
}

func benchV2Declared(b *testing.B) error {
	var srv *mockpeer.Server
	if err := catchPanic(func() {
		srv = mockpeer.NewServer(mockpeer.WithAddr(loopbackAddr), mockpeer.WithRecording(mockpeer.Recording{Frames: -1}))
	}); err != nil {
		return err
	}
	defer srv.Close()
	srv.SetDefaultScript(mockpeer.NewScript("", mockpeer.V2Handshake(mockpeer.V2{RandomGarbage: true}), mockpeer.Send(bip324.Packet{Declared: declaredLen, Contents: make([]byte, 100)}), mockpeer.Do((*mockpeer.Conn).Close)))
	m := mockResponder{srv}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	n := 0
	for b.Loop() {
		res, err := handshake.Dial(context.Background(), srv.Addr(), oursV2Config)
		if k := res.Kind(); k != handshake.KindPeerClosed && k != handshake.KindReset {
			return fmt.Errorf("against a packet declaring %d bytes: %v (kind %s), want peer-closed", declaredLen, err, k)
		}
		n++
	}
	b.StopTimer()
	m.quiesce()
	runtime.ReadMemStats(&m1)
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(n), "alloc-B/hs")
	b.ReportMetric(declaredLen, "declared-B")
	return nil
}
