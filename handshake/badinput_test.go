package handshake_test

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// The bad-input catalog at the client level (issue 6, item 3): the same
// categories as wire's catalog (badinput_test.go and
// badinput_more_test.go there), each sent by a loopback peer right after
// it reads our version, followed by a FIN. Each must end the handshake
// with its typed Kind, in its phase, with the quirk a dropped frame
// leaves, and cost a bounded number of bytes however much it declares.

// badInput is one malformed peer stream.
type badInput struct {
	stream []byte
	kind   handshake.Kind
	phase  handshake.Phase
	quirk  handshake.Quirk // the quirk a dropped frame leaves, if any
}

// sendThenFIN waits for our version, writes b, half-closes and reads
// until the client hangs up, so that the client sees a FIN, never an RST.
func sendThenFIN(b []byte) script {
	return func(pc *peerConn) error {
		if err := pc.await(wire.CmdVersion); err != nil {
			return err
		}
		if err := pc.write(b); err != nil {
			return err
		}
		if err := pc.conn.CloseWrite(); err != nil {
			return err
		}
		return pc.drain()
	}
}

// allocBudget is what one failed attempt may allocate, client and test
// peer together (dialing, buffers, Result, transcript): a few KB, never
// the megabytes or gigabytes a header declares.
const allocBudget = 48 << 10

