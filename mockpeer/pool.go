package mockpeer

import (
	"net"
	"sync"

	"github.com/btc-handshake/btc-handshake/wire"
)

// writeBufs and readers are the package's one piece of process-wide
// state, a fast path that our conventions allow in a file of its own
// while the benchmarks show that it pays. They are shared by every Server
// and Session of the process:
//
//   - Pooling the read buffers at all (5a733a1 in BENCHMARKS.md's
//     "Optimizations made") took, with the raw-descriptor writes, both
//     ends of a handshake from 61.3 to 47.4 allocations; a connection's
//     Reader would otherwise be allocated per connection.
//   - Sharing them between servers instead of a pair of pools per server
//     (35a174f) took a survey of 10,000 mock peers from 154 to 127 MB
//     allocated per two passes: each server of a fleet, with a
//     connection now and then, filled its own pools anew after every
//     garbage collection (1.3 KB per handshake).
//
// Nothing in them outlives a connection's use: a writer returns its
// buffer after the write, a connection its Reader when it ends.
var (
	writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
	readers   sync.Pool // *wire.Reader of readerSize
)

func (e *env) getBuf() *[]byte { return writeBufs.Get().(*[]byte) }

// getReader returns a pooled Reader of nc: connections come and go by the
// thousand on a busy server, and each would otherwise allocate its buffer.
func (e *env) getReader(nc net.Conn) *wire.Reader {
	if r, ok := readers.Get().(*wire.Reader); ok {
		r.Reset(nc, e.network(), 0)
		return r
	}
	return wire.NewReaderSize(nc, e.network(), readerSize, 0)
}

// putReader takes back a connection's Reader once nothing reads from it:
// its frames' payloads (Incoming.Payload) are valid only until then.
func (e *env) putReader(r *wire.Reader) {
	r.Reset(nil, e.network(), 0)
	readers.Put(r)
}

func (e *env) putBuf(p *[]byte, b []byte) {
	if cap(b) > 64<<10 {
		return // a burst of thousands of messages: let it go
	}
	*p = b[:0]
	writeBufs.Put(p)
}
