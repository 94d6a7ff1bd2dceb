package wire_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"testing/iotest"

	btcwire "github.com/btcsuite/btcd/wire/v2"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Native fuzz targets: `go test -run '^$' -fuzz FuzzX -fuzztime 20s ./wire/`.
// Seeds come from f.Add and testdata/fuzz/FuzzX; plain `go test` runs them
// all. Properties: no panic, every error is one of the package's kinds,
// encode(decode(x)) is stable, and (for version) btcd agrees except where
// differential_test.go documents a deliberate difference.

func seedFrames() [][]byte {
	v := fullVersion()
	min := fullVersion()
	min.Tail = wire.TailMinimal
	stream, _ := handshakeStream(wire.Mainnet)
	return [][]byte{
		wikiVersionFrame,
		append(bytes.Clone(devRefVersionHeader), devRefVersionPayload...),
		wire.AppendMessage(nil, wire.Mainnet, v),
		wire.AppendMessage(nil, wire.Mainnet, min),
		wire.AppendMessage(nil, wire.Mainnet, wire.Verack{}),
		wire.AppendMessage(nil, wire.Mainnet, wire.Ping{Nonce: 1}),
		wire.AppendMessage(nil, wire.Mainnet, wire.SendCmpct{Announce: true, Version: 2}),
		wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 1}).WithBadChecksum().Bytes(),
		wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithLength(0xFFFFFFFF).Bytes(),
		wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithCommandBytes(cmdBytes("ver\x00ack")).Bytes(),
		stream[:300],
	}
}

func checkKind(t *testing.T, err error, allowed ...error) {
	t.Helper()
	for _, k := range allowed {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("error %v is none of %v", err, allowed)
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s[:min(len(s), wire.HeaderSize)])
	}
	f.Add([]byte{})
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := wire.ParseHeader(b, wire.Mainnet, 0)
		if err != nil {
			checkKind(t, err, wire.ErrShortHeader, wire.ErrBadMagic, wire.ErrPayloadTooLarge)
			if wire.IsRecoverable(err) {
				t.Fatalf("header errors are fatal: %v", err)
			}
			if (len(b) < wire.HeaderSize) != errors.Is(err, wire.ErrShortHeader) {
				t.Fatalf("ErrShortHeader iff fewer than 24 bytes: %d bytes, %v", len(b), err)
			}
			return
		}
		if h.Length > wire.MaxPayload {
			t.Fatalf("accepted length %d", h.Length)
		}
		if h.Magic != wire.Mainnet.Magic() {
			t.Fatalf("accepted magic %x", h.Magic)
		}
		if got := h.AppendHeader(nil); !bytes.Equal(got, b[:wire.HeaderSize]) {
			t.Fatalf("header does not round-trip: %x vs %x", got, b[:wire.HeaderSize])
		}
		if h.ValidCommand() && wire.CommandBytes(h.CommandName()) != h.Command {
			t.Fatalf("valid command %q does not round-trip", h.Command)
		}
	})
}

