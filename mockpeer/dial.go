package mockpeer

import (
	"context"
	"fmt"
	"net"
	"time"
)

// Session is the outcome of Dial: what was sent and received, and what failed.
type Session struct {
	env    *env
	local  string
	remote string
	start  time.Time
	end    time.Time
}

// Dial connects to addr and plays script as the initiating side, for
// probing real nodes; it returns when the script has ended and the
// connection is closed. The Session is never nil, so its transcript can be
// read even on error. The error is the dial error or the script's failure
// (a *Failure); a fail handler given in opts receives script failures too.
// Cancelling ctx cuts the script off. Every option applies; WithAddr binds
// the local end of the connection.
func Dial(ctx context.Context, addr string, script Script, opts ...Option) (*Session, error) {
	cfg := newConfig(opts)
	e := newEnv(cfg, "the Dial context")
	sess := &Session{env: e, remote: addr, start: time.Now()}
	defer func() { sess.end = time.Now() }()
	var d net.Dialer
	if cfg.addr != "" {
		la, err := net.ResolveTCPAddr("tcp", cfg.addr)
		if err != nil {
			return sess, fmt.Errorf("mockpeer: local address %q: %w", cfg.addr, err)
		}
		d.LocalAddr = la
	}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return sess, fmt.Errorf("mockpeer: dial %s: %w", addr, err)
	}
	sess.local = nc.LocalAddr().String()
	e.cfg.logger = cfg.logger.With("local", sess.local, "network", cfg.network.String())
	stop := context.AfterFunc(ctx, func() {
		e.shutdown()
		_ = nc.Close()
	})
	c := newConn(e, nc, 0)
	c.dialed = true
	e.record(Record{Time: c.start, Conn: 0, Out: true, Event: EventDial, Note: sess.local + " -> " + nc.RemoteAddr().String()})
	c.play(script)
	stop()
	_ = c.Close()
	e.shutdown()
	if fs := e.failureList(); len(fs) > 0 {
		f := fs[0]
		return sess, &f
	}
	return sess, nil
}

// Transcript returns everything sent and received, and connection events.
func (s *Session) Transcript() []Record { return s.env.transcript() }

// Received returns the frames received, broken ones with their error.
func (s *Session) Received() []Record { return s.env.received() }

// Failures returns the script's failures (at most one, as a script stops
// at its first failure, plus route failures).
func (s *Session) Failures() []Failure { return s.env.failureList() }

// Err is the first failure, or nil.
func (s *Session) Err() error {
	if fs := s.env.failureList(); len(fs) > 0 {
		f := fs[0]
		return &f
	}
	return nil
}

// LocalAddr is the local end of the connection ("" if the dial failed).
func (s *Session) LocalAddr() string { return s.local }

// RemoteAddr is the address dialled.
func (s *Session) RemoteAddr() string { return s.remote }

// Duration is how long Dial took.
func (s *Session) Duration() time.Duration { return s.end.Sub(s.start) }
