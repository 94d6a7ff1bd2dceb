package harness

import (
	"net"
	"net/netip"

	"github.com/btc-handshake/btc-handshake/internal/fleet"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Fleet is a set of mock peers, one scenario each, on distinct loopback
// addresses (127.0.0.2, 127.0.0.3, ...) that all listen on the same port:
// what a DNS seed hands out. It backs `make run` and survey tests.
type Fleet struct {
	f      *fleet.Fleet
	byAddr map[netip.Addr]scenarios.Scenario
	addrs  []netip.Addr
}

// FleetAddr returns the i-th fleet address: 127.0.0.2 upwards, carrying
// into the second and third octets (127.0.1.0 ...) past 255.
func FleetAddr(i int) netip.Addr {
	n := i + 2
	return netip.AddrFrom4([4]byte{127, byte(n >> 16), byte(n >> 8), byte(n)})
}

// StartFleet starts one mock peer per scenario. opts gives the network and
// mock options such as a fail handler; it tries a few ports before giving up.
func StartFleet(scs []scenarios.Scenario, net wire.Network, opts ...mockpeer.Option) (*Fleet, error) {
	f := &Fleet{byAddr: make(map[netip.Addr]scenarios.Scenario, len(scs))}
	for i, sc := range scs {
		addr := FleetAddr(i)
		f.byAddr[addr] = sc
		f.addrs = append(f.addrs, addr)
	}
	f.f = fleet.New(f.addrs, append([]mockpeer.Option{mockpeer.WithNetwork(net)}, opts...)...)
	for i, p := range f.f.Peers() {
		p.SetDefaultScript(scs[i].Script)
	}
	if err := f.f.Start(); err != nil {
		_ = f.f.Close()
		return nil, err
	}
	return f, nil
}

// Port is the port every peer of the fleet listens on.
func (f *Fleet) Port() uint16 { return f.f.Port() }

// Addrs are the peers' addresses, in the scenarios' order.
func (f *Fleet) Addrs() []netip.Addr { return f.addrs }

// Scenario returns the scenario played at addr ("host:port" or "host").
func (f *Fleet) Scenario(addr string) (scenarios.Scenario, bool) {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return scenarios.Scenario{}, false
	}
	sc, ok := f.byAddr[a.Unmap()]
	return sc, ok
}

// Close stops every peer and returns what their scripts reported.
func (f *Fleet) Close() error { return f.f.Close() }

// QuietMock is a mock option that drops script failures: in a fleet that
// a survey visits, a client hanging up early is expected, not a failure.
func QuietMock() mockpeer.Option {
	return mockpeer.WithFailHandler(func(string, ...int) {})
}