var _ = Describe("bad-input catalog, through the client", func() {
	versionPayload := peerVersion(70016).AppendPayload(nil)
	version := func(n int) []byte {
		return wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: wire.CmdVersion, Payload: versionPayload[:n]})
	}
	withUA := func(prefix ...byte) []byte {
		v := peerVersion(70016)
		v.Tail = wire.TailNoUserAgent
		return wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: wire.CmdVersion, Payload: append(append(v.AppendPayload(nil), prefix...), "abcdef"...)})
	}
	uaCut := func(prefix ...byte) []byte {
		v := peerVersion(70016)
		v.Tail = wire.TailNoUserAgent
		return wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: wire.CmdVersion, Payload: append(v.AppendPayload(nil), prefix...)})
	}
	ping := wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 3})
	raw := func(cmd string, payload []byte) []byte {
		return wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: cmd, Payload: payload})
	}
	magicThen := func(rest byte) []byte {
		m := wire.Mainnet.Magic()
		return append(m[:], bytes.Repeat([]byte{rest}, wire.HeaderSize-4)...)
	}
	garbage := func() []byte {
		rng := rand.New(rand.NewPCG(7, 7))
		b := make([]byte, 100)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}()
	afterVersion := func(b []byte) []byte { return append(frames(peerVersion(70016)), b...) }

	closed := func(b []byte) badInput {
		return badInput{stream: b, kind: handshake.KindPeerClosed, phase: handshake.PhaseVersion}
	}
	dropped := func(b []byte, q handshake.Quirk) badInput {
		return badInput{stream: b, kind: handshake.KindPeerClosed, phase: handshake.PhaseVersion, quirk: q}
	}
	kind := func(b []byte, k handshake.Kind) badInput {
		return badInput{stream: b, kind: k, phase: handshake.PhaseVersion}
	}
	malformed := func(b []byte) badInput { return kind(b, handshake.KindMalformed) }
	inVerack := func(in badInput) badInput {
		in.stream, in.phase = afterVersion(in.stream), handshake.PhaseVerack
		return in
	}

	DescribeTable("stream → kind and phase, with allocation bounded",
		func(in badInput) {
			p := startPeer(sendThenFIN(in.stream))
			attempt := func() *handshake.Result {
				res, err := dial(p.Addr(), handshake.Config{Timeout: generous})
				expectFailure(res, err, p.Addr(), in.kind, in.phase)
				if in.quirk != "" {
					Expect(res.Quirks).To(ContainElement(in.quirk))
				}
				Expect(p.next().err).NotTo(HaveOccurred())
				return res
			}
			attempt()

			const runs = 5
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				attempt()
			}
			runtime.ReadMemStats(&after)
			perAttempt := (after.TotalAlloc - before.TotalAlloc) / runs
			AddReportEntry("bytes allocated per attempt", perAttempt)
			Expect(perAttempt).To(BeNumerically("<", allocBudget))
		},
		// Empty stream, EOF inside a header or a frame.
		Entry("empty stream", closed(nil)),
		Entry("one byte then EOF", closed([]byte{0xf9})),
		Entry("half a header then EOF", closed(frames(wire.Verack{})[:12])),
		Entry("23 header bytes then EOF", closed(frames(wire.Verack{})[:23])),
		Entry("right magic then EOF", closed(magicThen(0)[:4])),
		Entry("version header, no payload, EOF", closed(version(len(versionPayload))[:wire.HeaderSize])),
		Entry("length claims 100 more than sent", closed(ping.WithLength(108).Bytes())),
		Entry("length claims exactly 4,000,000, 8 bytes follow", closed(ping.WithLength(wire.MaxPayload).Bytes())),
		// Magic: every other network, none, reversed, garbage, other protocols.
		Entry("testnet3 magic", kind(ping.WithMagic(wire.Testnet3).Bytes(), handshake.KindBadMagic)),
		Entry("testnet4 magic", kind(ping.WithMagic(wire.Testnet4).Bytes(), handshake.KindBadMagic)),
		Entry("signet magic", kind(ping.WithMagic(wire.Signet).Bytes(), handshake.KindBadMagic)),
		Entry("regtest magic", kind(ping.WithMagic(wire.Regtest).Bytes(), handshake.KindBadMagic)),
		Entry("zero magic", kind(ping.WithMagicBytes([4]byte{}).Bytes(), handshake.KindBadMagic)),
		Entry("byte-swapped magic", kind(ping.WithMagicBytes([4]byte{0xd9, 0xb4, 0xbe, 0xf9}).Bytes(), handshake.KindBadMagic)),
		Entry("garbage", kind(garbage, handshake.KindBadMagic)),
		Entry("24 bytes of 0xff", kind(bytes.Repeat([]byte{0xff}, wire.HeaderSize), handshake.KindBadMagic)),
		Entry("an HTTP response", kind([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), handshake.KindBadMagic)),
		Entry("a TLS ClientHello start", kind([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, handshake.KindBadMagic)),
		// Declared lengths over the limit: fatal at the header.
		Entry("declared length 4,000,001", kind(ping.WithLength(wire.MaxPayload+1).Bytes(), handshake.KindOversized)),
		Entry("declared length 2^31", kind(ping.WithLength(1<<31).Bytes(), handshake.KindOversized)),
		Entry("declared length 0xFFFFFFFF", kind(ping.WithLength(0xFFFFFFFF).Bytes(), handshake.KindOversized)),
		Entry("right magic, 0xff in every other header byte", kind(magicThen(0xff), handshake.KindOversized)),
		// Checksums and lengths that lie by a little: the frame is
		// dropped (Core keeps the connection), then the FIN ends it.
		Entry("checksum bits inverted", dropped(ping.WithBadChecksum().Bytes(), handshake.QuirkBadChecksum)),
		Entry("zero checksum on an empty payload", dropped(wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithChecksum([4]byte{}).Bytes(), handshake.QuirkBadChecksum)),
		Entry("length claims 4 of a ping's 8 bytes", closed(ping.WithLength(4).Bytes())),
		// Command bytes Core's IsMessageTypeValid rejects: dropped.
		Entry("empty command", dropped(ping.WithCommandBytes([12]byte{}).Bytes(), handshake.QuirkBadCommand)),
		Entry("command with 0x01", dropped(ping.WithCommandBytes(wire.CommandBytes("pi\x01g")).Bytes(), handshake.QuirkBadCommand)),
		Entry("command with DEL", dropped(ping.WithCommandBytes(wire.CommandBytes("ping\x7f")).Bytes(), handshake.QuirkBadCommand)),
		Entry("command with a tab", dropped(ping.WithCommandBytes(wire.CommandBytes("ping\t")).Bytes(), handshake.QuirkBadCommand)),
		Entry("non-ASCII command (UTF-8)", dropped(ping.WithCommandBytes(wire.CommandBytes("p\xc3\xafng")).Bytes(), handshake.QuirkBadCommand)),
		Entry("command not NUL-padded after its NUL", dropped(ping.WithCommandBytes(wire.CommandBytes("ping\x00\x00x")).Bytes(), handshake.QuirkBadCommand)),
		Entry("command starting with NUL", dropped(ping.WithCommandBytes(wire.CommandBytes("\x00ping")).Bytes(), handshake.QuirkBadCommand)),
		Entry("command padded with 0xff", dropped(ping.WithCommandBytes([12]byte{'p', 'i', 'n', 'g', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).Bytes(), handshake.QuirkBadCommand)),
		// Every field of the version cut short.
		Entry("version: empty payload", malformed(version(0))),
		Entry("version: cut in protocol version", malformed(version(2))),
		Entry("version: cut in services", malformed(version(8))),
		Entry("version: cut in timestamp", malformed(version(15))),
		Entry("version: cut in addr_recv services", malformed(version(25))),
		Entry("version: cut in addr_recv address", malformed(version(35))),
		Entry("version: cut in addr_recv port", malformed(version(45))),
		Entry("version: cut in addr_from services", malformed(version(50))),
		Entry("version: cut in addr_from address", malformed(version(60))),
		Entry("version: cut in addr_from port", malformed(version(71))),
		Entry("version: addr_from without nonce", malformed(version(72))),
		Entry("version: cut in nonce", malformed(version(79))),
		Entry("version: user agent CompactSize cut", malformed(uaCut(0xfd, 0x01))),
		Entry("version: user agent shorter than declared", malformed(version(90))),
		Entry("version: cut in start height", malformed(version(len(versionPayload)-3))),
		// User agent lengths: non-canonical, oversized in each width.
		Entry("version: 6 in 3 bytes", malformed(withUA(0xfd, 0x06, 0x00))),
		Entry("version: 6 in 5 bytes", malformed(withUA(0xfe, 0x06, 0, 0, 0))),
		Entry("version: 6 in 9 bytes", malformed(withUA(0xff, 0x06, 0, 0, 0, 0, 0, 0, 0))),
		Entry("version: user agent of 257 bytes", malformed(frames(versionWith(70016, func(v *wire.Version) { v.UserAgent = strings.Repeat("a", 257) })))),
		Entry("version: user agent length 65,536", malformed(withUA(0xfe, 0, 0, 1, 0))),
		Entry("version: user agent length 0xffffffff", malformed(withUA(0xfe, 0xff, 0xff, 0xff, 0xff))),
		Entry("version: user agent length 2^64-1", malformed(withUA(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))),
		// Other handshake messages malformed before the version: ignored
		// as Core ignores them, then the FIN.
		Entry("ping of 4 bytes", dropped(raw(wire.CmdPing, []byte{1, 2, 3, 4}), handshake.QuirkMalformedIgnored)),
		Entry("sendcmpct of 8 bytes", dropped(raw(wire.CmdSendCmpct, make([]byte, 8)), handshake.QuirkMalformedIgnored)),
		Entry("sendtxrcncl of 11 bytes", dropped(raw(wire.CmdSendTxRcncl, make([]byte, 11)), handshake.QuirkMalformedIgnored)),
		// The same faults after a good version: they end the verack phase.
		Entry("after the version: garbage", inVerack(kind(garbage, handshake.KindBadMagic))),
		Entry("after the version: testnet3 magic", inVerack(kind(ping.WithMagic(wire.Testnet3).Bytes(), handshake.KindBadMagic))),
		Entry("after the version: declared length 0xFFFFFFFF", inVerack(kind(ping.WithLength(0xFFFFFFFF).Bytes(), handshake.KindOversized))),
		Entry("after the version: half a header", inVerack(closed(frames(wire.Verack{})[:12]))),
		Entry("after the version: bad checksum on the verack", inVerack(dropped(wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithBadChecksum().Bytes(), handshake.QuirkBadChecksum))),
		Entry("after the version: invalid command bytes on the verack", inVerack(dropped(wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithCommandBytes(wire.CommandBytes("ver\x00ack")).Bytes(), handshake.QuirkBadCommand))),
		Entry("after the version: a second, truncated version", inVerack(closed(version(30)))),
	)
})
