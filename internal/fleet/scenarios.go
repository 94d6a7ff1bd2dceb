package fleet

import (
	"net"
	"net/netip"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Addr returns the i-th fleet address: 127.0.0.2 upwards, carrying into
// the second and third octets (127.0.1.0 ...) past 255.
func Addr(i int) netip.Addr {
	n := i + 2
	return netip.AddrFrom4([4]byte{127, byte(n >> 16), byte(n >> 8), byte(n)})
}

// Scenarios is a fleet playing one scenario per peer, the i-th on Addr(i):
// what a DNS seed hands out, for the CLI's demo (`make run`).
type Scenarios struct {
	f      *Fleet
	byAddr map[netip.Addr]scenarios.Scenario
	addrs  []netip.Addr
}

// StartScenarios starts one peer per scenario, speaking net. Script
// failures are dropped: in a fleet that a survey visits, a client hanging
// up early is expected, not a failure.
func StartScenarios(scs []scenarios.Scenario, net wire.Network) (*Scenarios, error) {
	s := &Scenarios{byAddr: make(map[netip.Addr]scenarios.Scenario, len(scs))}
	for i, sc := range scs {
		addr := Addr(i)
		s.byAddr[addr] = sc
		s.addrs = append(s.addrs, addr)
	}
	s.f = New(s.addrs, mockpeer.WithNetwork(net), mockpeer.WithFailHandler(func(string, ...int) {}))
	for i, p := range s.f.Peers() {
		p.SetDefaultScript(scs[i].Script)
	}
	if err := s.f.Start(); err != nil {
		_ = s.f.Close()
		return nil, err
	}
	return s, nil
}

// Port is the port every peer listens on.
func (s *Scenarios) Port() uint16 { return s.f.Port() }

// Addrs are the peers' addresses, in the scenarios' order.
func (s *Scenarios) Addrs() []netip.Addr { return s.addrs }

// Scenario returns the scenario played at addr ("host:port" or "host").
func (s *Scenarios) Scenario(addr string) (scenarios.Scenario, bool) {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return scenarios.Scenario{}, false
	}
	sc, ok := s.byAddr[a.Unmap()]
	return sc, ok
}

// Close stops every peer and returns what their scripts reported.
func (s *Scenarios) Close() error { return s.f.Close() }
