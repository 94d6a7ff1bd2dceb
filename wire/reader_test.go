package wire_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"testing"
	"testing/iotest"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

// handshakeStream is what a Core peer sends in its first bursts (docs/PROTOCOL.md,
// "What Bitcoin Core sends"), plus a large unknown message that forces the
// Reader's buffer to grow.
func handshakeStream(net wire.Network) ([]byte, []readResult) {
	msgs := []wire.Message{
		fullVersion(),
		wire.WtxidRelay{},
		wire.SendAddrV2{},
		wire.Verack{},
		wire.SendCmpct{Announce: false, Version: 2},
		wire.Ping{Nonce: 42},
		wire.Raw{Cmd: "addrv2", Payload: bytes.Repeat([]byte{0x5a}, 5000)},
		wire.Raw{Cmd: "getheaders", Payload: bytes.Repeat([]byte{0x01}, 1029)},
		wire.FeeFilter{FeeRate: 1000},
		wire.Pong{Nonce: 7},
	}
	var stream []byte
	var want []readResult
	for _, m := range msgs {
		stream = wire.AppendMessage(stream, net, m)
		want = append(want, readResult{Command: m.Command(), Payload: string(m.AppendPayload(nil))})
	}
	return stream, append(want, readResult{Kind: io.EOF})
}

// countingReader counts Read calls.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}

