package handshake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Seed is a DNS seed: a name whose A and AAAA records are the addresses
// of peers, and how to ask for them.
type Seed struct {
	// Name is the seed's host name, e.g. "seed.bitcoin.sipa.be".
	Name string
	// Port is the peers' port, usually the network's
	// (wire.Network.DefaultPort).
	Port uint16
	// Server is the DNS server to ask (host:port), over UDP with TCP
	// fallback; "" asks the system's resolver.
	Server string
	// Timeout bounds each exchange with Server (default 5 s): Go's
	// resolver would otherwise wait resolv.conf's timeout (5 s by
	// default) per attempt, whatever is asked here. A lookup makes a few
	// attempts, so bound the whole of it with Resolve's context.
	Timeout time.Duration
	// MaxAddrs caps the addresses taken from one answer (default 256): a
	// hostile DNS server must not make us open unbounded connections.
	MaxAddrs int
}

// defaultMaxSeedAddrs is Seed.MaxAddrs's default.
const defaultMaxSeedAddrs = 256

// Resolve resolves the seed's A and AAAA records into host:port targets,
// deduplicated, in the resolver's order, at most MaxAddrs of them. A seed
// that gives no address fails with a *net.DNSError whose IsNotFound is
// set, as Go's resolver reports both a missing name and an answer without
// A or AAAA records (it cannot tell the two apart).
func (s Seed) Resolve(ctx context.Context) ([]string, error) {
	r := net.DefaultResolver
	if s.Server != "" {
		r = serverResolver(s.Server, s.Timeout)
	}
	maxAddrs := s.MaxAddrs
	if maxAddrs <= 0 {
		maxAddrs = defaultMaxSeedAddrs
	}
	host := strings.TrimSpace(s.Name)
	if host == "" {
		return nil, errors.New("empty seed name")
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, lookupError(s, err)
	}
	seen := make(map[netip.Addr]bool, len(addrs))
	var out []string
	for _, a := range addrs {
		a = a.Unmap()
		if !a.IsValid() || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, net.JoinHostPort(a.String(), strconv.Itoa(int(s.Port))))
		if len(out) == maxAddrs {
			break
		}
	}
	if len(out) == 0 {
		return nil, lookupError(s, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true})
	}
	return out, nil
}

// seedLookupError is a failed seed lookup, worded for the user: what went
// wrong and which server was asked, without Go's "lookup X on Y" (whose Y
// is resolv.conf's server even when another was dialed).
type seedLookupError struct {
	seed, what, asked string
	err               error
}

func (e *seedLookupError) Error() string {
	return fmt.Sprintf("resolve %s: %s (asked %s)", e.seed, e.what, e.asked)
}

func (e *seedLookupError) Unwrap() error { return e.err }

// lookupError describes err, from the lookup of s: a *net.DNSError gets
// a text of its own (seedLookupError).
func lookupError(s Seed, err error) error {
	dnsErr, ok := errors.AsType[*net.DNSError](err)
	if !ok {
		return fmt.Errorf("resolve seed %s: %w", s.Name, err)
	}
	e := &seedLookupError{seed: s.Name, what: dnsErr.Err, err: err}
	switch {
	case s.Server != "":
		e.asked = s.Server
	case dnsErr.Server != "":
		e.asked = "the system resolver, " + dnsErr.Server
	default:
		e.asked = "the system resolver"
	}
	return e
}

// serverResolver returns a resolver that asks the DNS server at server
// instead of the system's, each exchange bounded by timeout (default 5 s).
func serverResolver(server string, timeout time.Duration) *net.Resolver {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: timeout}
			c, err := d.DialContext(ctx, network, server)
			if err != nil {
				return nil, err
			}
			limit := time.Now().Add(timeout)
			if err := c.SetDeadline(limit); err != nil {
				_ = c.Close()
				return nil, err
			}
			// The resolver sets its own deadline on the connection
			// afterwards; cap it at ours. It tells UDP from TCP by
			// whether the conn is a net.PacketConn, so that stays visible.
			if u, ok := c.(*net.UDPConn); ok {
				return &cappedUDPConn{UDPConn: u, limit: limit}, nil
			}
			return &cappedConn{Conn: c, limit: limit}, nil
		},
	}
}

func capDeadline(t, limit time.Time) time.Time {
	if t.IsZero() || t.After(limit) {
		return limit
	}
	return t
}

// cappedConn is a stream connection whose deadlines never pass limit.
type cappedConn struct {
	net.Conn
	limit time.Time
}

func (c *cappedConn) SetDeadline(t time.Time) error {
	return c.Conn.SetDeadline(capDeadline(t, c.limit))
}

func (c *cappedConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(capDeadline(t, c.limit))
}

func (c *cappedConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(capDeadline(t, c.limit))
}

// cappedUDPConn is a UDP connection whose deadlines never pass limit.
type cappedUDPConn struct {
	*net.UDPConn
	limit time.Time
}

func (c *cappedUDPConn) SetDeadline(t time.Time) error {
	return c.UDPConn.SetDeadline(capDeadline(t, c.limit))
}

func (c *cappedUDPConn) SetReadDeadline(t time.Time) error {
	return c.UDPConn.SetReadDeadline(capDeadline(t, c.limit))
}

func (c *cappedUDPConn) SetWriteDeadline(t time.Time) error {
	return c.UDPConn.SetWriteDeadline(capDeadline(t, c.limit))
}
