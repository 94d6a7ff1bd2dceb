package bip324_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"

	"github.com/btcsuite/btcd/v2transport"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// btcd's v2transport is the oracle: our side and a btcd Peer run a whole
// handshake over two in-memory buffers, then exchange packets. The steps
// are ordered so that each side only reads bytes already written.

// buffers is btcd's connection: it reads what we wrote to in and writes
// to out for us to read.
type buffers struct{ in, out *bytes.Buffer }

func (b buffers) Read(p []byte) (int, error)  { return b.in.Read(p) }
func (b buffers) Write(p []byte) (int, error) { return b.out.Write(p) }

// session is the state after a handshake between our side and btcd's.
type session struct {
	ours *bip324.Cipher
	btcd *v2transport.Peer
	conn buffers
}

// readPacket decrypts the next packet btcd wrote, skipping decoys.
func (s *session) readPacket(aad []byte) []byte {
	for {
		hdr := s.conn.out.Next(bip324.LengthLen)
		Expect(hdr).To(HaveLen(bip324.LengthLen))
		n, err := s.ours.DecryptLength([bip324.LengthLen]byte(hdr))
		Expect(err).NotTo(HaveOccurred())
		rest := s.conn.out.Next(n + bip324.Expansion - bip324.LengthLen)
		contents, ignore, err := s.ours.Decrypt(bytes.Clone(rest), aad)
		Expect(err).NotTo(HaveOccurred())
		aad = nil
		if !ignore {
			return contents
		}
	}
}

func (s *session) writePacket(contents, aad []byte, ignore bool) {
	pkt, err := s.ours.Encrypt(nil, contents, aad, ignore)
	Expect(err).NotTo(HaveOccurred())
	s.conn.in.Write(pkt)
}

// ourEnd reads btcd's garbage and terminator, checks the garbage length,
// and returns the garbage (the AAD of btcd's first packet).
func (s *session) ourEnd(btcdGarbage int) []byte {
	g, found, err := s.ours.FindTerminator(s.conn.out.Bytes())
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(BeTrue())
	Expect(g).To(Equal(btcdGarbage))
	garbage := bytes.Clone(s.conn.out.Next(g))
	s.conn.out.Next(bip324.TerminatorLen)
	return garbage
}

// btcdInitiates: btcd opens, we respond.
func btcdInitiates(btcdGarbage, ourGarbage int, btcdDecoys []int) *session {
	s := &session{btcd: v2transport.NewPeer(), conn: buffers{new(bytes.Buffer), new(bytes.Buffer)}}
	s.btcd.UseReadWriter(s.conn)
	Expect(s.btcd.InitiateV2Handshake(btcdGarbage)).To(Succeed())

	Expect(bip324.Detect(s.conn.out.Bytes(), wire.Mainnet)).To(Equal(bip324.V2))
	theirs := [bip324.KeyLen]byte(s.conn.out.Next(bip324.KeyLen))
	key, err := bip324.NewKey()
	Expect(err).NotTo(HaveOccurred())
	s.ours, err = bip324.NewCipher(key, theirs, false, wire.Mainnet)
	Expect(err).NotTo(HaveOccurred())
	garbage := randomBytes(ourGarbage)
	term := s.ours.SendTerminator()
	s.conn.in.Write(key.EllSwift[:])
	s.conn.in.Write(garbage)
	s.conn.in.Write(term[:])
	s.writePacket(nil, garbage, false) // version packet

	Expect(s.btcd.CompleteHandshake(true, btcdDecoys, v2transport.BitcoinNet(wire.Mainnet))).To(Succeed())
	Expect(s.readPacket(s.ourEnd(btcdGarbage))).To(BeEmpty(), "btcd's version packet")
	return s
}

// btcdResponds: we open, btcd responds. It returns btcd's CompleteHandshake error.
func btcdResponds(btcdGarbage, ourGarbage int, ourDecoys int) (*session, error) {
	s := &session{btcd: v2transport.NewPeer(), conn: buffers{new(bytes.Buffer), new(bytes.Buffer)}}
	s.btcd.UseReadWriter(s.conn)
	key, err := bip324.NewKey()
	Expect(err).NotTo(HaveOccurred())
	garbage := randomBytes(ourGarbage)
	s.conn.in.Write(key.EllSwift[:])
	s.conn.in.Write(garbage)

	Expect(s.btcd.RespondV2Handshake(btcdGarbage, v2transport.BitcoinNet(wire.Mainnet))).To(Succeed())
	theirs := [bip324.KeyLen]byte(s.conn.out.Next(bip324.KeyLen))
	s.ours, err = bip324.NewCipher(key, theirs, true, wire.Mainnet)
	Expect(err).NotTo(HaveOccurred())
	term := s.ours.SendTerminator()
	s.conn.in.Write(term[:])
	aad := garbage
	for range ourDecoys {
		s.writePacket(randomBytes(40), aad, true)
		aad = nil
	}
	s.writePacket(nil, aad, false)

	if err := s.btcd.CompleteHandshake(false, nil, v2transport.BitcoinNet(wire.Mainnet)); err != nil {
		return s, err
	}
	Expect(s.readPacket(s.ourEnd(btcdGarbage))).To(BeEmpty(), "btcd's version packet")
	return s, nil
}

