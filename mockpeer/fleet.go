package mockpeer

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Fleet is many mock peers in one process, each a Server of its own
// (scripts, records, failures) on its own loopback address. Where the
// platform allows it (Linux), they share one listening socket on one
// port: bound to the wildcard address and to the loopback device
// (SO_BINDTODEVICE), it takes connections to any 127.x.y.z and none from
// other interfaces, and one accept loop hands each connection to the peer
// its local address names. Ten thousand peers then cost one descriptor
// and one goroutine at rest instead of ten thousand of each, and their
// accepts run as a busy listener's do. Elsewhere, or for addresses that
// are not IPv4 loopback, each peer listens on its own.
type Fleet struct {
	peers  []*Server
	byAddr map[netip.Addr]*Server
	ln     net.Listener // nil when each peer listens on its own
	done   chan struct{}
	wg     sync.WaitGroup
}

// NewFleet starts one peer per address (distinct), each with opts
// (WithListenAddr is ignored). The peers are accepting when it returns.
// It panics if it cannot listen, as NewServer does.
func NewFleet(addrs []netip.Addr, opts ...Option) *Fleet {
	f := &Fleet{byAddr: make(map[netip.Addr]*Server, len(addrs)), done: make(chan struct{})}
	cfg := newConfig(opts)
	if shareable(addrs) {
		if ln, err := listenLoopbackDevice(); err == nil {
			f.ln = ln
			port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			for _, a := range addrs {
				p := newPeer(cfg, net.JoinHostPort(a.String(), port))
				f.peers = append(f.peers, p)
				f.byAddr[a] = p
			}
			f.wg.Add(1)
			go f.acceptLoop()
			if cfg.tb != nil {
				cfg.tb.Cleanup(func() { _ = f.Close() })
			}
			return f
		}
	}
	for _, a := range addrs {
		o := append(append([]Option(nil), opts...), WithListenAddr(net.JoinHostPort(a.String(), "0")))
		f.peers = append(f.peers, NewServer(o...))
	}
	return f
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

// Peers are the fleet's peers, in the order of NewFleet's addresses.
func (f *Fleet) Peers() []*Server { return f.peers }

// Shared reports whether the peers share one listening socket.
func (f *Fleet) Shared() bool { return f.ln != nil }

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
			// Out of file descriptors and the like, as in Server.
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
		var p *Server
		if la, ok := nc.LocalAddr().(*net.TCPAddr); ok {
			p = f.byAddr[la.AddrPort().Addr().Unmap()]
		}
		if p == nil {
			_ = nc.Close() // an address of the loopback that is not one of ours
			continue
		}
		p.admit(nc) // a closed peer closes it
	}
}

// Close stops accepting and closes every peer, as Server.Close does, and
// returns what they reported, joined.
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

// listenConfig is how every mock listener listens: plain TCP, as Bitcoin
// Core does (Go's listeners use Multipath TCP by default where the kernel
// has it, a layer more in every accept), no TCP keep-alive.
func listenConfig() net.ListenConfig {
	lc := net.ListenConfig{KeepAlive: -1}
	lc.SetMultipathTCP(false)
	return lc
}
