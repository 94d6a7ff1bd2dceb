package mockpeer_test

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/btc-handshake/btc-handshake/internal/loopback"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// FuzzCoreResponder and FuzzBtcdResponder feed arbitrary client bytes to
// the responder profiles over loopback. Each exec starts a Server (so that
// nothing accumulates across execs), dials it, writes the fuzzed stream in
// one write or in chunks, and then half-closes (FIN), holds, resets (RST)
// or closes the connection. Properties (issue 6, item 1):
//
//   - no panic, and no Failure: Close returns nil, Failures is empty (a
//     profile meets any input by reacting, ignoring or disconnecting);
//   - everything the mock sends is a valid frame that decodes;
//   - what it sends follows its model: for CoreResponder, exactly what a
//     small model of Core's rules predicts from the frames of the stream
//     (a prefix of it when the handshake timeout or an RST cut it short);
//     for BtcdResponder, a version or a reject first, one version at most;
//   - a held connection is dropped by the profile's timeouts: one that
//     does not complete the handshake at the peer timeout (not before it
//     unless the model disconnects, and within a scheduling margin after
//     it), an established one after the idle timeout;
//   - allocation bounded by a constant plus a small multiple of the input.
//
// Run: go test -run '^$' -fuzz '^FuzzCoreResponder$' -fuzztime 1m ./mockpeer/
// Gomega is not used here: fuzz workers run without Ginkgo's fail handler.

const (
	fuzzPeerTimeout = 100 * time.Millisecond
	fuzzIdleTimeout = 100 * time.Millisecond
	fuzzMargin      = time.Second
)

// How the fuzz client ends, in the two low bits of mode; bits 2–7, when
// not zero, are the chunk size of its writes.
const (
	endHalfClose = iota
	endHold
	endReset
	endClose
)

// fromMock is one frame the mock sent.
type fromMock struct {
	cmd string
	msg wire.Message
}

func commandsOf(s []fromMock) []string {
	out := make([]string, len(s))
	for i, f := range s {
		out[i] = f.cmd
	}
	return out
}

func clientSeeds() [][]byte {
	f := func(msgs ...wire.Message) []byte {
		var b []byte
		for _, m := range msgs {
			b = wire.AppendMessage(b, regtest, m)
		}
		return b
	}
	v := func(pv int32, services uint64) *wire.Version {
		return &wire.Version{ProtocolVersion: pv, Services: services, Timestamp: 1700000000, Nonce: 0x5eed,
			UserAgent: "/fuzz:0.1/", StartHeight: 10, Relay: true}
	}
	full := f(v(70016, wire.NodeNetwork), wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}, wire.Ping{Nonce: 7})
	return [][]byte{
		full,
		f(v(70016, wire.NodeWitness), wire.Verack{}),
		f(v(70012, wire.NodeNetworkLimited), wire.Verack{}, wire.Ping{Nonce: 1}),
		f(v(60000, 0), wire.Verack{}, wire.Ping{NoNonce: true}),
		f(v(31799, 0), wire.Verack{}),
		f(v(208, 0), wire.Verack{}),
		f(wire.Verack{}, v(70016, 0), wire.Verack{}),
		f(wire.Ping{Nonce: 1}, v(70016, 0)),
		f(v(70016, 0), v(70016, 0), wire.SendHeaders{}, wire.SendCmpct{Version: 2}, wire.Verack{}, wire.Verack{}, wire.WtxidRelay{}),
		f(v(70016, 0), wire.Verack{}, wire.SendAddrV2{}),
		f(v(70016, 0), wire.Raw{Cmd: "inv", Payload: []byte{0}}, wire.Verack{}, wire.Raw{Cmd: "unknown"}),
		f(v(70016, wire.NodeNetwork)),
		wire.AppendMessage(nil, regtest, wire.Raw{Cmd: wire.CmdVersion, Payload: append(v(70016, 0).AppendPayload(nil), 0, 0)}),
		wire.AppendMessage(nil, regtest, wire.Raw{Cmd: wire.CmdVersion, Payload: v(70016, 0).AppendPayload(nil)[:72]}),
		append(wire.NewRawFrame(regtest, wire.Ping{Nonce: 1}).WithBadChecksum().Bytes(), full...),
		append(wire.NewRawFrame(regtest, wire.Verack{}).WithCommandBytes(wire.CommandBytes("ver\x01ck")).Bytes(), full...),
		append(f(v(70016, 0)), wire.NewRawFrame(wire.Mainnet, wire.Verack{}).Bytes()...),
		wire.NewRawFrame(regtest, wire.Verack{}).WithLength(0xFFFFFFFF).Bytes(),
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		{},
		full[:12],
		full[:40],
	}
}