// exchange sends n packets of random contents each way and checks that
// the other side reads them unchanged.
func (s *session) exchange(n int) {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	for k := range n {
		contents := randomBytes(rng.IntN(500))
		_, _, err := s.btcd.V2EncPacket(contents, nil, false)
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(s.readPacket(nil), contents)).To(BeTrue(), "btcd → ours, packet %d", k)

		contents = randomBytes(rng.IntN(500))
		s.writePacket(contents, nil, k%50 == 1) // a decoy btcd must skip
		if k%50 == 1 {
			s.writePacket(contents, nil, false)
		}
		got, err := s.btcd.V2ReceivePacket(nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(got, contents)).To(BeTrue(), "ours → btcd, packet %d", k)
	}
	Expect(s.conn.in.Len()).To(BeZero())
	Expect(s.conn.out.Len()).To(BeZero())
}

var _ = Describe("against btcd's v2transport", func() {
	It("completes a handshake btcd initiates, with btcd's decoys, and exchanges 500 packets each way (two rekeys)", func() {
		s := btcdInitiates(100, 200, []int{0, 10, 300})
		s.exchange(500)
	})

	It("completes a handshake btcd responds to, with our decoys, and exchanges 500 packets each way", func() {
		s, err := btcdResponds(3000, 17, 2)
		Expect(err).NotTo(HaveOccurred())
		s.exchange(500)
	})

	It("agrees on v1 detection: btcd's responder falls back on our V1, and refuses our V1OtherNetwork", func() {
		for _, tc := range []struct {
			net  wire.Network
			want bip324.Detection
		}{{wire.Mainnet, bip324.V1}, {wire.Testnet4, bip324.V1OtherNetwork}} {
			frame := wire.AppendMessage(nil, tc.net, wire.Verack{})
			copy(frame[4:16], v1Start(tc.net)[4:])
			frame = append(frame, make([]byte, 64)...)
			Expect(bip324.Detect(frame, wire.Mainnet)).To(Equal(tc.want))
			p := v2transport.NewPeer()
			p.UseReadWriter(buffers{bytes.NewBuffer(frame), new(bytes.Buffer)})
			err := p.RespondV2Handshake(0, v2transport.BitcoinNet(wire.Mainnet))
			if tc.want == bip324.V1 {
				Expect(err).To(MatchError(v2transport.ErrUseV1Protocol))
			} else {
				Expect(err).To(MatchError(ContainSubstring("wrong network")))
			}
		}
	})

	Describe("where we differ from btcd, and why", func() {
		// BIP324 allows 0..4095 bytes of garbage; btcd's scan checks the
		// window after 16..4110 received bytes and never after the 4111th,
		// so a peer that sends the maximum (as Core does about once in 4096
		// handshakes) is rejected.
		It("btcd misses the terminator after exactly 4095 garbage bytes; we find it", func() {
			_, err := btcdResponds(0, bip324.MaxGarbageLen-1, 0)
			Expect(err).NotTo(HaveOccurred(), "4094 bytes work for btcd")
			_, err = btcdResponds(0, bip324.MaxGarbageLen, 0)
			Expect(err).To(MatchError(ContainSubstring("no garbage term")), "btcd rejects 4095 bytes")

			// btcd may send 4095 bytes itself; we find its terminator.
			s := btcdInitiates(bip324.MaxGarbageLen, 0, nil)
			s.exchange(3)
		})

		// btcd's limit is the length field's (2^24-1) and it allocates the
		// declared length before reading it: 16 MiB per connection from a
		// peer that sends 3 bytes. We apply Core's limit from the 3 bytes.
		It("btcd allocates a declared 16 MiB packet before reading it; we reject it after 3 bytes", func() {
			s := btcdInitiates(0, 0, nil)
			pkt, err := s.ours.Encrypt(nil, nil, nil, false)
			Expect(err).NotTo(HaveOccurred())
			forgeLength(pkt, 0, 1<<24-1)
			s.conn.in.Write(pkt) // 20 bytes, then the connection ends

			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			_, err = s.btcd.V2ReceivePacket(nil)
			runtime.ReadMemStats(&ms1)
			Expect(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)).To(BeTrue(), "btcd waits for the 16 MiB: %v", err)
			Expect(ms1.TotalAlloc-ms0.TotalAlloc).To(BeNumerically(">=", 1<<24), "btcd allocated")

			// The same bytes to our side (btcd sent the forgery this time).
			s2 := btcdInitiates(0, 0, nil)
			_, _, err = s2.btcd.V2EncPacket(nil, nil, false)
			Expect(err).NotTo(HaveOccurred())
			hdr := s2.conn.out.Next(bip324.LengthLen)
			forgeLength(hdr, 0, 1<<24-1)
			runtime.ReadMemStats(&ms0)
			n, err := s2.ours.DecryptLength([bip324.LengthLen]byte(hdr))
			runtime.ReadMemStats(&ms1)
			Expect(err).To(MatchError(bip324.ErrPacketTooLarge))
			Expect(n).To(Equal(1<<24 - 1))
			Expect(ms1.TotalAlloc - ms0.TotalAlloc).To(BeNumerically("<", 64<<10))
		})

		// Core's limit (MAX_CONTENTS_LEN) is 4,000,013 bytes of contents;
		// btcd takes anything up to 2^24-1, so a packet Core would drop the
		// connection for reaches btcd's message decoder.
		It("btcd accepts contents over Core's limit; we refuse them", func() {
			s := btcdInitiates(0, 0, nil)
			big := make([]byte, bip324.MaxContentsLen+1)
			_, _, err := s.btcd.V2EncPacket(big, nil, false)
			Expect(err).NotTo(HaveOccurred())
			n, err := s.ours.DecryptLength([bip324.LengthLen]byte(s.conn.out.Next(bip324.LengthLen)))
			Expect(err).To(MatchError(bip324.ErrPacketTooLarge))
			Expect(n).To(Equal(len(big)))

			s.writePacket(big, nil, false)
			got, err := s.btcd.V2ReceivePacket(nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(HaveLen(len(big)))
		})
	})
})
