package handshake_test

import (
	"context"
	"errors"
	"github.com/btc-handshake/btc-handshake/internal/loopback"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// FuzzClient feeds arbitrary peer byte streams to the client state machine
// through a real loopback connection: a listener accepts the client's
// connection, reads its version, writes the fuzzed bytes (in one write or
// in chunks) and then closes (FIN), resets (RST), half-closes or holds the
// connection. Properties (issue 6, item 1):
//
//   - no panic;
//   - Run returns within Timeout (+ Linger) and a scheduling margin, with a
//     non-nil Result whose Err is the returned error;
//   - OK ⇒ phase done, no error, a peer version at or above the minimum
//     that does not carry our nonce;
//   - !OK ⇒ an *Error whose Kind is one of handshake.Kinds() (never dial
//     or canceled here) and whose phase is version or verack, consistent
//     with Result.Peer;
//   - quirks are known and unique, the transcript stays within
//     MaxTranscript;
//   - allocation is bounded by a constant plus a small multiple of the
//     bytes the peer actually sent, whatever lengths it declares.
//
// Run: go test -run '^$' -fuzz '^FuzzClient$' -fuzztime 1m ./handshake/
// Gomega is not used here: fuzz workers run without Ginkgo's fail handler.

const (
	fuzzTimeout = 50 * time.Millisecond
	fuzzLinger  = 20 * time.Millisecond
	// fuzzMargin is how late Run may return past its deadline: scheduling
	// on a busy two-core machine, never the client waiting for the peer.
	fuzzMargin = time.Second
	// fuzzNonce is our nonce in every exec, so inputs can echo it.
	fuzzNonce = 0x0123456789abcdef
	// fuzzMaxTranscript is small enough that inputs can reach it.
	fuzzMaxTranscript = 64
)

// How the fuzz peer ends, in the two low bits of mode; bit 2 asks for
// Linger; bits 3–7, when not zero, are the chunk size of the peer's writes.
const (
	endClose = iota
	endReset
	endHold
	endHalfClose
)

func fuzzSeeds() [][]byte {
	core := frames(peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{})
	oversized := wire.NewRawFrame(wire.Mainnet, peerVersion(70016)).WithLength(0xFFFFFFFF).Truncated(0).Bytes()
	v := peerVersion(70016).AppendPayload(nil)
	return [][]byte{
		core,
		append(slices.Clone(core), frames(wire.SendCmpct{Version: 2}, wire.Ping{Nonce: 9}, wire.FeeFilter{FeeRate: 1000}, wire.Verack{})...),
		frames(wire.Verack{}, peerVersion(70016)),
		frames(peerVersion(70012), wire.Verack{}, wire.Raw{Cmd: wire.CmdAlert, Payload: []byte{1, 2, 3}}),
		frames(peerVersion(31800), wire.Verack{}),
		frames(peerVersion(31799), wire.Verack{}),
		frames(peerVersion(70016)),
		frames(versionWith(70016, func(v *wire.Version) { v.Nonce = fuzzNonce }), wire.Verack{}),
		frames(versionWith(70016, func(v *wire.Version) { v.Tail = wire.TailMinimal }), wire.Verack{}),
		frames(versionWith(70016, func(v *wire.Version) { v.UserAgent = strings.Repeat("u", 257) })),
		frames(wire.SendHeaders{}, wire.Ping{NoNonce: true}, wire.Raw{Cmd: "inv", Payload: []byte{0}}, peerVersion(70015), wire.Verack{}),
		wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: wire.CmdVersion, Payload: append(v, 1, 2, 3)}),
		wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: wire.CmdVersion, Payload: v[:60]}),
		append(wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 1}).WithBadChecksum().Bytes(), core...),
		append(wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 1}).WithCommandBytes(wire.CommandBytes("p\x01ng")).Bytes(), core...),
		wire.AppendMessage(nil, wire.Testnet3, peerVersion(70016)),
		oversized,
		[]byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
		{},
		core[:12],
		core[:wire.HeaderSize+10],
	}
}

func FuzzClient(f *testing.F) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = ln.Close() })
	for i, s := range fuzzSeeds() {
		f.Add(s, uint8(i%4))
		f.Add(s, uint8(endHold|4|(1<<3)))
	}
	f.Fuzz(func(t *testing.T, stream []byte, mode uint8) {
		if len(stream) > 1<<16 {
			return // past every handshake message: slower execs, nothing new
		}
		conn, pc := fuzzPair(t, ln)
		defer conn.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			playStream(pc.(*net.TCPConn), stream, mode)
		}()

		cfg := handshake.Config{
			Timeout:       fuzzTimeout,
			Nonce:         func() uint64 { return fuzzNonce },
			MaxTranscript: fuzzMaxTranscript,
		}
		if mode&4 != 0 {
			cfg.Linger = fuzzLinger
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		res, err := handshake.Run(context.Background(), conn, cfg)
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		_ = conn.Close()
		<-done

		if limit := cfg.Timeout + cfg.Linger + fuzzMargin; elapsed > limit {
			t.Fatalf("Run took %v, limit %v", elapsed, limit)
		}
		if msg := checkResult(res, err, cfg); msg != "" {
			t.Fatalf("mode %#x, %d bytes: %s", mode, len(stream), msg)
		}
		// Reader buffers grow at most to twice what arrived; the rest is
		// per-attempt constants (Result, transcript, our messages) and the
		// peer goroutine's reader.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10+4*uint64(len(stream)) {
			t.Fatalf("allocated %d bytes for a %d-byte stream", alloc, len(stream))
		}
	})
}

