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
		// Go's resolvers report an answer without A or AAAA records as
		// "no such host", exactly as they report NXDOMAIN (DNSError's
		// IsNotFound covers both), so both mean the seed gave us nothing.
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, fmt.Errorf("resolve seed %s: %w: %w", seed, ErrNoAddresses, err)
		}
		return nil, fmt.Errorf("resolve seed %s: %w", seed, err)
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

// NewResolver returns a resolver that asks the DNS server at server
// (host:port) instead of the system's, over UDP with TCP fallback.
func NewResolver(server string, timeout time.Duration) *net.Resolver {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := net.Dialer{Timeout: timeout}
			return d.DialContext(ctx, network, server)
		},
	}
}
