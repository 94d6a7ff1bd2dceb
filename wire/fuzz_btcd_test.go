package wire_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	btcwire "github.com/btcsuite/btcd/wire/v2"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Differential fuzzing against btcd's wire package on every handshake-phase
// message, not only version (FuzzVersionDecode): the fuzzer picks a
// command, a payload and a way to break the frame; both codecs read the
// same bytes, and must both reject, or both accept with the same fields,
// except where "differences, where we follow Bitcoin Core" in
// differential_test.go (and RELIABILITY.md) documents why we differ.
//
// Gomega is not used here: fuzz workers run only the target, without
// Ginkgo's fail handler.

// btcdKnown are the commands btcd wire v2.0.1's makeEmptyMessage knows;
// anything else is btcwire.ErrUnknownMessage.
var btcdKnown = map[string]bool{
	"version": true, "verack": true, "sendaddrv2": true, "getaddr": true, "addr": true,
	"addrv2": true, "getblocks": true, "block": true, "inv": true, "getdata": true,
	"notfound": true, "tx": true, "ping": true, "pong": true, "getheaders": true,
	"headers": true, "mempool": true, "filteradd": true, "filterclear": true,
	"filterload": true, "merkleblock": true, "reject": true, "sendheaders": true,
	"feefilter": true, "getcfilters": true, "getcfheaders": true, "getcfcheckpt": true,
	"cfilter": true, "cfheaders": true, "cfcheckpt": true,
}

var diffCommands = []string{
	wire.CmdVersion, wire.CmdVerack, wire.CmdPing, wire.CmdPong, wire.CmdSendHeaders,
	wire.CmdSendCmpct, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdSendTxRcncl,
	wire.CmdFeeFilter, wire.CmdGetAddr, wire.CmdAlert, wire.CmdInv, wire.CmdGetHeaders,
	wire.CmdReject, "unknown", "ver\x00ack", "\x01ping",
}

// Ways to break a frame, picked by the fuzzer.
const (
	breakNone      = iota
	breakChecksum  // checksum bits inverted
	breakMagic     // testnet3's magic
	breakShort     // last byte missing: the stream ends inside the frame
	breakLonger    // declared length one more than the payload
	breakOversized // declared length over 4,000,000
	breakings
)

func breakFrame(frame []byte, how uint8) []byte {
	switch how % breakings {
	case breakChecksum:
		for i := 20; i < 24; i++ {
			frame[i] ^= 0xff
		}
	case breakMagic:
		m := wire.Testnet3.Magic()
		copy(frame, m[:])
	case breakShort:
		frame = frame[:len(frame)-1]
	case breakLonger:
		binary.LittleEndian.PutUint32(frame[16:], binary.LittleEndian.Uint32(frame[16:])+1)
	case breakOversized:
		binary.LittleEndian.PutUint32(frame[16:], wire.MaxPayload+1+uint32(len(frame)))
	}
	return frame
}

func FuzzBtcdDifferential(f *testing.F) {
	v := fullVersion()
	full := v.AppendPayload(nil)
	for i, c := range diffCommands {
		for how := range uint8(breakings) {
			f.Add(c, []byte{}, how)
		}
		f.Add(c, []byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(i))
		f.Add(c, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(0))
		f.Add(c, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(0))
	}
	f.Add(wire.CmdVersion, full, uint8(0))
	f.Add(wire.CmdVersion, full[:72], uint8(0))
	f.Add(wire.CmdVersion, full[:80], uint8(0))
	f.Add(wire.CmdVersion, append(bytes.Clone(full), 0, 0), uint8(0))
	f.Add(wire.CmdVersion, wikiVersionFrame[wire.HeaderSize:], uint8(0))
	f.Add(wire.CmdVersion, devRefVersionPayload, uint8(0))
	f.Fuzz(func(t *testing.T, cmd string, payload []byte, how uint8) {
		if len(payload) > 4096 {
			return // nothing new past the largest handshake message; keeps execs fast
		}
		frame := breakFrame(wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: cmd, Payload: payload}), how)
		name := wire.Header{Command: wire.CommandBytes(cmd)}.CommandName()

		var ours wire.Message
		fr, err := wire.NewReader(bytes.NewReader(frame), wire.Mainnet).Next()
		if err == nil {
			ours, err = wire.Decode(fr.Command(), fr.Payload)
		}
		bm, _, berr := btcwire.ReadMessage(bytes.NewReader(frame), btcdPver, btcwire.MainNet)

		if err != nil {
			checkKind(t, err, sentinels...)
			if berr == nil && !(name == wire.CmdVersion && errors.Is(err, wire.ErrTruncated) && len(fr.Payload) == 72) {
				// Documented: addr_from without nonce (Core rejects, btcd accepts).
				t.Fatalf("%q (break %d): we reject (%v), btcd accepts %T", name, how%breakings, err, bm)
			}
			return
		}
		if problem := compareWithBtcd(name, fr.Payload, ours, bm, berr); problem != "" {
			t.Fatalf("%q, %d-byte payload: %s", name, len(fr.Payload), problem)
		}
	})
}