// playStream is the fuzz peer's side of one connection.
func playStream(c *net.TCPConn, stream []byte, mode uint8) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(fuzzTimeout + fuzzLinger + fuzzMargin))
	_ = c.SetNoDelay(true)
	f, err := wire.NewReader(c, wire.Mainnet).Next()
	if err != nil || f.Command() != wire.CmdVersion {
		return
	}
	if chunk := int(mode >> 3); chunk == 0 {
		_, err = c.Write(stream)
	} else {
		for off := 0; off < len(stream) && err == nil; off += chunk {
			_, err = c.Write(stream[off:min(off+chunk, len(stream))])
		}
	}
	if err != nil {
		return
	}
	switch mode & 3 {
	case endReset:
		_ = c.SetLinger(0)
	case endHold:
		drainConn(c)
	case endHalfClose:
		_ = c.CloseWrite()
		drainConn(c)
	}
}

// drainConn reads until the client hangs up (or the deadline passes).
func drainConn(c net.Conn) {
	var buf [512]byte
	for {
		if _, err := c.Read(buf[:]); err != nil {
			return
		}
	}
}

// checkResult states the invariants of any Result; it returns what is
// violated, or "".
func checkResult(res *handshake.Result, err error, cfg handshake.Config) string {
	if res == nil {
		return "nil Result"
	}
	if res.Err != err {
		return "Result.Err is not the returned error"
	}
	seen := map[handshake.Quirk]bool{}
	for _, q := range res.Quirks {
		if seen[q] || !slices.Contains(handshake.Quirks(), q) {
			return "quirk unknown or repeated: " + string(q)
		}
		seen[q] = true
	}
	if len(res.Transcript) > cfg.MaxTranscript {
		return "transcript over MaxTranscript"
	}
	if len(res.Transcript) == 0 || res.Transcript[0].Received || res.Transcript[0].Command != wire.CmdVersion {
		return "the transcript does not start with our version"
	}
	if res.OK() {
		p := res.Peer
		switch {
		case err != nil || res.Phase != handshake.PhaseDone:
			return "OK with an error or before the done phase"
		case p == nil:
			return "OK without the peer's version"
		case p.ProtocolVersion < wire.MinPeerProtoVersion:
			return "OK with a version below the minimum"
		case p.Tail <= wire.TailNoUserAgent && p.Nonce == fuzzNonce:
			return "OK with our own nonce (self-connection)"
		case res.NegotiatedVersion != min(p.ProtocolVersion, wire.ProtocolVersion):
			return "wrong negotiated version"
		case res.Kind() != "":
			return "OK with a kind"
		}
		return ""
	}
	var he *handshake.Error
	switch {
	case err == nil:
		return "not OK but no error"
	case !errors.As(err, &he):
		return "error is not a *handshake.Error: " + err.Error()
	case !slices.Contains(handshake.Kinds(), he.Kind) || he.Kind == handshake.KindDial || he.Kind == handshake.KindCanceled:
		return "kind " + string(he.Kind) + " is not a peer-caused kind: " + err.Error()
	case !errors.Is(err, he.Kind) || res.Kind() != he.Kind:
		return "kind not reachable with errors.Is / Result.Kind"
	case he.Phase != res.Phase:
		return "error and result disagree on the phase"
	case res.Phase == handshake.PhaseVersion && res.Peer != nil:
		return "failed in the version phase with a peer version"
	case res.Phase == handshake.PhaseVerack && res.Peer == nil:
		return "failed in the verack phase without a peer version"
	case res.Phase != handshake.PhaseVersion && res.Phase != handshake.PhaseVerack:
		return "failed in phase " + string(res.Phase)
	}
	return ""
}

// fuzzPair connects a client to ln over loopback and accepts the peer's
// end. While fuzzing, a machine whose loopback drops SYNs (a full
// conntrack table) must not turn into a "crasher"; in the seed run of go
// test it is a failure like any other.
func fuzzPair(t *testing.T, ln net.Listener) (net.Conn, net.Conn) {
	t.Helper()
	conn, err := loopback.Dial(ln.Addr().String())
	if err != nil {
		if !loopback.Fuzzing() {
			t.Fatalf("the loopback drops our SYNs (conntrack table full?): %v", err)
		}
		t.Skipf("the loopback drops our SYNs (conntrack table full?): %v", err)
	}
	pc, err := ln.Accept()
	if err != nil {
		_ = conn.Close()
		t.Fatal(err)
	}
	return conn, pc
}
