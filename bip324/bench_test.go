package bip324_test

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Benchmarks for later performance work: `go test -run '^$' -bench . -benchmem ./bip324/`.
// A version-sized packet: the long-form message type and a 107-byte
// payload (Core's version with user agent /Satoshi:30.0.0/).

func versionContents() []byte {
	return bip324.AppendContents(nil, wire.CmdVersion, make([]byte, 107))
}

func BenchmarkEncryptVersion(b *testing.B) {
	contents := versionContents()
	b.Run("ours", func(b *testing.B) {
		send, _ := fixedPair()
		b.ReportAllocs()
		b.SetBytes(int64(len(contents)))
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf, _ = send.Encrypt(buf[:0], contents, nil, false)
		}
	})
	b.Run("btcd", func(b *testing.B) {
		RegisterTestingT(b)
		s := btcdInitiates(0, 0, nil)
		b.ReportAllocs()
		b.SetBytes(int64(len(contents)))
		for b.Loop() {
			s.conn.out.Reset()
			if _, _, err := s.btcd.V2EncPacket(contents, nil, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Decryption needs a fresh packet from the matching sender each time, so
// each op is our Encrypt followed by the receiver's decryption; subtract
// BenchmarkEncryptVersion/ours for the decryption alone.
func BenchmarkDecryptVersion(b *testing.B) {
	contents := versionContents()
	b.Run("ours", func(b *testing.B) {
		send, recv := fixedPair()
		b.ReportAllocs()
		b.SetBytes(int64(len(contents)))
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf, _ = send.Encrypt(buf[:0], contents, nil, false)
			if _, err := recv.DecryptLength([bip324.LengthLen]byte(buf)); err != nil {
				b.Fatal(err)
			}
			if _, _, err := recv.Decrypt(buf[bip324.LengthLen:], nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("btcd", func(b *testing.B) {
		RegisterTestingT(b)
		s := btcdInitiates(0, 0, nil)
		b.ReportAllocs()
		b.SetBytes(int64(len(contents)))
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf, _ = s.ours.Encrypt(buf[:0], contents, nil, false)
			s.conn.in.Write(buf)
			if _, err := s.btcd.V2ReceivePacket(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkKeyExchange is one side's cryptography for a handshake: a fresh
// ElligatorSwift key, the ECDH with the peer's key and the HKDF schedule.
func BenchmarkKeyExchange(b *testing.B) {
	peer, err := bip324.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		k, err := bip324.NewKey()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bip324.NewCipher(k, peer.EllSwift, true, wire.Mainnet); err != nil {
			b.Fatal(err)
		}
	}
}
