package wire_test

import (
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/btc-handshake/btc-handshake/wire"
)

// unhex decodes a hex string, ignoring white space, so that published
// hexdumps can be pasted as they are.
func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// sentinels are the error kinds the package promises; kindOf maps an error
// to one of them (or to io.EOF / io.ErrUnexpectedEOF) so results can be
// compared across runs.
var sentinels = []error{
	wire.ErrBadMagic, wire.ErrBadCommand, wire.ErrPayloadTooLarge, wire.ErrBadChecksum,
	wire.ErrTruncated, wire.ErrNonCanonical, wire.ErrUserAgentTooLong, wire.ErrShortHeader,
	io.ErrUnexpectedEOF, io.EOF,
}

func kindOf(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// chunkReader serves data in the chunk sizes given, then the rest in one
// piece, then io.EOF. It returns data and io.EOF separately.
type chunkReader struct {
	data   []byte
	chunks []int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.chunks) > 0 {
		n = min(c.chunks[0], n)
		c.chunks = c.chunks[1:]
	}
	n = copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// randomSplits returns chunk sizes between 1 and maxChunk that cover n bytes.
func randomSplits(rng *rand.Rand, n, maxChunk int) []int {
	var chunks []int
	for n > 0 {
		c := 1 + rng.IntN(maxChunk)
		chunks = append(chunks, c)
		n -= c
	}
	return chunks
}

// loopReader serves the same bytes forever without allocating, so that a
// Reader can be measured over many frames.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

// timeoutError looks like a net.Conn deadline error.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// stallReader serves the first `before` bytes, then fails once with a
// timeout, then serves the rest.
type stallReader struct {
	data   []byte
	before int
	failed bool
	off    int
}

func (s *stallReader) Read(p []byte) (int, error) {
	if s.off == s.before && !s.failed {
		s.failed = true
		return 0, timeoutError{}
	}
	end := len(s.data)
	if !s.failed {
		end = s.before
	}
	if s.off == len(s.data) {
		return 0, io.EOF
	}
	n := copy(p, s.data[s.off:end])
	s.off += n
	return n, nil
}

// bytesAllocated returns the average number of heap bytes allocated by
// f over runs calls. Like testing.AllocsPerRun it pins GOMAXPROCS to 1
// so that other goroutines add as little noise as possible.
func bytesAllocated(runs int, f func(i int)) uint64 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	f(0) // warm up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range runs {
		f(i)
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// readAll reads frames until an error and returns them (payloads copied)
// and the final error.
type readResult struct {
	Command string
	Payload string // a string, so empty and nil payloads compare equal
	Kind    error
}

func readAll(r *wire.Reader, limit int) []readResult {
	var out []readResult
	for range limit {
		f, err := r.Next()
		res := readResult{Command: f.Command(), Payload: string(f.Payload), Kind: kindOf(err)}
		if err != nil && !wire.IsRecoverable(err) {
			// Terminal for this stream: no frame came with it.
			res.Command, res.Payload = "", ""
			out = append(out, res)
			return out
		}
		out = append(out, res)
	}
	return out
}

// beKind matches an error of the given kind, or no error for nil.
func beKind(want error) types.GomegaMatcher {
	if want == nil {
		return Not(HaveOccurred())
	}
	return MatchError(want)
}
