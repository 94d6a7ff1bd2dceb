package bip324_test

import (
	"bytes"
	"errors"
	"testing"
	"testing/cryptotest"

	"github.com/btcsuite/btcd/v2transport"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// diffSeed fixes crypto/rand for each input, so both sides' keys (ours from
// NewKey, btcd's from its own EllswiftCreate) and btcd's garbage are the
// same on every run: an input replays exactly.
const diffSeed = 324

// sentinel follows a decoy so that btcd, which skips decoys inside
// V2ReceivePacket, has something to return: getting it back first is how
// btcd shows it read the ignore bit.
var sentinel = []byte("sentinel")

// diffSession runs a handshake between our Cipher and a btcd Peer in
// memory, ours the initiator when weInitiate, and returns both sides after
// their version packets, with nothing left unread.
func diffSession(t *testing.T, weInitiate bool) (*bip324.Cipher, *v2transport.Peer, buffers) {
	cryptotest.SetGlobalRandom(t, diffSeed)
	conn := buffers{new(bytes.Buffer), new(bytes.Buffer)}
	p := v2transport.NewPeer()
	p.UseReadWriter(conn)
	net := v2transport.BitcoinNet(wire.Mainnet)
	key, err := bip324.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	var ours *bip324.Cipher
	if weInitiate {
		conn.in.Write(key.EllSwift[:]) // no garbage
		if err := p.RespondV2Handshake(0, net); err != nil {
			t.Fatalf("btcd responds: %v", err)
		}
		if ours, err = bip324.NewCipher(key, [bip324.KeyLen]byte(conn.out.Next(bip324.KeyLen)), true, wire.Mainnet); err != nil {
			t.Fatal(err)
		}
	} else {
		if err := p.InitiateV2Handshake(0); err != nil {
			t.Fatalf("btcd initiates: %v", err)
		}
		if ours, err = bip324.NewCipher(key, [bip324.KeyLen]byte(conn.out.Next(bip324.KeyLen)), false, wire.Mainnet); err != nil {
			t.Fatal(err)
		}
		conn.in.Write(key.EllSwift[:])
	}
	term := ours.SendTerminator()
	conn.in.Write(term[:])
	version, _ := ours.Encrypt(nil, nil, nil, false)
	conn.in.Write(version)
	if err := p.CompleteHandshake(!weInitiate, nil, net); err != nil {
		t.Fatalf("btcd completes: %v", err)
	}
	if g, found, err := ours.FindTerminator(conn.out.Bytes()); err != nil || !found || g != 0 {
		t.Fatalf("btcd's terminator: at %d, found %v, %v", g, found, err)
	}
	conn.out.Next(bip324.TerminatorLen)
	if contents, ignore, err := readOurs(ours, conn.out, nil); err != nil || ignore || len(contents) != 0 {
		t.Fatalf("btcd's version packet: %x ignore %v: %v", contents, ignore, err)
	}
	if conn.in.Len() != 0 || conn.out.Len() != 0 {
		t.Fatalf("unread after the handshake: %d bytes to btcd, %d to us", conn.in.Len(), conn.out.Len())
	}
	return ours, p, conn
}

// readOurs decrypts the next packet in b as our receiver, checking the
// declared length against our limit from the 3 length bytes alone.
func readOurs(c *bip324.Cipher, b *bytes.Buffer, aad []byte) ([]byte, bool, error) {
	if b.Len() < bip324.LengthLen {
		return nil, false, errors.New("no length field")
	}
	n, err := c.DecryptLength([bip324.LengthLen]byte(b.Next(bip324.LengthLen)))
	if err != nil {
		return nil, false, err
	}
	rest := b.Next(n + bip324.Expansion - bip324.LengthLen)
	return c.Decrypt(rest, aad)
}

// FuzzDifferentialPackets checks our packets against btcd's v2transport,
// the oracle, on one session per input made from fixed keys: after some
// empty packets each way (skips), arbitrary contents with arbitrary AAD and ignore bit, encrypted
// by us, are what btcd decrypts (a decoy is skipped: btcd returns the
// sentinel that follows), and encrypted by btcd are what we decrypt, byte
// for byte with the same ignore bit; a length over our limit (Core's) is
// refused from its 3 bytes, where btcd takes up to 2^24-1 (the difference
// bip324's specs show). No panic on either side.
func FuzzDifferentialPackets(f *testing.F) {
	f.Add([]byte{}, []byte{}, false, uint8(0), false)
	f.Add(bip324.AppendContents(nil, "version", make([]byte, 102)), []byte("garbage"), false, uint8(0), true)
	f.Add(bip324.AppendContents(nil, "ping", make([]byte, 8)), []byte{}, true, uint8(0x80|3), false)          // packet 223, the last before the rekey
	f.Add(longForm("verack", nil), bytes.Repeat([]byte{7}, bip324.MaxGarbageLen), false, uint8(0x80|4), true) // packet 224, the first after
	f.Add([]byte{0x80, 0xff, 0x00}, []byte{1}, true, uint8(0xff), true)
	f.Fuzz(func(t *testing.T, contents, aad []byte, ignore bool, skip uint8, weInitiate bool) {
		ours, p, conn := diffSession(t, weInitiate)
		// The version packet is number 0; the fuzzed one comes after 0..7
		// empty packets, or after 219..226 to land around the rekey at
		// 224 (the packets in between cost time, not coverage).
		skips := int(skip&7) + int(skip>>7)*219
		for i := range skips {
			pkt, _ := ours.Encrypt(nil, nil, nil, false)
			conn.in.Write(pkt)
			if got, err := p.V2ReceivePacket(nil); err != nil || len(got) != 0 {
				t.Fatalf("skip %d, ours → btcd: %x, %v", i, got, err)
			}
			if _, _, err := p.V2EncPacket(nil, nil, false); err != nil {
				t.Fatalf("skip %d: btcd encrypts: %v", i, err)
			}
			if got, ign, err := readOurs(ours, conn.out, nil); err != nil || ign || len(got) != 0 {
				t.Fatalf("skip %d, btcd → ours: %x %v, %v", i, got, ign, err)
			}
		}

		// Ours → btcd.
		pkt, err := ours.Encrypt(nil, contents, aad, ignore)
		if err != nil {
			t.Fatalf("we encrypt %d bytes: %v", len(contents), err)
		}
		if len(pkt) != len(contents)+bip324.Expansion {
			t.Fatalf("our packet: %d bytes for %d of contents", len(pkt), len(contents))
		}
		conn.in.Write(pkt)
		next, _ := ours.Encrypt(nil, sentinel, nil, false)
		conn.in.Write(next)
		got, err := p.V2ReceivePacket(aad)
		if err != nil {
			t.Fatalf("btcd decrypts our packet (ignore %v): %v", ignore, err)
		}
		want := contents
		if ignore {
			want = sentinel // btcd skipped our decoy
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("ours → btcd (ignore %v): btcd read %d bytes %.32x, we sent %d %.32x", ignore, len(got), got, len(want), want)
		}
		if !ignore {
			if got, err = p.V2ReceivePacket(nil); err != nil || !bytes.Equal(got, sentinel) {
				t.Fatalf("ours → btcd: the sentinel after: %q, %v", got, err)
			}
		}
		if conn.in.Len() != 0 {
			t.Fatalf("btcd left %d bytes of ours unread", conn.in.Len())
		}

		// btcd → ours.
		if _, _, err := p.V2EncPacket(contents, aad, ignore); err != nil {
			t.Fatalf("btcd encrypts %d bytes: %v", len(contents), err)
		}
		if conn.out.Len() != len(contents)+bip324.Expansion {
			t.Fatalf("btcd's packet: %d bytes for %d of contents", conn.out.Len(), len(contents))
		}
		got, ign, err := readOurs(ours, conn.out, aad)
		if len(contents) > bip324.MaxContentsLen {
			if !errors.Is(err, bip324.ErrPacketTooLarge) {
				t.Fatalf("btcd → ours, %d bytes over our limit: %v", len(contents), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("we decrypt btcd's packet: %v", err)
		}
		if ign != ignore || !bytes.Equal(got, contents) {
			t.Fatalf("btcd → ours: ignore %v, %d bytes %.32x; btcd sent ignore %v, %d %.32x", ign, len(got), got, ignore, len(contents), contents)
		}
		if conn.out.Len() != 0 {
			t.Fatalf("we left %d bytes of btcd's unread", conn.out.Len())
		}
	})
}
