// Package seeddns is a small authoritative DNS server for seed names, on
// loopback, so that the CLI's seed path (resolve, then handshake with every
// address) runs for real in tests and in `make run` without the internet.
package seeddns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Server answers A and AAAA queries for its seed names over UDP and TCP on
// the same loopback port; other names get NXDOMAIN.
type Server struct {
	udp, tcp *dns.Server
	addr     string

	mu      sync.RWMutex
	records map[string][]netip.Addr
	queries int
}

// Start listens on addr ("127.0.0.1:0" for an ephemeral port) and serves
// records (seed name → addresses). It returns once both listeners are up.
func Start(addr string, records map[string][]netip.Addr) (*Server, error) {
	pc, l, err := listenBoth(addr)
	if err != nil {
		return nil, err
	}
	s := &Server{addr: pc.LocalAddr().String(), records: map[string][]netip.Addr{}}
	for name, addrs := range records {
		s.records[dns.CanonicalName(name)] = addrs
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", s.serve)
	var started sync.WaitGroup
	started.Add(2)
	s.udp = &dns.Server{PacketConn: pc, Handler: mux, NotifyStartedFunc: started.Done}
	s.tcp = &dns.Server{Listener: l, Handler: mux, NotifyStartedFunc: started.Done}
	errs := make(chan error, 2)
	go func() { errs <- s.udp.ActivateAndServe() }()
	go func() { errs <- s.tcp.ActivateAndServe() }()
	ready := make(chan struct{})
	go func() { started.Wait(); close(ready) }()
	select {
	case <-ready:
		return s, nil
	case err := <-errs:
		_ = s.Close()
		return nil, fmt.Errorf("seeddns: serve: %w", err)
	}
}

// listenBoth opens UDP and TCP on one port. With port 0 the UDP port is
// ephemeral and may already be taken for TCP, so it tries a few ports.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	_, port, _ := net.SplitHostPort(addr)
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("seeddns: listen udp: %w", err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = fmt.Errorf("seeddns: listen tcp: %w", err)
		if port != "0" {
			break
		}
	}
	return nil, nil, lastErr
}

// Addr is the host:port of the server (UDP and TCP).
func (s *Server) Addr() string { return s.addr }

// Set replaces the addresses served for name.
func (s *Server) Set(name string, addrs []netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[dns.CanonicalName(name)] = addrs
}

// Queries counts the questions answered so far.
func (s *Server) Queries() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.queries
}

// Close stops both listeners.
func (s *Server) Close() error {
	return errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	s.mu.Lock()
	s.queries++
	s.mu.Unlock()
	for _, q := range req.Question {
		s.mu.RLock()
		addrs, ok := s.records[strings.ToLower(dns.CanonicalName(q.Name))]
		s.mu.RUnlock()
		if !ok {
			m.Rcode = dns.RcodeNameError
			continue
		}
		for _, a := range addrs {
			hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 60}
			switch {
			case q.Qtype == dns.TypeA && a.Is4():
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case q.Qtype == dns.TypeAAAA && a.Is6() && !a.Is4In6():
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
	}
	// Over UDP an answer must fit the client's buffer: 512 bytes, or what
	// its EDNS0 record allows. Truncate sets TC, and resolvers then ask
	// again over TCP, which carries the whole answer (RFC 7766).
	if w.LocalAddr().Network() == "udp" {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > size {
			size = int(opt.UDPSize())
		}
		m.Truncate(size)
	}
	_ = w.WriteMsg(m)
}