// compareWithBtcd checks btcd's verdict on a frame we accepted; it returns
// what is wrong, or "".
func compareWithBtcd(name string, payload []byte, ours wire.Message, bm btcwire.Message, berr error) string {
	unknown := func() string {
		if !errors.Is(berr, btcwire.ErrUnknownMessage) {
			return fmt.Sprintf("btcd should not know %q: %v", name, berr)
		}
		return ""
	}
	// exact: btcd reads exactly n bytes (MaxPayloadLength n, and nothing
	// may be left over); Core reads what it needs and ignores the rest.
	exact := func(n int) string {
		switch {
		case len(payload) == n && berr != nil:
			return fmt.Sprintf("btcd rejects the %d-byte form: %v", n, berr)
		case len(payload) > n && (berr == nil || !strings.Contains(berr.Error(), "exceeds max length")):
			return fmt.Sprintf("btcd should reject %d bytes over its maximum %d, got %v", len(payload), n, berr)
		case len(payload) < n && berr == nil:
			return "btcd accepts a short payload"
		}
		return ""
	}
	if !btcdKnown[name] {
		// Core processes sendcmpct, wtxidrelay and sendtxrcncl, and
		// ignores alert and unknown commands; btcd knows none of them.
		return unknown()
	}
	switch m := ours.(type) {
	case *wire.Version:
		if m.TrailingBytes > 0 {
			if berr == nil {
				return fmt.Sprintf("btcd accepts %d bytes after relay", m.TrailingBytes)
			}
			return ""
		}
		if berr != nil {
			return fmt.Sprintf("we accept, btcd rejects: %v", berr)
		}
		return sameAsBtcdVersion(bm.(*btcwire.MsgVersion), m)
	case wire.Verack, wire.SendHeaders, wire.GetAddr, wire.SendAddrV2:
		if p := exact(0); p != "" {
			return p
		}
		if berr == nil && bm.Command() != name {
			return fmt.Sprintf("btcd decoded a %q", bm.Command())
		}
	case wire.Ping:
		if m.NoNonce {
			// Pre-BIP31 form; btcd at 70016 needs the nonce.
			if berr == nil {
				return "btcd accepts an empty ping at 70016"
			}
			return ""
		}
		if p := exact(8); p != "" {
			return p
		}
		if berr == nil && bm.(*btcwire.MsgPing).Nonce != m.Nonce {
			return fmt.Sprintf("nonce %x vs btcd %x", m.Nonce, bm.(*btcwire.MsgPing).Nonce)
		}
	case wire.Pong:
		if p := exact(8); p != "" {
			return p
		}
		if berr == nil && bm.(*btcwire.MsgPong).Nonce != m.Nonce {
			return fmt.Sprintf("nonce %x vs btcd %x", m.Nonce, bm.(*btcwire.MsgPong).Nonce)
		}
	case wire.FeeFilter:
		if p := exact(8); p != "" {
			return p
		}
		if berr == nil && bm.(*btcwire.MsgFeeFilter).MinFee != m.FeeRate {
			return fmt.Sprintf("fee rate %d vs btcd %d", m.FeeRate, bm.(*btcwire.MsgFeeFilter).MinFee)
		}
	case wire.Raw:
		// addr, inv, getheaders, reject, ...: we keep them as bytes and
		// judge nothing in them during a handshake; btcd decodes them.
		return ""
	default:
		return fmt.Sprintf("unexpected %T", ours)
	}
	if berr != nil {
		return ""
	}
	// Both accepted: btcd's encoding of its message is ours.
	var buf bytes.Buffer
	if err := btcwire.WriteMessage(&buf, bm, btcdPver, btcwire.MainNet); err != nil {
		return fmt.Sprintf("btcd cannot re-encode its %s: %v", name, err)
	}
	if want := wire.AppendMessage(nil, wire.Mainnet, ours); !bytes.Equal(buf.Bytes(), want) {
		return fmt.Sprintf("re-encoded differently:\nbtcd %x\nours %x", buf.Bytes(), want)
	}
	return ""
}

