package harness

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Fleet is a set of mock peers, one scenario each, on distinct loopback
// addresses (127.0.0.2, 127.0.0.3, ...) that all listen on the same port:
// what a DNS seed hands out. It backs `make run` and survey tests.
type Fleet struct {
	port    uint16
	servers []*mockpeer.Server
	byAddr  map[netip.Addr]scenarios.Scenario
	addrs   []netip.Addr
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
	var lastErr error
	for range 5 {
		f, err := startFleet(scs, net, opts)
		if err == nil {
			return f, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func startFleet(scs []scenarios.Scenario, n wire.Network, opts []mockpeer.Option) (f *Fleet, err error) {
	f = &Fleet{byAddr: make(map[netip.Addr]scenarios.Scenario, len(scs))}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	for i, sc := range scs {
		addr := FleetAddr(i)
		port := "0"
		if i > 0 {
			port = strconv.Itoa(int(f.port))
		}
		srv := mockpeer.NewUnstartedServer(append([]mockpeer.Option{mockpeer.WithNetwork(n),
			mockpeer.WithListenAddr(net.JoinHostPort(addr.String(), port))}, opts...)...)
		srv.SetDefaultScript(sc.Script)
		// Appended before Start, so a failed peer is closed with the rest.
		f.servers = append(f.servers, srv)
		if serr := srv.Start(); serr != nil {
			return f, fmt.Errorf("fleet: %s: %w", addr, serr)
		}
		if i == 0 {
			ap, perr := netip.ParseAddrPort(srv.Addr())
			if perr != nil {
				return f, perr
			}
			f.port = ap.Port()
		}
		f.byAddr[addr] = sc
		f.addrs = append(f.addrs, addr)
	}
	return f, nil
}

// Port is the port every peer of the fleet listens on.
func (f *Fleet) Port() uint16 { return f.port }

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
func (f *Fleet) Close() error {
	var errs []error
	for _, s := range f.servers {
		errs = append(errs, s.Close())
	}
	f.servers = nil
	return errors.Join(errs...)
}

// QuietMock is a mock option that drops script failures: in a fleet that
// a survey visits, a client hanging up early is expected, not a failure.
func QuietMock() mockpeer.Option {
	return mockpeer.WithFailHandler(func(string, ...int) {})
}