var _ = Describe("Reader", func() {
	stream, want := handshakeStream(wire.Mainnet)

	DescribeTable("decodes the same frames however the bytes arrive",
		func(wrap func([]byte) io.Reader, size int) {
			r := wire.NewReaderSize(wrap(stream), wire.Mainnet, size, 0)
			Expect(readAll(r, 100)).To(Equal(want))
		},
		Entry("in one chunk", func(b []byte) io.Reader { return bytes.NewReader(b) }, wire.DefaultReaderSize),
		Entry("one byte at a time", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }, wire.DefaultReaderSize),
		Entry("half of each read", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }, wire.DefaultReaderSize),
		Entry("with EOF on the last data", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }, wire.DefaultReaderSize),
		Entry("one byte at a time into a header-sized buffer", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }, 1),
		Entry("in one chunk into a header-sized buffer", func(b []byte) io.Reader { return bytes.NewReader(b) }, 24),
	)

	It("decodes the same frames over random splits", func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range 300 {
			maxChunk := []int{3, 30, 300, 3000}[i%4]
			size := []int{24, 100, wire.DefaultReaderSize}[i%3]
			src := &chunkReader{data: stream, chunks: randomSplits(rng, len(stream), maxChunk)}
			Expect(readAll(wire.NewReaderSize(src, wire.Mainnet, size, 0), 100)).To(Equal(want), "iteration %d", i)
		}
	})

	It("keeps the bytes that arrive with a frame for the next one (version+verack in one segment)", func() {
		version := wire.AppendMessage(nil, wire.Mainnet, fullVersion())
		verack := wire.AppendMessage(nil, wire.Mainnet, wire.Verack{})
		ping := wire.AppendMessage(nil, wire.Mainnet, wire.Ping{Nonce: 1})
		all := append(append(append([]byte{}, version...), verack...), ping...)
		src := &countingReader{r: &chunkReader{data: all, chunks: []int{len(version) + len(verack) + 10}}}
		r := wire.NewReader(src, wire.Mainnet)

		f, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal("version"))
		Expect(r.Buffered()).To(Equal(len(verack) + 10))
		Expect(src.reads).To(Equal(1))

		f, err = r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal("verack"))
		Expect(src.reads).To(Equal(1), "the verack came out of the buffer")
		Expect(r.Buffered()).To(Equal(10))

		f, err = r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal("ping"))
		Expect(f.Payload).To(Equal(wire.Ping{Nonce: 1}.AppendPayload(nil)))
		_, err = r.Next()
		Expect(err).To(Equal(io.EOF))
	})

	DescribeTable("end of stream",
		func(b []byte, frames int, want error) {
			r := wire.NewReader(bytes.NewReader(b), wire.Mainnet)
			for range frames {
				_, err := r.Next()
				Expect(err).NotTo(HaveOccurred())
			}
			_, err := r.Next()
			Expect(err).To(Equal(want)) // exactly, not wrapped
			_, err = r.Next()
			Expect(err).To(Equal(want), "and again")
		},
		Entry("empty stream is io.EOF", []byte{}, 0, io.EOF),
		Entry("after a whole frame is io.EOF", wire.AppendMessage(nil, wire.Mainnet, wire.Verack{}), 1, io.EOF),
		Entry("one header byte is io.ErrUnexpectedEOF", []byte{0xf9}, 0, io.ErrUnexpectedEOF),
		Entry("half a header is io.ErrUnexpectedEOF", wire.AppendMessage(nil, wire.Mainnet, wire.Verack{})[:12], 0, io.ErrUnexpectedEOF),
		Entry("23 header bytes is io.ErrUnexpectedEOF", wire.AppendMessage(nil, wire.Mainnet, wire.Verack{})[:23], 0, io.ErrUnexpectedEOF),
		Entry("header without payload is io.ErrUnexpectedEOF", wire.AppendMessage(nil, wire.Mainnet, wire.Ping{})[:24], 0, io.ErrUnexpectedEOF),
		Entry("payload cut by one byte is io.ErrUnexpectedEOF", wire.AppendMessage(nil, wire.Mainnet, fullVersion())[:121], 0, io.ErrUnexpectedEOF),
		Entry("a frame then half a header", append(wire.AppendMessage(nil, wire.Mainnet, wire.Verack{}), 0xf9, 0xbe), 1, io.ErrUnexpectedEOF),
	)

	DescribeTable("recoverable frame errors: the frame is consumed and the next one reads",
		func(bad wire.RawFrame, kind error) {
			b := bad.AppendTo(nil)
			b = wire.AppendMessage(b, wire.Mainnet, wire.Verack{})
			r := wire.NewReader(bytes.NewReader(b), wire.Mainnet)

			f, err := r.Next()
			Expect(err).To(MatchError(kind))
			Expect(wire.IsRecoverable(err)).To(BeTrue())
			var fe *wire.FrameError
			Expect(errors.As(err, &fe)).To(BeTrue())
			Expect(fe.Recoverable).To(BeTrue())
			Expect(f.Header.Command).To(Equal(bad.Command))
			Expect(f.Payload).To(Equal(bad.Payload))

			f, err = r.Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal("verack"))
		},
		Entry("bad checksum", wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 5}).WithBadChecksum(), wire.ErrBadChecksum),
		Entry("bad checksum on an empty payload", wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithChecksum([4]byte{}), wire.ErrBadChecksum),
		Entry("non-printable command", wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 5}).WithCommandBytes(cmdBytes("pi\x01g")), wire.ErrBadCommand),
		Entry("empty command", wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithCommandBytes(cmdBytes("")), wire.ErrBadCommand),
		Entry("bytes after the NUL padding", wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithCommandBytes(cmdBytes("verack\x00\x00x")), wire.ErrBadCommand),
		Entry("bad checksum and bad command: checksum reported first, as in V1Transport::GetReceivedMessage",
			wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 5}).WithCommandBytes(cmdBytes("\xff")).WithBadChecksum(), wire.ErrBadChecksum),
	)

	DescribeTable("fatal frame errors are sticky and stop reading",
		func(bad wire.RawFrame, kind error) {
			b := bad.AppendTo(nil)
			b = wire.AppendMessage(b, wire.Mainnet, wire.Verack{})
			src := &countingReader{r: bytes.NewReader(b)}
			r := wire.NewReader(src, wire.Mainnet)

			_, err := r.Next()
			Expect(err).To(MatchError(kind))
			Expect(wire.IsRecoverable(err)).To(BeFalse())
			reads := src.reads
			for range 3 {
				_, again := r.Next()
				Expect(again).To(BeIdenticalTo(err))
			}
			Expect(src.reads).To(Equal(reads), "no reads after a fatal error")
		},
		Entry("bad magic", wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithMagic(wire.Testnet4), wire.ErrBadMagic),
		Entry("declared length MaxPayload+1", wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithLength(wire.MaxPayload+1), wire.ErrPayloadTooLarge),
		Entry("declared length 0xFFFFFFFF", wire.NewRawFrame(wire.Mainnet, wire.Verack{}).WithLength(0xFFFFFFFF), wire.ErrPayloadTooLarge),
	)

	It("honours a lower payload limit", func() {
		b := wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: "block", Payload: make([]byte, 1001)})
		_, err := wire.NewReaderSize(bytes.NewReader(b), wire.Mainnet, 0, 1000).Next()
		Expect(err).To(MatchError(wire.ErrPayloadTooLarge))
		b = wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: "block", Payload: make([]byte, 1000)})
		_, err = wire.NewReaderSize(bytes.NewReader(b), wire.Mainnet, 0, 1000).Next()
		Expect(err).NotTo(HaveOccurred())
	})

	It("keeps a partial frame across a read error (a deadline) at every cut point", func() {
		for cut := 1; cut < len(stream); cut += 7 {
			src := &stallReader{data: stream, before: cut}
			r := wire.NewReader(src, wire.Mainnet)
			var got []readResult
			timeouts := 0
			for len(got) < 100 {
				f, err := r.Next()
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					timeouts++
					Expect(r.Buffered()).To(BeNumerically("<=", cut))
					continue
				}
				got = append(got, readResult{Command: f.Command(), Payload: string(f.Payload), Kind: kindOf(err)})
				if err != nil {
					break
				}
			}
			Expect(timeouts).To(Equal(1), "cut %d", cut)
			Expect(got).To(Equal(want), "cut %d", cut)
		}
	})

	It("reports the read error itself, unwrapped, and buffers what came before it", func() {
		frame := wire.AppendMessage(nil, wire.Mainnet, fullVersion())
		r := wire.NewReader(&stallReader{data: frame, before: 30}, wire.Mainnet)
		_, err := r.Next()
		Expect(err).To(Equal(timeoutError{}))
		Expect(r.Buffered()).To(Equal(30))
		f, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal("version"))
	})

	It("reads nothing more once the stream has ended", func() {
		src := &countingReader{r: bytes.NewReader(wire.AppendMessage(nil, wire.Mainnet, wire.Verack{}))}
		r := wire.NewReader(src, wire.Mainnet)
		f, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal("verack"))
		for range 3 {
			_, err = r.Next()
			Expect(err).To(Equal(io.EOF))
		}
		Expect(src.reads).To(Equal(2), "one read for the frame, one that found the end")
	})

	Describe("FillFrom", func() {
		verack := wire.AppendMessage(nil, wire.Mainnet, wire.Verack{})

		It("brings bytes from another source for Next to parse, keeping what was buffered", func() {
			two := append(append([]byte(nil), verack...), verack[:10]...)
			r := wire.NewReader(bytes.NewReader(two), wire.Mainnet)
			_, err := r.Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(r.Buffered()).To(Equal(10))
			n, err := r.FillFrom(bytes.NewReader(verack[10:]))
			Expect(n, err).To(Equal(len(verack) - 10))
			Expect(r.Buffered()).To(Equal(len(verack)))
			f, err := r.Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal("verack"))
		})

		It("reports an empty read and leaves the Reader usable", func() {
			r := wire.NewReader(bytes.NewReader(verack), wire.Mainnet)
			n, err := r.FillFrom(&stallReader{})
			Expect(n).To(Equal(0))
			Expect(err).To(Equal(timeoutError{}))
			f, err := r.Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal("verack"))
		})

		It("keeps the end of the stream it finds: Next reports it once the buffered frames are used", func() {
			src := &countingReader{r: bytes.NewReader(nil)}
			r := wire.NewReader(src, wire.Mainnet)
			n, err := r.FillFrom(bytes.NewReader(verack))
			Expect(n, err).To(Equal(len(verack)))
			n, err = r.FillFrom(bytes.NewReader(nil))
			Expect(n).To(Equal(0))
			Expect(err).To(Equal(io.EOF))
			f, err := r.Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal("verack"))
			_, err = r.Next()
			Expect(err).To(Equal(io.EOF))
			Expect(src.reads).To(Equal(0))
		})

		It("reports io.ErrUnexpectedEOF when the stream ended inside a frame", func() {
			r := wire.NewReader(bytes.NewReader(nil), wire.Mainnet)
			_, err := r.FillFrom(iotest.DataErrReader(bytes.NewReader(verack[:10])))
			Expect(err).To(Equal(io.EOF))
			_, err = r.Next()
			Expect(err).To(Equal(io.ErrUnexpectedEOF))
		})
	})

	Describe("Ready", func() {
		verack := wire.AppendMessage(nil, wire.Mainnet, wire.Verack{})
		version := wire.AppendMessage(nil, wire.Mainnet, &wire.Version{ProtocolVersion: wire.ProtocolVersion, UserAgent: "/r/"})

		// readyThenNext checks that Ready's answer is what Next does: a
		// Ready Reader's Next leaves the source unread.
		readyThenNext := func(r *wire.Reader, src *countingReader, want bool) {
			GinkgoHelper()
			Expect(r.Ready()).To(Equal(want))
			before := src.reads
			_, _ = r.Next()
			if want {
				Expect(src.reads).To(Equal(before), "Next read although Ready")
			} else {
				Expect(src.reads).To(BeNumerically(">", before), "Next did not read although not Ready")
			}
		}

		It("is false with nothing, a partial header or a partial payload buffered", func() {
			for _, cut := range []int{0, 10, wire.HeaderSize, len(version) - 1} {
				src := &countingReader{r: bytes.NewReader(version[cut:])}
				r := wire.NewReader(src, wire.Mainnet)
				if cut > 0 {
					_, err := r.FillFrom(bytes.NewReader(version[:cut]))
					Expect(err).NotTo(HaveOccurred())
				}
				readyThenNext(r, src, false)
			}
		})

		It("is true with a whole frame buffered, and false again once it is used", func() {
			src := &countingReader{r: bytes.NewReader(verack)}
			r := wire.NewReader(src, wire.Mainnet)
			_, err := r.FillFrom(bytes.NewReader(version))
			Expect(err).NotTo(HaveOccurred())
			readyThenNext(r, src, true)
			readyThenNext(r, src, false)
		})

		It("is true once the end of the stream is known, and for a header Next rejects", func() {
			src := &countingReader{r: bytes.NewReader(nil)}
			r := wire.NewReader(src, wire.Mainnet)
			_, err := r.FillFrom(bytes.NewReader(nil))
			Expect(err).To(Equal(io.EOF))
			readyThenNext(r, src, true)

			bad := slices.Clone(verack)
			bad[0] ^= 0xff // magic
			r = wire.NewReader(src, wire.Mainnet)
			_, err = r.FillFrom(bytes.NewReader(bad))
			Expect(err).NotTo(HaveOccurred())
			readyThenNext(r, src, true)
			readyThenNext(r, src, true) // out of sync from now on
		})
	})

	Describe("Pending", func() {
		version := wire.AppendMessage(nil, wire.Mainnet, &wire.Version{ProtocolVersion: wire.ProtocolVersion, UserAgent: "/p/"})
		verack := wire.AppendMessage(nil, wire.Mainnet, wire.Verack{})
		commands := func(r *wire.Reader) []string {
			var cmds []string
			for h := range r.Pending() {
				cmds = append(cmds, h.CommandName())
			}
			return cmds
		}

		It("yields the headers of the whole buffered frames, those Next returns without reading, up to a partial one", func() {
			src := &countingReader{r: bytes.NewReader(nil)}
			r := wire.NewReader(src, wire.Mainnet)
			_, err := r.FillFrom(bytes.NewReader(append(append(slices.Clone(version), verack...), verack[:10]...)))
			Expect(err).NotTo(HaveOccurred())
			Expect(commands(r)).To(Equal([]string{"version", "verack"}))
			for h := range r.Pending() {
				f, err := r.Next()
				Expect(err).NotTo(HaveOccurred())
				Expect(f.Header).To(Equal(h))
				break
			}
			Expect(commands(r)).To(Equal([]string{"verack"}))
			_, err = r.Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(commands(r)).To(BeEmpty(), "10 bytes of a header")
			Expect(src.reads).To(Equal(0))
		})

		It("stops at a header Next rejects", func() {
			bad := slices.Clone(verack)
			bad[0] ^= 0xff
			r := wire.NewReader(bytes.NewReader(nil), wire.Mainnet)
			_, err := r.FillFrom(bytes.NewReader(append(slices.Clone(verack), bad...)))
			Expect(err).NotTo(HaveOccurred())
			Expect(commands(r)).To(Equal([]string{"verack"}))
		})

		It("stops when the loop does", func() {
			r := wire.NewReader(bytes.NewReader(nil), wire.Mainnet)
			_, err := r.FillFrom(bytes.NewReader(append(slices.Clone(verack), verack...)))
			Expect(err).NotTo(HaveOccurred())
			n := 0
			for range r.Pending() {
				n++
				break
			}
			Expect(n).To(Equal(1))
		})
	})

	Describe("Reset", func() {
		It("reads a new stream with the same buffer, for a new network and limit", func() {
			r := wire.NewReaderSize(bytes.NewReader(nil), wire.Mainnet, 200, 0)
			_, err := r.Next()
			Expect(err).To(Equal(io.EOF))
			frame := wire.AppendMessage(nil, wire.Regtest, fullVersion())
			srcs := make([]*bytes.Reader, 3)
			for i := range srcs {
				srcs[i] = bytes.NewReader(frame)
			}
			var f wire.Frame
			allocs := testing.AllocsPerRun(2, func() {
				r.Reset(srcs[0], wire.Regtest, 0)
				srcs = srcs[1:]
				f, err = r.Next()
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal("version"))
			Expect(allocs).To(BeZero())

			r.Reset(bytes.NewReader(wire.AppendMessage(nil, wire.Regtest, wire.Raw{Cmd: "block", Payload: make([]byte, 11)})), wire.Regtest, 10)
			_, err = r.Next()
			Expect(err).To(MatchError(wire.ErrPayloadTooLarge))
		})

		It("lets go of a buffer that a large frame grew, back to its first size", func() {
			big := wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: "block", Payload: make([]byte, 100_000)})
			r := wire.NewReaderSize(bytes.NewReader(big), wire.Mainnet, 64, 0)
			_, err := r.Next()
			Expect(err).NotTo(HaveOccurred())
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			r.Reset(nil, wire.Mainnet, 0)
			runtime.ReadMemStats(&ms1)
			Expect(ms1.TotalAlloc-ms0.TotalAlloc).To(And(BeNumerically(">=", 64), BeNumerically("<", 1024)), "a new 64-byte buffer")
			Expect(bytesAllocated(3, func(int) { r.Reset(nil, wire.Mainnet, 0) })).To(BeZero())
		})
	})

	Describe("allocation bounded by what arrives, not by what is declared", func() {
		// A header that declares 3,000,000 bytes (under the limit) and
		// then 100 bytes and EOF.
		liar := wire.RawFrame{
			Magic:   wire.Mainnet.Magic(),
			Command: cmdBytes("block"),
			Length:  3_000_000,
			Payload: bytes.Repeat([]byte{0x77}, 100),
		}.Bytes()

		DescribeTable("3,000,000 declared, 100 sent",
			func(wrap func([]byte) io.Reader) {
				const runs = 50
				readers := make([]*wire.Reader, runs+1)
				for i := range readers {
					readers[i] = wire.NewReader(wrap(liar), wire.Mainnet)
				}
				var last error
				perNext := bytesAllocated(runs, func(i int) { _, last = readers[i].Next() })
				Expect(last).To(Equal(io.ErrUnexpectedEOF))
				Expect(perNext).To(BeNumerically("<", 16*1024), "bytes allocated per Next")
			},
			Entry("in one chunk", func(b []byte) io.Reader { return bytes.NewReader(b) }),
			Entry("one byte at a time", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }),
		)

		It("rejects a header declaring 0xFFFFFFFF with under 1 KB and a few allocations", func() {
			huge := wire.RawFrame{Magic: wire.Mainnet.Magic(), Command: cmdBytes("version"), Length: 0xFFFFFFFF}.Bytes()
			const runs = 100
			fresh := func() []*wire.Reader {
				rs := make([]*wire.Reader, runs+1)
				for i := range rs {
					rs[i] = wire.NewReader(bytes.NewReader(huge), wire.Mainnet)
				}
				return rs
			}
			var last error
			readers := fresh()
			Expect(bytesAllocated(runs, func(i int) { _, last = readers[i].Next() })).To(BeNumerically("<", 1024))
			Expect(last).To(MatchError(wire.ErrPayloadTooLarge))

			readers, i := fresh(), 0
			allocs := testing.AllocsPerRun(runs, func() { _, last = readers[i].Next(); i++ })
			Expect(last).To(MatchError(wire.ErrPayloadTooLarge))
			Expect(allocs).To(BeNumerically("<=", 5))
		})

		It("grows for a large valid frame only as its bytes arrive", func() {
			payload := make([]byte, 3_000_000)
			for i := range payload {
				payload[i] = byte(i)
			}
			frame := wire.AppendMessage(nil, wire.Mainnet, wire.Raw{Cmd: "block", Payload: payload})
			rng := rand.New(rand.NewPCG(3, 4))
			var f wire.Frame
			var err error
			per := bytesAllocated(3, func(int) {
				src := &chunkReader{data: frame, chunks: randomSplits(rng, len(frame), 64*1024)}
				f, err = wire.NewReader(src, wire.Mainnet).Next()
			})
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Payload).To(Equal(payload))
			Expect(per).To(BeNumerically("<", 3*len(frame)))
		})
	})
})