// sameAsBtcdVersion compares btcd's decoding of a version with ours, and
// (for the full form, which btcd always writes at 70016) the re-encodings.
func sameAsBtcdVersion(b *btcwire.MsgVersion, v *wire.Version) string {
	if b.ProtocolVersion != v.ProtocolVersion || uint64(b.Services) != v.Services ||
		b.Timestamp.Unix() != v.Timestamp || b.Nonce != v.Nonce || b.UserAgent != v.UserAgent ||
		b.LastBlock != v.StartHeight || b.DisableRelayTx == v.Relay ||
		!bytes.Equal(b.AddrYou.IP, v.AddrRecv.IP[:]) || b.AddrYou.Port != v.AddrRecv.Port ||
		uint64(b.AddrYou.Services) != v.AddrRecv.Services {
		return fmt.Sprintf("btcd decoded other fields:\nbtcd %+v\nours %+v", b, v)
	}
	if v.Tail < wire.TailMinimal && (!bytes.Equal(b.AddrMe.IP, v.AddrFrom.IP[:]) ||
		b.AddrMe.Port != v.AddrFrom.Port || uint64(b.AddrMe.Services) != v.AddrFrom.Services) {
		return fmt.Sprintf("btcd decoded another addr_from: %+v vs %+v", b.AddrMe, v.AddrFrom)
	}
	if v.Tail != wire.TailFull {
		return ""
	}
	var buf bytes.Buffer
	if err := btcwire.WriteMessage(&buf, b, btcdPver, btcwire.MainNet); err != nil {
		return fmt.Sprintf("btcd cannot re-encode the version: %v", err)
	}
	if want := wire.AppendMessage(nil, wire.Mainnet, v); !bytes.Equal(buf.Bytes(), want) {
		return fmt.Sprintf("version re-encoded differently:\nbtcd %x\nours %x", buf.Bytes(), want)
	}
	return ""
}

// FuzzCompactSize checks the CompactSize decoder on its own: canonical
// values round-trip through AppendCompactSize in the size their range
// calls for, errors are ErrTruncated or ErrNonCanonical, and btcd's
// ReadVarInt agrees on every verdict and value.
func FuzzCompactSize(f *testing.F) {
	for _, s := range [][]byte{
		{}, {0}, {0xfc}, {0xfd}, {0xfd, 0xfc, 0}, {0xfd, 0xfd, 0}, {0xfd, 0xff, 0xff},
		{0xfe, 0xff, 0xff, 0, 0}, {0xfe, 0, 0, 1, 0}, {0xfe, 0xff, 0xff, 0xff, 0xff},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, {0xff, 0, 0, 0, 0, 1, 0, 0, 0},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0xff, 1, 2},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := wire.ReadCompactSize(b)
		bv, berr := btcwire.ReadVarInt(bytes.NewReader(b), btcdPver)
		if err != nil {
			checkKind(t, err, wire.ErrTruncated, wire.ErrNonCanonical)
			if berr == nil {
				t.Fatalf("we reject %x (%v), btcd reads %d", b, err, bv)
			}
			if truncated := errors.Is(err, wire.ErrTruncated); truncated != (errors.Is(berr, io.EOF) || errors.Is(berr, io.ErrUnexpectedEOF)) {
				t.Fatalf("%x: we say %v, btcd %v", b, err, berr)
			}
			return
		}
		if berr != nil || bv != v {
			t.Fatalf("%x: we read %d, btcd %d (%v)", b, v, bv, berr)
		}
		want := 1
		switch {
		case v > 0xffffffff:
			want = 9
		case v > 0xffff:
			want = 5
		case v >= 0xfd:
			want = 3
		}
		if n != want {
			t.Fatalf("%d read from %d bytes, its canonical size is %d", v, n, want)
		}
		if enc := wire.AppendCompactSize(nil, v); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("%d re-encoded as %x, read from %x", v, enc, b[:n])
		}
	})
}
