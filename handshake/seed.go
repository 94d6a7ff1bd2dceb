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

// Resolver looks up addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DefaultMaxSeedAddrs caps the addresses taken from one seed answer: a
// hostile DNS server must not make us open unbounded connections.
const DefaultMaxSeedAddrs = 256

// ErrNoAddresses means a seed resolved to nothing: an answer without A or
// AAAA records, or (Go's resolver does not tell the two apart) a name that
// does not exist. The resolver's *net.DNSError stays in the chain.
var ErrNoAddresses = errors.New("seed returned no addresses")

// ResolveSeed resolves a DNS seed's A and AAAA records into host:port
// targets, deduplicated, in the resolver's order, at most maxAddrs of them
// (DefaultMaxSeedAddrs when ≤ 0). A nil resolver means the system's.
func ResolveSeed(ctx context.Context, seed string, port uint16, r Resolver, maxAddrs int) ([]string, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	if maxAddrs <= 0 {
		maxAddrs = DefaultMaxSeedAddrs
	}
	host := strings.TrimSpace(seed)
	if host == "" {
		return nil, errors.New("empty seed name")
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, lookupError(seed, r, err)
	}
	seen := make(map[netip.Addr]bool, len(addrs))
	var out []string
	for _, a := range addrs {
		a = a.Unmap()
		if !a.IsValid() || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, net.JoinHostPort(a.String(), strconv.Itoa(int(port))))
		if len(out) == maxAddrs {
			break
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("resolve seed %s: %w", seed, ErrNoAddresses)
	}
	return out, nil
}

// seedLookupError is a failed seed lookup, worded for the user: what went
// wrong and which server was asked, without Go's "lookup X on Y" (whose Y
// is resolv.conf's server even when another was dialed).
type seedLookupError struct {
	seed, what, asked string
	errs              []error
}

func (e *seedLookupError) Error() string {
	return fmt.Sprintf("resolve %s: %s (asked %s)", e.seed, e.what, e.asked)
}

func (e *seedLookupError) Unwrap() []error { return e.errs }

// lookupError describes err, from r's lookup of seed. Go's resolvers
// report an answer without A or AAAA records as "no such host", exactly
// as they report NXDOMAIN (DNSError's IsNotFound covers both), so both
// mean the seed gave us nothing: ErrNoAddresses.
func lookupError(seed string, r Resolver, err error) error {
	dnsErr, ok := errors.AsType[*net.DNSError](err)
	if !ok {
		return fmt.Errorf("resolve seed %s: %w", seed, err)
	}
	e := &seedLookupError{seed: seed, what: dnsErr.Err, errs: []error{err}}
	if dnsErr.IsNotFound {
		e.errs = append(e.errs, ErrNoAddresses)
	}
	switch sr, ok := r.(*serverResolver); {
	case ok:
		e.asked = sr.server
	case r != net.DefaultResolver:
		e.asked = "the given resolver"
	case dnsErr.Server != "":
		e.asked = "the system resolver, " + dnsErr.Server
	default:
		e.asked = "the system resolver"
	}
	return e
}

// serverResolver is NewResolver's: it knows which server it asks, which
// its errors cannot say (see seedLookupError).
type serverResolver struct {
	*net.Resolver
	server string
}

// NewResolver returns a resolver that asks the DNS server at server
// (host:port) instead of the system's, over UDP with TCP fallback. timeout
// (DefaultTimeout when ≤ 0) bounds each exchange with the server: Go's
// resolver would otherwise wait resolv.conf's timeout (5 s by default) per
// attempt, whatever is asked here. A lookup makes a few attempts, so bound
// the whole of it with ctx.
func NewResolver(server string, timeout time.Duration) Resolver {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &serverResolver{server: server, Resolver: &net.Resolver{
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
	}}
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
