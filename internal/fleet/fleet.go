// Package fleet runs many mock peers (mockpeer.Servers) on distinct
// loopback addresses and one port, as a DNS seed's answer would list them:
// the mock network of `make run`, of the CLI's demo and of the survey
// benchmark (Scenarios, bench).
package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
)

// Fleet is many mock peers in one process, each a mockpeer.Server of its
// own (scripts, records, failures) on its own loopback address, all on
// one port. Where the platform allows it (Linux), they share one listening
// socket: bound to the wildcard address and to the loopback device
// (SO_BINDTODEVICE), it takes connections to any 127.x.y.z and none from
// other interfaces, and one accept loop hands each connection to the peer
// its local address names. Ten thousand peers then cost one descriptor and
// one goroutine at rest instead of ten thousand of each, and their accepts
// run as a busy listener's do (BENCHMARKS.md, 78ff9fc). Elsewhere, or for
// addresses that are not IPv4 loopback, each peer listens on its own, on
// the port of the first.
type Fleet struct {
	addrs []netip.Addr
	peers []*mockpeer.Server
	port  uint16

	ln net.Listener // the shared listener; nil when each peer listens on its own
	// unshared: listen per peer even where they could share (tests).
	unshared bool
	mu       sync.Mutex
	byAddr   map[netip.Addr]*peerListener
	done     chan struct{}
	wg       sync.WaitGroup
}

// New returns a fleet of unstarted peers, one per address (distinct), each
// built with opts (WithAddr is ignored): give them scripts, then Start.
func New(addrs []netip.Addr, opts ...mockpeer.Option) *Fleet {
	f := &Fleet{addrs: addrs, byAddr: make(map[netip.Addr]*peerListener, len(addrs)), done: make(chan struct{})}
	for range addrs {
		f.peers = append(f.peers, mockpeer.NewUnstartedServer(opts...))
	}
	return f
}

// Peers are the fleet's peers, in the order of New's addresses.
func (f *Fleet) Peers() []*mockpeer.Server { return f.peers }

// Port is the port every peer listens on (0 before Start).
func (f *Fleet) Port() uint16 { return f.port }

// Shared reports whether the peers share one listening socket.
func (f *Fleet) Shared() bool { return f.ln != nil }

// Start starts every peer: they are accepting when it returns. Without a
// shared socket it tries a few ports, since another process may hold the
// first peer's port on another address.
func (f *Fleet) Start() error {
	if !f.unshared && shareable(f.addrs) {
		if ln, err := listenLoopbackDevice(); err == nil {
			return f.startShared(ln)
		}
	}
	var err error
	for range 5 {
		var lns []net.Listener
		if lns, err = listenEach(f.addrs); err == nil {
			for i, p := range f.peers {
				p.Listener = lns[i]
				if err := p.Start(); err != nil {
					return err
				}
			}
			if len(lns) > 0 {
				f.port = lns[0].Addr().(*net.TCPAddr).AddrPort().Port()
			}
			return nil
		}
	}
	return err
}

// listenEach listens on each address, all on the port the first gets.
func listenEach(addrs []netip.Addr) ([]net.Listener, error) {
	lc := listenConfig()
	port := "0"
	var lns []net.Listener
	for _, a := range addrs {
		ln, err := lc.Listen(context.Background(), "tcp", net.JoinHostPort(a.String(), port))
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("fleet: %s: %w", a, err)
		}
		lns = append(lns, ln)
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	return lns, nil
}

func (f *Fleet) startShared(ln net.Listener) error {
	f.ln = ln
	tcp := ln.Addr().(*net.TCPAddr)
	f.port = uint16(tcp.Port)
	for i, p := range f.peers {
		a := f.addrs[i]
		pl := &peerListener{f: f, addr: &net.TCPAddr{IP: a.AsSlice(), Port: tcp.Port}, ip: a}
		f.mu.Lock()
		f.byAddr[a] = pl
		f.mu.Unlock()
		p.Listener = pl
		if err := p.Start(); err != nil {
			return err
		}
	}
	f.wg.Add(1)
	go f.acceptLoop()
	return nil
}

// shareable: distinct IPv4 loopback addresses.
func shareable(addrs []netip.Addr) bool {
	seen := make(map[netip.Addr]bool, len(addrs))
	for _, a := range addrs {
		if !a.Is4() || !a.IsLoopback() || seen[a] {
			return false
		}
		seen[a] = true
	}
	return true
}

func (f *Fleet) acceptLoop() {
	defer f.wg.Done()
	var backoff time.Duration
	for {
		nc, err := f.ln.Accept()
		if err != nil {
			select {
			case <-f.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like, as in mockpeer.Server.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-f.done:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		f.dispatch(nc)
	}
}

// dispatch hands nc to the peer its local address names, or closes it.
func (f *Fleet) dispatch(nc net.Conn) {
	var admit func(net.Conn) bool
	if la, ok := nc.LocalAddr().(*net.TCPAddr); ok {
		f.mu.Lock()
		if pl := f.byAddr[la.AddrPort().Addr().Unmap()]; pl != nil {
			admit = pl.admit
		}
		f.mu.Unlock()
	}
	if admit == nil {
		_ = nc.Close() // an address of the loopback that is not one of ours, or a closed peer
		return
	}
	admit(nc) // a closing peer closes it
}

// Close stops accepting and closes every peer, as mockpeer.Server.Close
// does, and returns what they reported, joined.
func (f *Fleet) Close() error {
	if f.ln != nil {
		select {
		case <-f.done:
		default:
			close(f.done)
			_ = f.ln.Close()
		}
		f.wg.Wait()
	}
	errs := make([]error, len(f.peers))
	for i, p := range f.peers {
		if err := p.Close(); err != nil {
			errs[i] = fmt.Errorf("%s: %w", p.Addr(), err)
		}
	}
	return errors.Join(errs...)
}

// peerListener is a peer's share of the fleet's socket: the fleet's accept
// loop hands it connections, through the admit its Server gives Handoff,
// so that the Server starts no accept loop of its own.
type peerListener struct {
	f     *Fleet
	addr  *net.TCPAddr
	ip    netip.Addr
	admit func(net.Conn) bool // set by Handoff, under f.mu
	once  sync.Once
	done  chan struct{}
}

// Handoff is called by the Server's Start with its admit.
func (l *peerListener) Handoff(admit func(nc net.Conn) bool) {
	l.f.mu.Lock()
	l.admit = admit
	l.done = make(chan struct{})
	l.f.mu.Unlock()
}

// Accept waits until the listener is closed: connections come through
// Handoff instead.
func (l *peerListener) Accept() (net.Conn, error) {
	l.f.mu.Lock()
	done := l.done
	l.f.mu.Unlock()
	if done != nil {
		<-done
	}
	return nil, net.ErrClosed
}

// Close takes the peer out of the fleet's dispatch.
func (l *peerListener) Close() error {
	l.once.Do(func() {
		l.f.mu.Lock()
		delete(l.f.byAddr, l.ip)
		if l.done != nil {
			close(l.done)
		}
		l.f.mu.Unlock()
	})
	return nil
}

// Addr is the peer's address: its loopback address, the fleet's port.
func (l *peerListener) Addr() net.Addr { return l.addr }

// listenConfig is how mockpeer listens: plain TCP (no Multipath TCP), no
// TCP keep-alive.
func listenConfig() net.ListenConfig {
	lc := net.ListenConfig{KeepAlive: -1}
	lc.SetMultipathTCP(false)
	return lc
}
