package handshake_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// How the v2 fuzz peer uses the fuzzed bytes, in the two low bits of
// mode; bit 2 asks it to hold the connection instead of closing.
const (
	v2InsteadOfKey   = iota // the bytes in place of its key
	v2AfterKey              // a valid key, then the bytes (garbage, terminator, packets)
	v2AfterHandshake        // key, terminator, version packet, then the bytes raw
	v2AsPackets             // key, terminator, version packet, then the bytes cut into valid packets
)

// FuzzClientV2 feeds arbitrary bytes to the v2 client through a real
// loopback connection, at each depth of the BIP324 handshake (mode).
// Properties: no panic; Run returns within Timeout and a scheduling
// margin with a consistent Result (checkV2Result); allocation bounded by
// a constant plus a small multiple of the bytes sent, whatever lengths
// they declare.
//
// Run: go test -run '^$' -fuzz '^FuzzClientV2$' -fuzztime 1m ./handshake/
func FuzzClientV2(f *testing.F) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = ln.Close() })
	// btcec builds its precomputed tables (megabytes) on first use: not
	// the client's allocation.
	if k, err := bip324.NewKey(); err == nil {
		_, _ = bip324.NewCipher(k, k.EllSwift, true, wire.Mainnet)
	}
	var core []byte
	for _, m := range []wire.Message{peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}} {
		c := bip324.AppendContents(nil, m.Command(), m.AppendPayload(nil))
		core = append(append(core, byte(len(c))), c...)
	}
	decoy := append([]byte{0x80 | 5}, "decoy"...)
	seeds := []struct {
		b    []byte
		mode uint8
	}{
		{core, v2AsPackets}, {append(slices.Clone(decoy), core...), v2AsPackets | 4},
		{core[:40], v2AsPackets | 4}, {[]byte{0, 1, 2}, v2AsPackets},
		{bytes.Repeat([]byte{0xff}, 100), v2AfterHandshake}, {[]byte{0xff, 0xff, 0xff}, v2AfterHandshake | 4},
		{bytes.Repeat([]byte{7}, 4200), v2AfterKey | 4}, {nil, v2AfterKey},
		{make([]byte, 64), v2InsteadOfKey}, {frames(peerVersion(70016)), v2InsteadOfKey | 4}, {nil, v2InsteadOfKey},
	}
	for _, s := range seeds {
		f.Add(s.b, s.mode)
	}
	f.Fuzz(func(t *testing.T, stream []byte, mode uint8) {
		if len(stream) > 1<<16 {
			return
		}
		conn, pc := fuzzPair(t, ln)
		defer conn.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			playV2(pc.(*net.TCPConn), stream, mode)
		}()
		cfg := handshake.Config{
			Transport:     handshake.TransportV2,
			V2GarbageLen:  10,
			Timeout:       fuzzTimeout,
			Nonce:         func() uint64 { return fuzzNonce },
			MaxTranscript: fuzzMaxTranscript,
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		res, err := handshake.Run(context.Background(), conn, cfg)
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		_ = conn.Close()
		<-done
		if limit := cfg.Timeout + fuzzMargin; elapsed > limit {
			t.Fatalf("Run took %v, limit %v", elapsed, limit)
		}
		if msg := checkV2Result(res, err, cfg); msg != "" {
			t.Fatalf("mode %#x, %d bytes: %s", mode, len(stream), msg)
		}
		// Fixed: the key exchange, the 4 KB receive buffer, our garbage,
		// the Result; the peer's side too. Buffers grow with what arrives.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<10+4*uint64(len(stream)) {
			t.Fatalf("allocated %d bytes for a %d-byte stream", alloc, len(stream))
		}
	})
}

// playV2 is the v2 fuzz peer's side of one connection.
func playV2(c *net.TCPConn, stream []byte, mode uint8) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(fuzzTimeout + fuzzMargin))
	theirs := make([]byte, bip324.KeyLen)
	if _, err := io.ReadFull(c, theirs); err != nil {
		return
	}
	var out []byte
	if mode&3 == v2InsteadOfKey {
		out = stream
	} else {
		key, err := bip324.NewKey()
		if err != nil {
			return
		}
		out = append(out, key.EllSwift[:]...)
		if mode&3 == v2AfterKey {
			out = append(out, stream...)
		} else {
			ci, err := bip324.NewCipher(key, [bip324.KeyLen]byte(theirs), false, wire.Mainnet)
			if err != nil {
				return
			}
			term := ci.SendTerminator()
			out = append(out, term[:]...)
			out, _ = ci.Encrypt(out, nil, nil, false)
			if mode&3 == v2AfterHandshake {
				out = append(out, stream...)
			} else {
				// Each packet: a length byte (top bit: decoy), then up to
				// 127 bytes of contents.
				for s := stream; len(s) > 0; {
					n := min(int(s[0]&0x7f), len(s)-1)
					out, _ = ci.Encrypt(out, s[1:1+n], nil, s[0]&0x80 != 0)
					s = s[1+n:]
				}
			}
		}
	}
	if _, err := c.Write(out); err != nil {
		return
	}
	if mode&4 != 0 {
		drainConn(c)
	}
}

// checkV2Result is checkResult for a v2 client: before its version is
// sent a failure is in phase v2-handshake with an empty transcript.
func checkV2Result(res *handshake.Result, err error, cfg handshake.Config) string {
	if res == nil {
		return "nil Result"
	}
	if res.Transport != handshake.TransportV2 || res.Fallback {
		return "not a v2 result"
	}
	if res.Phase != handshake.PhaseV2 {
		return checkResult(res, err, cfg)
	}
	var he *handshake.Error
	switch {
	case res.Err != err:
		return "Result.Err is not the returned error"
	case !errors.As(err, &he):
		return "no *handshake.Error in phase v2-handshake"
	case !slices.Contains(handshake.Kinds(), he.Kind) || he.Kind == handshake.KindDial || he.Kind == handshake.KindCanceled:
		return "kind " + string(he.Kind) + " is not a peer-caused kind: " + err.Error()
	case he.Phase != res.Phase || res.Peer != nil:
		return "inconsistent phase or peer version"
	case len(res.Transcript) > 1:
		return "messages in the v2 handshake phase"
	}
	return ""
}