func FuzzCoreResponder(f *testing.F) {
	// The v1 model: with v2 on, a stream that does not start with a v1
	// version header is a v2 key (FuzzV2Responder).
	fuzzProfile(f, mockpeer.CoreResponder().HandshakeTimeout(fuzzPeerTimeout).IdleTimeout(fuzzIdleTimeout).V2Transport(nil), coreModel)
}

func FuzzBtcdResponder(f *testing.F) {
	fuzzProfile(f, mockpeer.BtcdResponder().HandshakeTimeout(fuzzPeerTimeout).IdleTimeout(fuzzIdleTimeout), btcdRules)
}

// Where a model leaves the connection once the whole stream is read.
type outcome uint8

const (
	unknown      outcome = iota // the model does not say
	open                        // handshake not complete, connection kept
	established                 // handshake complete, connection kept
	disconnected                // the mock hung up
)

// A model returns, for the client's stream, what the mock must send (nil:
// the model does not predict it), how many of want's last messages the
// mock may leave out together when the client closes (optional), and
// where the connection stands, or a violation in what the mock sent.
type model func(stream []byte, got []fromMock) (want []string, optional int, end outcome, violation string)

func fuzzProfile(f *testing.F, p mockpeer.Profile, m model) {
	for i, s := range clientSeeds() {
		f.Add(s, uint8(i%4))
		f.Add(s, uint8(endHold|3<<2))
	}
	f.Fuzz(func(t *testing.T, stream []byte, mode uint8) {
		if len(stream) > 1<<16 {
			return // past every handshake message: slower execs, nothing new
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		srv := mockpeer.NewServer(mockpeer.WithRecording(mockpeer.Recording{Frames: -1}), mockpeer.WithStepTimeout(fuzzMargin))
		srv.SetDefaultScript(p.Script())
		got, elapsed, err := playClient(srv.Addr(), stream, mode)
		if errors.Is(err, errNoDial) {
			_ = srv.Close()
			// While fuzzing, a machine whose loopback drops SYNs (a full
			// conntrack table) must not turn into a "crasher"; in the seed
			// run of go test it is a failure like any other.
			if !loopback.Fuzzing() {
				t.Fatalf("the loopback drops our SYNs (conntrack table full?): %v", err)
			}
			t.Skipf("the loopback drops our SYNs (conntrack table full?): %v", err)
		}
		if cerr := srv.Close(); cerr != nil {
			t.Fatalf("Close reported: %v", cerr)
		}
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if fs := srv.Failures(); len(fs) > 0 {
			t.Fatalf("failures: %v", fs)
		}
		timedOut := slices.ContainsFunc(srv.Transcript(), func(r mockpeer.Record) bool {
			return r.Event == mockpeer.EventTimeout && strings.HasPrefix(r.Note, "no handshake")
		})

		want, optional, state, violation := m(stream, got)
		if violation != "" {
			t.Fatalf("mode %#x: %s; sent %v", mode, violation, commandsOf(got))
		}
		end := mode & 3
		if want != nil && end != endClose {
			cmds := commandsOf(got)
			// A mock that hangs up on unread bytes sends an RST, which may
			// cut what it wrote before: then only a prefix is certain.
			exact := (end == endHalfClose || end == endHold) && !timedOut && state != disconnected
			// A client that half-closes may have its close seen with its
			// last message: the optional tail may then be missing.
			short := want[:len(want)-optional]
			matches := slices.Equal(cmds, want) || (end == endHalfClose && slices.Equal(cmds, short))
			if (exact && !matches) || (!exact && !isPrefix(cmds, want)) {
				t.Fatalf("mode %#x (timed out: %v): sent %v, model says %v", mode, timedOut, cmds, want)
			}
		}
		if end == endHold {
			// The peer timeout runs from the accept, a little after our dial.
			if state == open && elapsed < fuzzPeerTimeout-10*time.Millisecond {
				t.Fatalf("mode %#x: dropped after %v, before the peer timeout %v", mode, elapsed, fuzzPeerTimeout)
			}
			if limit := fuzzPeerTimeout + fuzzIdleTimeout + fuzzMargin; elapsed > limit {
				t.Fatalf("mode %#x: held connection still open after %v", mode, elapsed)
			}
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10+4*uint64(len(stream)) {
			t.Fatalf("allocated %d bytes for a %d-byte stream", alloc, len(stream))
		}
	})
}

func isPrefix(got, want []string) bool {
	return len(got) <= len(want) && slices.Equal(got, want[:len(got)])
}

// playClient writes stream to the mock, ends as mode says, and returns the
// frames the mock sent and how long until it closed (hold mode). It
// returns an error only for what the mock sent that is not a valid frame.
func playClient(addr string, stream []byte, mode uint8) ([]fromMock, time.Duration, error) {
	nc, err := loopback.Dial(addr)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errNoDial, err)
	}
	start := time.Now()
	c := nc.(*net.TCPConn)
	defer c.Close()
	_ = c.SetNoDelay(true)
	_ = c.SetDeadline(start.Add(fuzzPeerTimeout + fuzzIdleTimeout + fuzzMargin))
	if chunk := int(mode >> 2); chunk == 0 {
		_, err = c.Write(stream)
	} else {
		for off := 0; off < len(stream) && err == nil; off += chunk {
			_, err = c.Write(stream[off:min(off+chunk, len(stream))])
		}
	}
	switch mode & 3 {
	case endReset:
		_ = c.SetLinger(0)
		return nil, 0, nil
	case endClose:
		return nil, 0, nil
	case endHalfClose:
		if err == nil {
			_ = c.CloseWrite()
		}
	}
	var got []fromMock
	r := wire.NewReader(c, regtest)
	for {
		f, rerr := r.Next()
		if rerr != nil {
			elapsed := time.Since(start)
			switch {
			case errors.Is(rerr, io.EOF), errors.Is(rerr, net.ErrClosed), isReset(rerr):
				return got, elapsed, nil
			case errors.Is(rerr, os.ErrDeadlineExceeded):
				return got, elapsed, fmt.Errorf("the mock kept the connection past its timeouts, having sent %v", commandsOf(got))
			}
			return got, elapsed, fmt.Errorf("the mock sent a broken stream after %v: %w", commandsOf(got), rerr)
		}
		m, derr := wire.Decode(f.Command(), f.Payload)
		if derr != nil {
			return got, 0, fmt.Errorf("the mock sent a %s that does not decode: %w", f.Command(), derr)
		}
		got = append(got, fromMock{cmd: f.Command(), msg: m})
	}
}