func FuzzVersionDecode(f *testing.F) {
	f.Add(wikiVersionFrame[wire.HeaderSize:])
	f.Add(devRefVersionPayload)
	for tail := wire.TailFull; tail <= wire.TailMinimal; tail++ {
		v := fullVersion()
		v.Tail = tail
		f.Add(v.AppendPayload(nil))
	}
	f.Add(append(fullVersion().AppendPayload(nil), 1, 2, 3))
	f.Add(fullVersion().AppendPayload(nil)[:72])
	f.Fuzz(func(t *testing.T, payload []byte) {
		var v wire.Version
		err := v.DecodePayload(payload)

		// btcd's verdict on the same payload, framed.
		bm, _, berr := btcwire.ReadMessage(bytes.NewReader(wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: "version", Payload: payload})),
			btcwire.ProtocolVersion, btcwire.MainNet)

		if err != nil {
			checkKind(t, err, wire.ErrTruncated, wire.ErrNonCanonical, wire.ErrUserAgentTooLong)
			if !wire.IsRecoverable(err) {
				t.Fatalf("version errors drop the message only: %v", err)
			}
			// Difference: addr_from without nonce (Core rejects, btcd accepts).
			if berr == nil && len(payload) != 72 {
				t.Fatalf("we reject (%v), btcd accepts %d bytes", err, len(payload))
			}
			return
		}

		enc := v.AppendPayload(nil)
		if len(enc) != len(payload)-v.TrailingBytes {
			t.Fatalf("re-encoded %d bytes, want %d", len(enc), len(payload)-v.TrailingBytes)
		}
		// Byte for byte except the relay byte, which is normalised to 0/1.
		body := len(enc)
		if v.Tail == wire.TailFull {
			body--
		}
		if !bytes.Equal(enc[:body], payload[:body]) {
			t.Fatalf("re-encoding changed bytes:\n%x\n%x", enc, payload[:len(enc)])
		}
		var again wire.Version
		if err := again.DecodePayload(enc); err != nil {
			t.Fatalf("re-encoded version does not decode: %v", err)
		}
		want := v
		want.TrailingBytes = 0
		if again != want {
			t.Fatalf("decode(encode(decode(x))) differs:\n%+v\n%+v", again, want)
		}
		if !bytes.Equal(again.AppendPayload(nil), enc) {
			t.Fatal("encode(decode(x)) is not stable")
		}

		// Difference: btcd rejects bytes after relay (Core ignores them).
		if v.TrailingBytes > 0 {
			if berr == nil {
				t.Fatalf("btcd accepted %d trailing bytes", v.TrailingBytes)
			}
			return
		}
		if berr != nil {
			t.Fatalf("we accept, btcd rejects: %v", berr)
		}
		b := bm.(*btcwire.MsgVersion)
		if b.ProtocolVersion != v.ProtocolVersion || uint64(b.Services) != v.Services ||
			b.Timestamp.Unix() != v.Timestamp || b.Nonce != v.Nonce || b.UserAgent != v.UserAgent ||
			b.LastBlock != v.StartHeight || b.DisableRelayTx == v.Relay ||
			!bytes.Equal(b.AddrYou.IP, v.AddrRecv.IP[:]) || b.AddrYou.Port != v.AddrRecv.Port ||
			uint64(b.AddrYou.Services) != v.AddrRecv.Services {
			t.Fatalf("btcd decoded other fields:\nbtcd %+v\nours %+v", b, v)
		}
		if v.Tail < wire.TailMinimal && (!bytes.Equal(b.AddrMe.IP, v.AddrFrom.IP[:]) ||
			b.AddrMe.Port != v.AddrFrom.Port || uint64(b.AddrMe.Services) != v.AddrFrom.Services) {
			t.Fatalf("btcd decoded another addr_from: %+v vs %+v", b.AddrMe, v.AddrFrom)
		}
	})
}

var fuzzCommands = []string{
	wire.CmdVersion, wire.CmdVerack, wire.CmdPing, wire.CmdPong, wire.CmdSendHeaders,
	wire.CmdSendCmpct, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdSendTxRcncl,
	wire.CmdFeeFilter, wire.CmdGetAddr, wire.CmdAlert, wire.CmdInv, "unknown",
}

