package handshake

import (
	"net"
	"sync"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// session is the state of one handshake. Sessions are pooled with their
// v1 transport's read and output buffers: a handshake needs them only
// while it runs, and a fresh read buffer per handshake is most of what a
// survey allocates (BENCHMARKS.md).
type session struct {
	cfg   Config
	conn  net.Conn
	t     transport   // &v1, or a v2Transport
	v1    v1Transport // pooled
	res   *Result
	block *resultBlock
	peer  *wire.Version // where the peer's version is decoded: in the Result's block
	nonce uint64
	last  lastWriter
	ver   wire.Version // ours

	gotVersion, gotVerack, earlyVerack bool
	// closeAfter: the connection is closed right after the handshake
	// (Dial without Linger), so the last write can carry the FIN.
	closeAfter bool

	// Coalescing detection: bytes already buffered when the peer's version
	// was returned, and bytes consumed since.
	bufferedAfterVersion, consumedSinceVersion int

	handshakeDeadline time.Time
	phaseDeadline     time.Time

	deadlines // deadline.go
	// lastRead is when the last read from conn returned; messages parsed
	// from bytes that were already buffered arrived then too.
	lastRead time.Time
}

var sessions = sync.Pool{New: func() any {
	return &session{v1: v1Transport{
		r:   wire.NewReader(nil, 0),
		out: make([]byte, 0, 256),
	}}
}}

// maxPooledOut is the largest output buffer a pooled session keeps.
const maxPooledOut = 4 << 10

func getSession(conn net.Conn, cfg Config, b *resultBlock) *session {
	s := sessions.Get().(*session)
	v1, last := s.v1, s.last
	if v1.r == nil { // a Conn took it (Conn.adopt)
		v1.r = wire.NewReaderSize(nil, 0, 0, 0)
	}
	*s = session{cfg: cfg, conn: conn, res: &b.res, block: b, peer: &b.peer, nonce: cfg.Nonce(), v1: v1, last: last}
	s.v1.reset(conn, &s.cfg)
	s.t = &s.v1
	return s
}

// release returns s to the pool, holding on to nothing of its handshake:
// the Reader gives up the connection (and a buffer a large frame grew).
func (s *session) release() {
	v1, last := s.v1, s.last
	if cap(v1.out) > maxPooledOut {
		v1.out = make([]byte, 0, 256)
	}
	if v1.r != nil {
		v1.r.Reset(nil, 0, 0)
	}
	v1.out = v1.out[:0]
	*s = session{v1: v1, last: last}
	sessions.Put(s)
}

// next reads the next message and notes when it arrived: now if reading
// it took a read from conn, else when the last read returned.
func (s *session) next() (message, time.Time, error) {
	m, err := s.t.next()
	if m.fresh {
		s.lastRead = s.cfg.Now()
	}
	return m, s.lastRead, err
}
