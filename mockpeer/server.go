package mockpeer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Server is a mock Bitcoin peer listening on loopback. Each accepted
// connection plays the next appended script, then the default script.
// All methods are safe for concurrent use.
type Server struct {
	env  *env
	ln   net.Listener // nil for a Fleet's peer: the Fleet accepts for it
	addr string

	mu    sync.Mutex
	queue []Script
	def   *Script
	// live holds the open connections, each at its Conn.slot: added and
	// removed without hashing (a map here was 1 % of a fleet's survey).
	live     []*Conn
	accepted int
	finished int
	closed   bool

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// NewServer starts a server listening on 127.0.0.1:0 (see WithListenAddr).
// It is accepting when NewServer returns. It panics if it cannot listen,
// as httptest.NewServer does: a test cannot go on without it.
func NewServer(opts ...Option) *Server {
	cfg := newConfig(opts)
	ln := cfg.listener
	if ln == nil {
		lc := listenConfig()
		var err error
		if ln, err = lc.Listen(context.Background(), "tcp", cfg.listenAddr); err != nil {
			panic(fmt.Sprintf("mockpeer: listen on %s: %v", cfg.listenAddr, err))
		}
	}
	s := newPeer(cfg, ln.Addr().String())
	s.ln = ln
	s.wg.Add(1)
	go s.acceptLoop()
	if cfg.tb != nil {
		cfg.tb.Cleanup(func() { _ = s.Close() })
	}
	return s
}

// newPeer is a Server at addr that accepts nothing itself.
func newPeer(cfg config, addr string) *Server {
	s := &Server{env: newEnv(cfg, "Close"), addr: addr}
	s.env.cfg.logger = cfg.logger.With("mock", addr, "network", cfg.network.String())
	return s
}

// Addr is the listening address, host:port.
func (s *Server) Addr() string { return s.addr }

// Network is the network whose magic frames carry.
func (s *Server) Network() wire.Network { return s.env.network() }

// AppendScripts queues scripts: each accepted connection takes the next one.
func (s *Server) AppendScripts(scripts ...Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, scripts...)
}

// SetDefaultScript sets the script of connections that arrive when no
// appended script is left. Without one, such a connection is a failure
// (ErrNoScript) and is closed.
func (s *Server) SetDefaultScript(sc Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = &sc
}

// Route adds an always-on route: whenever a connection reads a message
// with this command while it waits for messages (Expect, HoldOpen,
// ExpectClosed, a profile), r reacts to it first; its replies are written
// in one write, and the message then goes on to the step. Sleep and
// sending steps do not read, so routes wait for them.
func (s *Server) Route(command string, r Reaction) {
	s.env.addRoute(command, r, callerLocation())
}

// Accepted is the number of connections accepted so far.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Finished is the number of connections whose script has ended.
func (s *Server) Finished() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finished
}

// Transcript returns everything recorded on every connection, in order.
func (s *Server) Transcript() []Record { return s.env.transcript() }

// Received returns the frames the mock received (broken ones with their
// error), from all connections, in order.
func (s *Server) Received() []Record { return s.env.received() }

// ConnTranscript returns the records of one connection.
func (s *Server) ConnTranscript(index int) []Record {
	var out []Record
	for _, r := range s.env.transcript() {
		if r.Conn == index {
			out = append(out, r)
		}
	}
	return out
}

// Failures returns every failure so far, whether or not a handler got it.
func (s *Server) Failures() []Failure { return s.env.failureList() }

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.env.closing() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little, as
			// net/http does, instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.env.cfg.logger.Warn("accept failed", "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.env.done:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		if !s.admit(nc) {
			return
		}
	}
}

// admit starts serving an accepted connection, or closes it and reports
// false once the server is closed.
func (s *Server) admit(nc net.Conn) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return false
	}
	c := newConn(s.env, nc, s.accepted)
	s.accepted++
	var sc *Script
	if len(s.queue) > 0 {
		sc = &s.queue[0]
		s.queue = s.queue[1:]
	} else {
		sc = s.def
	}
	c.slot = len(s.live)
	s.live = append(s.live, c)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serve(c, sc)
	return true
}

func (s *Server) serve(c *Conn, sc *Script) {
	defer s.wg.Done()
	c.recordAccept()
	if sc == nil {
		c.noScript()
	} else {
		c.play(*sc)
	}
	_ = c.Close()
	s.env.putReader(c.r)
	c.r = nil
	s.mu.Lock()
	last := s.live[len(s.live)-1]
	s.live[c.slot], last.slot = last, c.slot
	s.live[len(s.live)-1] = nil
	s.live = s.live[:len(s.live)-1]
	s.finished++
	s.mu.Unlock()
}

// Close stops accepting, closes every connection, waits for every
// goroutine of the server, and reports scripts left unfinished: appended
// but never run (ErrNeverRan), or cut off mid-way (ErrCutOff). A script
// whose last step is HoldOpen or a profile finishes normally when Close
// ends it. Failures go to the fail handler when there is one; Close
// returns those that no handler received, joined (each a *Failure).
// Closing again returns nil.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.env.shutdown()
		s.mu.Lock()
		s.closed = true
		for _, c := range s.live {
			_ = c.nc.Close()
		}
		never := s.queue
		s.queue = nil
		s.mu.Unlock()
		if s.ln != nil {
			_ = s.ln.Close()
		}
		s.wg.Wait()
		for _, sc := range never {
			s.env.report(&Failure{Conn: -1, Script: sc.name, At: sc.at,
				Err: fmt.Errorf("%w: appended but no connection came for it before Close", ErrNeverRan)})
		}
		s.env.mu.Lock()
		err = errors.Join(s.env.unreported...)
		s.env.mu.Unlock()
	})
	return err
}

// recordAccept and noScript keep serve's frame, which stays on the stack
// of every connection, small.
func (c *Conn) recordAccept() {
	c.env.record(Record{Time: c.start, Conn: c.index, Dir: In, Event: EventAccept, peer: c.nc.RemoteAddr()})
}

func (c *Conn) noScript() {
	c.env.report(&Failure{Conn: c.index, Remote: c.nc.RemoteAddr().String(), Script: "(none)",
		Err: fmt.Errorf("%w: no appended script left and no default script", ErrNoScript)})
}