// errNoDial marks a connection the loopback would not make.
var errNoDial = errors.New("could not connect")

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// coreModel is Bitcoin Core's handshake as CoreResponder documents it
// (docs/PROTOCOL.md; NP = src/net_processing.cpp), reduced to what it sends:
// the version burst for the first acceptable version, the post-verack
// burst for the first verack after it, pongs after that, and nothing
// after a disconnect. Pongs must echo a ping's nonce.
func coreModel(stream []byte, got []fromMock) ([]string, int, outcome, string) {
	var (
		want              []string
		optional          int
		pings             []uint64
		common            int32
		services          uint64
		gotVersion, estab bool
		end               = open
	)
	src := bytes.NewReader(stream)
	r := wire.NewReader(src, regtest)
read:
	for {
		f, err := r.Next()
		if err != nil {
			if fe, ok := errors.AsType[*wire.FrameError](err); ok && fe.Recoverable {
				continue // bad checksum or command: dropped, connection kept
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				end = disconnected // wrong magic, oversized: disconnect after the header
			}
			break
		}
		m, err := wire.Decode(f.Command(), f.Payload)
		if err != nil {
			continue // undecodable: dropped
		}
		switch msg := m.(type) {
		case *wire.Version:
			if gotVersion {
				continue
			}
			if msg.ProtocolVersion < wire.MinPeerProtoVersion {
				end = disconnected
				break read
			}
			gotVersion, common, services = true, min(msg.ProtocolVersion, wire.ProtocolVersion), msg.Services
			want = append(want, wire.CmdVersion)
			if common >= wire.WtxidRelayVersion {
				want = append(want, wire.CmdWtxidRelay, wire.CmdSendAddrV2)
			}
			want = append(want, wire.CmdVerack)
			if common <= wire.SendHeadersVersion {
				want = append(want, wire.CmdAlert)
			}
		case wire.Verack:
			if !gotVersion || estab {
				continue
			}
			estab = true
			before := len(want)
			if common >= wire.ShortIDsBlocksVersion {
				want = append(want, wire.CmdSendCmpct)
			}
			want = append(want, wire.CmdPing)
			if services&(wire.NodeNetwork|wire.NodeNetworkLimited) != 0 {
				want = append(want, wire.CmdGetHeaders)
			}
			if common >= wire.FeeFilterVersion {
				want = append(want, wire.CmdFeeFilter)
			}
			if r.Buffered() == 0 && src.Len() == 0 {
				// The verack ends the stream: a client's close can be
				// there with it, and Core then skips the peer instead of
				// sending what follows a verack.
				optional = len(want) - before
			}
		case wire.Ping:
			if estab && !msg.NoNonce && common > wire.BIP31Version {
				want = append(want, wire.CmdPong)
				pings = append(pings, msg.Nonce)
			}
		case wire.WtxidRelay, wire.SendAddrV2:
			if estab {
				end = disconnected
				break read
			}
		}
	}
	if estab && end == open {
		end = established
	}
	for _, s := range got {
		if pong, ok := s.msg.(wire.Pong); ok && !slices.Contains(pings, pong.Nonce) {
			return want, optional, end, fmt.Sprintf("pong %x answers no ping", pong.Nonce)
		}
	}
	return want, optional, end, ""
}

// btcdRules checks what BtcdResponder sent without predicting it exactly
// (btcd's rules on what disconnects are many; see BtcdResponder): a
// version or a reject first, one version at most, and nothing btcd would
// not send.
func btcdRules(_ []byte, got []fromMock) ([]string, int, outcome, string) {
	versions := 0
	for i, s := range got {
		switch s.cmd {
		case wire.CmdVersion:
			versions++
			if i != 0 {
				return nil, 0, unknown, "version is not the first message"
			}
		case wire.CmdReject:
		case wire.CmdSendAddrV2, wire.CmdVerack, wire.CmdPong, wire.CmdGetHeaders:
			if versions == 0 {
				return nil, 0, unknown, s.cmd + " before our version"
			}
		default:
			return nil, 0, unknown, "btcd would not send " + s.cmd
		}
	}
	if versions > 1 {
		return nil, 0, unknown, "more than one version"
	}
	return nil, 0, unknown, ""
}
