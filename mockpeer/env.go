package mockpeer

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/btc-handshake/btc-handshake/wire"
)

// env is what a Server and a Session share with their connections:
// configuration, routes, records, failures and the closing signal.
type env struct {
	cfg config
	// routes is nil while there are none (as on most servers: a lookup
	// per frame in an empty map of its own is a cache miss per server in
	// a fleet of thousands).
	routes   atomic.Pointer[map[string]route]
	done     chan struct{}
	doneOnce sync.Once
	// stopped is done's state for the checks on every frame: a load
	// instead of a channel receive.
	stopped atomic.Bool
	cutBy   string // what "cut off" means here: "Close" or "the Dial context"
	debug   bool   // the logger wants debug records (checked once, kept off the hot path)

	mu         sync.Mutex
	records    recordLog
	failures   []Failure
	unreported []error

	nonces nonceBook
}

type route struct {
	react Reaction
	at    location
}

func newEnv(cfg config, cutBy string) *env {
	e := &env{cfg: cfg, done: make(chan struct{}), cutBy: cutBy,
		debug: cfg.logger.Enabled(context.Background(), slog.LevelDebug)}
	if len(cfg.routes) > 0 {
		routes := make(map[string]route, len(cfg.routes))
		for cmd, r := range cfg.routes {
			routes[cmd] = r
		}
		e.routes.Store(&routes)
	}
	return e
}

func (e *env) network() wire.Network { return e.cfg.network }

func (e *env) closing() bool { return e.stopped.Load() }

func (e *env) shutdown() {
	e.doneOnce.Do(func() {
		e.stopped.Store(true)
		close(e.done)
	})
}

func (e *env) addRoute(cmd string, r Reaction, at location) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var old map[string]route
	if p := e.routes.Load(); p != nil {
		old = *p
	}
	routes := make(map[string]route, len(old)+1)
	for k, v := range old {
		routes[k] = v
	}
	routes[cmd] = route{react: r, at: at}
	e.routes.Store(&routes)
}

func (e *env) record(r Record) {
	switch e.cfg.record {
	case recordHeaders:
		r.Payload = nil
	case recordEvents:
		if r.Event == "" && r.Err == nil {
			return
		}
		r.Payload = nil
	case recordNone:
		return
	}
	e.mu.Lock()
	e.records.keep(r, e.cfg.limit)
	e.mu.Unlock()
}

// recordLog is an append-only list of records in chunks of fixed size:
// appending never copies what is already there (a load test's server
// records hundreds of thousands of events; regrowing one slice copied
// them all, a few percent of its CPU).
type recordLog struct {
	chunks [][]Record
	n      int
	// kept and open serve Recording.Frames (record.go).
	kept [2]int // by direction: in, out
	open [2]*Record
}

// recordChunk is the largest chunk: 18 KB, a small-object allocation, not
// a large one. Chunks start at 8 records and double up to it, so that a
// fleet of thousands of servers with a connection or two each stays small.
const recordChunk = 128

func (l *recordLog) add(r Record) {
	if n := len(l.chunks); n == 0 || len(l.chunks[n-1]) == cap(l.chunks[n-1]) {
		l.chunks = append(l.chunks, make([]Record, 0, min(recordChunk, max(8, l.n))))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, r)
	l.n++
}

// all yields every record in order.
func (l *recordLog) all(yield func(Record) bool) {
	for _, c := range l.chunks {
		for _, r := range c {
			if r.peer != nil {
				r.Note, r.peer = r.peer.String(), nil
			}
			if !yield(r) {
				return
			}
		}
	}
}

// report delivers a failure exactly once: to the fail handler when there is
// one, otherwise to the error Close (or Dial) returns.
func (e *env) report(f *Failure) {
	e.cfg.logger.Error("mockpeer failure", "conn", f.Conn, "script", f.Script, "step", f.Step, "at", f.At, "err", f.Err)
	e.mu.Lock()
	e.failures = append(e.failures, *f)
	handler := e.cfg.fail
	if handler == nil {
		e.unreported = append(e.unreported, f)
	}
	e.mu.Unlock()
	if handler != nil {
		callHandler(handler, f.Error())
	}
}

func (e *env) transcript() []Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.records.n == 0 {
		return nil
	}
	out := make([]Record, 0, e.records.n)
	for r := range e.records.all {
		out = append(out, r)
	}
	return out
}

func (e *env) received() []Record {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Record
	for r := range e.records.all {
		if !r.Out && r.Event == "" {
			out = append(out, r)
		}
	}
	return out
}

func (e *env) failureList() []Failure {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Failure(nil), e.failures...)
}

// nonceBook remembers the nonces of the versions this server sent
// recently, so that the btcd profile can detect a self connection as btcd
// does (peer.sentNonces).
type nonceBook struct {
	mu  sync.Mutex
	set map[uint64]struct{}
	// ring holds the last nonceBookSize nonces, oldest first once full. It
	// grows as nonces come: a fleet of thousands of mock peers that see a
	// connection or two each must not carry 8 KB of ring apiece.
	ring []uint64
	n    int
}

// nonceBookSize is how many recent nonces a server remembers.
const nonceBookSize = 1024

func (b *nonceBook) add(n uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.set == nil {
		b.set = make(map[uint64]struct{})
	}
	if len(b.ring) < nonceBookSize {
		b.ring = append(b.ring, n)
	} else {
		i := b.n % nonceBookSize
		delete(b.set, b.ring[i])
		b.ring[i] = n
	}
	b.set[n] = struct{}{}
	b.n++
}

func (b *nonceBook) has(n uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.set[n]
	return ok
}
