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
// All methods but Start are safe for concurrent use.
type Server struct {
	// Listener is what the server accepts on. Set it between
	// NewUnstartedServer and Start to hand the server a listener the
	// caller already holds, as with httptest.Server's field: the caller
	// keeps the address it listened on, with no window in which another
	// process could take it. The server owns it from then on and closes it
	// in Close, started or not. Left nil, Start listens on the address of
	// WithAddr (default 127.0.0.1:0) and sets it.
	Listener net.Listener

	env  *env
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

// NewServer starts a server listening on 127.0.0.1:0 (see WithAddr):
// NewUnstartedServer followed by Start. It is accepting when NewServer
// returns. When it cannot listen, a test cannot go on, so, as
// httptest.NewServer does, NewServer panics. Where the address comes from a
// user, a failure to listen is not a bug: use NewUnstartedServer and
// Start, which returns the error.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	if err := s.Start(); err != nil {
		panic(err.Error())
	}
	return s
}

// NewUnstartedServer returns a server that does not accept yet, as
// httptest.NewUnstartedServer does: append scripts, routes and a default
// script, set Listener if you hold one, then call Start. Close it even if
// it never starts: it closes the Listener.
func NewUnstartedServer(opts ...Option) *Server {
	return &Server{env: newEnv(newConfig(opts), "Close")}
}

// handoff is a listener that hands its connections over instead of being
// accepted from: a peer of a fleet (internal/fleet), whose connections
// the fleet's one accept loop dispatches by local address, so that ten
// thousand peers cost one goroutine at rest, not ten thousand. Start
// gives it the server's admit in place of an accept loop.
type handoff interface {
	Handoff(admit func(nc net.Conn) bool)
}

// Start listens on the address of WithAddr, or takes Listener, and starts
// accepting: the server is accepting when Start returns. It returns an
// error, and the server stays unstarted, if it cannot listen (an address
// in use, say); starting twice or after Close is an error too. Start is
// not safe to call concurrently with the server's other methods: call it
// before handing the server out.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return errors.New("mockpeer: Start after Close")
	case s.addr != "":
		return errors.New("mockpeer: Start called twice")
	}
	if s.Listener == nil {
		addr := s.env.cfg.addr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		lc := listenConfig()
		ln, err := lc.Listen(context.Background(), "tcp", addr)
		if err != nil {
			return fmt.Errorf("mockpeer: %w", err)
		}
		s.Listener = ln
	}
	s.setAddr(s.Listener.Addr().String())
	if h, ok := s.Listener.(handoff); ok {
		h.Handoff(s.admit)
		return nil
	}
	s.wg.Add(1)
	go s.acceptLoop(s.Listener)
	return nil
}

// listenConfig is how every mock listener listens: plain TCP, as Bitcoin
// Core does (Go's listeners use Multipath TCP by default where the kernel
// has it, a layer more in every accept), no TCP keep-alive.
func listenConfig() net.ListenConfig {
	lc := net.ListenConfig{KeepAlive: -1}
	lc.SetMultipathTCP(false)
	return lc
}

func (s *Server) setAddr(addr string) {
	s.addr = addr
	s.env.cfg.logger = s.env.cfg.logger.With("mock", addr, "network", s.env.cfg.network.String())
}

// Addr is the listening address, host:port ("" until Start).
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
// sending steps do not read, so routes wait for them. A pong for every
// ping:
//
//	srv.Route(wire.CmdPing, func(_ *mockpeer.Conn, in mockpeer.Incoming) ([]wire.Message, error) {
//		if p, ok := in.Message.(wire.Ping); ok && !p.NoNonce {
//			return []wire.Message{wire.Pong{Nonce: p.Nonce}}, nil
//		}
//		return nil, nil
//	})
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

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
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
		if s.Listener != nil {
			_ = s.Listener.Close()
		}
		s.wg.Wait()
		for _, sc := range never {
			s.env.report(&Failure{Conn: -1, Script: sc.name, At: sc.at.String(),
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
	c.env.record(Record{Time: c.start, Conn: c.index, Event: EventAccept, peer: c.nc.RemoteAddr()})
}

func (c *Conn) noScript() {
	c.env.report(&Failure{Conn: c.index, Remote: c.nc.RemoteAddr().String(), Script: "(none)",
		Err: fmt.Errorf("%w: no appended script left and no default script", ErrNoScript)})
}
