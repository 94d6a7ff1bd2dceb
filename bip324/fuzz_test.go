package bip324_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/btc-handshake/btc-handshake/bip324"
)

// Native fuzz targets: `go test -run '^$' -fuzz FuzzX -fuzztime 20s ./bip324/`.
// The sessions come from a fixed secret so that inputs replay exactly.

// parseErr reports whether err is one of ParseContents' kinds.
func parseErr(err error) bool {
	return errors.Is(err, bip324.ErrShortContents) || errors.Is(err, bip324.ErrUnknownShortID) || errors.Is(err, bip324.ErrBadCommand)
}

// FuzzDecrypt feeds arbitrary bytes to a receiver as a packet stream (the
// first packet with AAD "garbage"): no panic, each packet consumed only
// when its declared length fits the input, every error one of the
// package's kinds, and nothing allocated for a declared length.
func FuzzDecrypt(f *testing.F) {
	send, _ := fixedPair()
	var stream []byte
	stream, _ = send.Encrypt(stream, nil, []byte("garbage"), true)
	stream, _ = send.Encrypt(stream, nil, nil, false)
	stream, _ = send.Encrypt(stream, bip324.AppendContents(nil, "ping", make([]byte, 8)), nil, false)
	stream, _ = send.Encrypt(stream, bip324.AppendContents(nil, "verack", nil), nil, false)
	f.Add(stream)
	f.Add(stream[:30])
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, recv := fixedPair()
		in := bytes.Clone(data)
		aad := []byte("garbage")
		for len(in) >= bip324.LengthLen {
			n, err := recv.DecryptLength([bip324.LengthLen]byte(in))
			if err != nil {
				if !errors.Is(err, bip324.ErrPacketTooLarge) || n <= bip324.MaxContentsLen {
					t.Fatalf("DecryptLength: n=%d err=%v", n, err)
				}
				return
			}
			end := n + bip324.Expansion
			if end > len(in) {
				return // a reader would wait for more bytes
			}
			contents, _, err := recv.Decrypt(in[bip324.LengthLen:end], aad)
			if err != nil {
				if !errors.Is(err, bip324.ErrDecrypt) {
					t.Fatalf("Decrypt: %v", err)
				}
				return
			}
			if len(contents) != n {
				t.Fatalf("contents %d bytes, declared %d", len(contents), n)
			}
			if _, _, err := bip324.ParseContents(contents); err != nil && !parseErr(err) {
				t.Fatalf("ParseContents: %v", err)
			}
			in, aad = in[end:], nil
		}
	})
}

// FuzzRoundTrip encrypts arbitrary contents and, when flip is not zero,
// flips one bit of the packet: an intact packet decrypts to the same
// contents and ignore bit, a changed one never does. Contents that parse
// re-encode to contents that parse the same.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{}, []byte{}, false, uint32(0))
	f.Add(bip324.AppendContents(nil, "version", make([]byte, 102)), []byte("garbage"), false, uint32(0))
	f.Add(longForm("ping", make([]byte, 8)), []byte{}, true, uint32(9))
	f.Add([]byte{29, 1, 2}, []byte{}, false, uint32(1))
	f.Fuzz(func(t *testing.T, contents, aad []byte, ignore bool, flip uint32) {
		send, recv := fixedPair()
		pkt, err := send.Encrypt(nil, contents, aad, ignore)
		if err != nil {
			t.Fatal(err)
		}
		if flip != 0 {
			bit := int(flip-1) % (len(pkt) * 8)
			pkt[bit/8] ^= 1 << (bit % 8)
		}
		n, err := recv.DecryptLength([bip324.LengthLen]byte(pkt))
		ok := err == nil && n+bip324.Expansion == len(pkt)
		var got []byte
		var ign bool
		if ok {
			got, ign, err = recv.Decrypt(pkt[bip324.LengthLen:], aad)
			ok = err == nil
		}
		if flip != 0 {
			if ok {
				t.Fatalf("a flipped bit (%d) went unnoticed", flip-1)
			}
			return
		}
		if !ok || ign != ignore || !bytes.Equal(got, contents) {
			t.Fatalf("round trip: ok=%v err=%v", ok, err)
		}
		cmd, payload, err := bip324.ParseContents(got)
		if err != nil {
			if !parseErr(err) {
				t.Fatalf("ParseContents: %v", err)
			}
			return
		}
		cmd2, payload2, err := bip324.ParseContents(bip324.AppendContents(nil, cmd, payload))
		if err != nil || cmd2 != cmd || !bytes.Equal(payload2, payload) {
			t.Fatalf("re-encoding %q: %q %v", cmd, cmd2, err)
		}
	})
}

// FuzzFindTerminator compares the search with Core's way (after each
// received byte, compare the last 16 with the terminator; give up at
// 4095+16 bytes), over arbitrary bytes with the terminator spliced in.
func FuzzFindTerminator(f *testing.F) {
	f.Add([]byte{}, uint16(0))
	f.Add(bytes.Repeat([]byte{1}, 5000), uint16(4095))
	f.Add(bytes.Repeat([]byte{1}, 5000), uint16(4096))
	f.Add([]byte("abc"), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		_, recv := fixedPair()
		term := recv.RecvTerminator()
		if int(at) <= len(data) {
			data = append(append(append([]byte{}, data[:at]...), term[:]...), data[at:]...)
		}
		g, found, err := recv.FindTerminator(data)

		window := bip324.MaxGarbageLen + bip324.TerminatorLen
		wantG, wantFound, wantErr := 0, false, false
		for k := bip324.TerminatorLen; k <= len(data) && k <= window; k++ {
			if bytes.Equal(data[k-bip324.TerminatorLen:k], term[:]) {
				wantG, wantFound = k-bip324.TerminatorLen, true
				break
			}
		}
		if !wantFound && len(data) >= window {
			wantErr = true
		}
		if found != wantFound || g != wantG || (err != nil) != wantErr {
			t.Fatalf("got (%d, %v, %v), want (%d, %v, err=%v)", g, found, err, wantG, wantFound, wantErr)
		}
		if err != nil && !errors.Is(err, bip324.ErrNoTerminator) {
			t.Fatal(err)
		}
	})
}