func FuzzDecode(f *testing.F) {
	for _, s := range seedFrames() {
		if len(s) >= wire.HeaderSize {
			h := wire.Header{Command: [12]byte(s[4:16])}
			f.Add(h.CommandName(), s[wire.HeaderSize:])
		}
	}
	for _, c := range fuzzCommands {
		f.Add(c, []byte{})
		f.Add(c, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	}
	f.Fuzz(func(t *testing.T, cmd string, payload []byte) {
		m, err := wire.Decode(cmd, payload)
		if err != nil {
			checkKind(t, err, wire.ErrTruncated, wire.ErrNonCanonical, wire.ErrUserAgentTooLong)
			return
		}
		if m.Command() != cmd {
			t.Fatalf("Decode(%q) gave a %q message", cmd, m.Command())
		}
		enc := m.AppendPayload(nil)
		m2, err := wire.Decode(cmd, enc)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", cmd, err)
		}
		if v, ok := m.(*wire.Version); ok {
			v.TrailingBytes = 0
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("decode(encode(decode(x))) differs for %s:\n%#v\n%#v", cmd, m, m2)
		}
		if !bytes.Equal(m2.AppendPayload(nil), enc) {
			t.Fatalf("encode(decode(x)) is not stable for %s", cmd)
		}
		// As a frame, through the Reader, when the command survives a
		// header unchanged (at most 12 bytes, printable, no NUL).
		h := wire.Header{Command: wire.CommandBytes(cmd)}
		if !h.ValidCommand() || h.CommandName() != cmd || len(enc) > wire.MaxPayload {
			return
		}
		fr, err := wire.NewReader(bytes.NewReader(wire.AppendMessage(nil, wire.Regtest, m)), wire.Regtest).Next()
		if err != nil {
			t.Fatalf("frame of %s does not read: %v", cmd, err)
		}
		if fr.Command() != cmd || !bytes.Equal(fr.Payload, enc) {
			t.Fatalf("frame of %s read back as %s %x", cmd, fr.Command(), fr.Payload)
		}
	})
}

// validStream builds a valid stream from arbitrary bytes: each frame takes
// a length byte, then up to that many payload bytes; the command is picked
// by the length.
func validStream(data []byte) ([]byte, []readResult) {
	var stream []byte
	var want []readResult
	for len(data) > 0 {
		n := min(int(data[0]), len(data)-1)
		cmd := fuzzCommands[int(data[0])%len(fuzzCommands)]
		payload := data[1 : 1+n]
		data = data[1+n:]
		stream = wire.AppendMessage(stream, wire.Signet, wire.Raw{Cmd: cmd, Payload: payload})
		want = append(want, readResult{Command: cmd, Payload: string(payload)})
	}
	return stream, append(want, readResult{Kind: io.EOF})
}

type fuzzStream struct {
	net    wire.Network
	stream []byte
	want   []readResult // nil: whatever the unsplit read gives
}

func FuzzReaderSplits(f *testing.F) {
	for i, s := range seedFrames() {
		f.Add(s, uint64(i))
	}
	stream, _ := handshakeStream(wire.Mainnet)
	f.Add(stream, uint64(99))
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, uint64(len(data))))
		valid, want := validStream(data)
		// data itself (mostly garbage, sometimes frames), and a valid
		// stream built from it.
		for _, s := range []fuzzStream{{wire.Mainnet, data, nil}, {wire.Signet, valid, want}} {
			limit := len(s.stream)/wire.HeaderSize + 4
			whole := readAll(wire.NewReader(bytes.NewReader(s.stream), s.net), limit)
			if s.want != nil && !reflect.DeepEqual(whole, s.want) {
				t.Fatalf("valid stream read as\n%v\nwant\n%v", whole, s.want)
			}
			for _, r := range whole {
				if r.Kind != nil && !slices.Contains(sentinels, r.Kind) {
					t.Fatalf("error of no known kind: %v", r.Kind)
				}
			}
			maxChunk := 1 + int(seed%97)
			splits := []io.Reader{
				&chunkReader{data: s.stream, chunks: randomSplits(rng, len(s.stream), maxChunk)},
				iotest.OneByteReader(bytes.NewReader(s.stream)),
				iotest.DataErrReader(iotest.HalfReader(bytes.NewReader(s.stream))),
			}
			for i, src := range splits {
				size := []int{wire.HeaderSize, 100, wire.DefaultReaderSize}[i]
				got := readAll(wire.NewReaderSize(src, s.net, size, 0), limit)
				if !reflect.DeepEqual(got, whole) {
					t.Fatalf("split %d (max chunk %d) read\n%v\nunsplit\n%v", i, maxChunk, got, whole)
				}
			}
		}
	})
}
