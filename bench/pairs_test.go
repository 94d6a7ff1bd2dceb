package bench_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/peer"
	btcwire "github.com/btcsuite/btcd/wire/v2"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// An impl is one implementation of both ends of a v1 handshake: a
// responder that listens on loopback and a client that completes a
// handshake with it and keeps the connection open.
type impl struct {
	name string
	// serve starts a responder on addr (host:port, port 0 for any).
	serve func(addr string) (responder, error)
	// hold dials addr, completes the handshake and returns what closes
	// the connection (and everything the client started for it).
	hold func(ctx context.Context, addr string) (io.Closer, error)
	// once dials, handshakes and closes.
	once func(ctx context.Context, addr string) error
}

type responder interface {
	Addr() string
	Close() error
	// quiesce waits until the responder has finished with every
	// connection it accepted (the clients having left), so that one
	// implementation's teardown is not timed as the next one's work.
	quiesce()
}

// implsFlag selects implementations, to profile one alone:
// go test ./bench -run '^$' -bench Handshake -args -impls=ours
var implsFlag = flag.String("impls", "ours,floor,btcd,floor-timeouts,floor-lean", "implementations the benchmarks compare (comma-separated)")

// impls are the implementations every figure compares: ours, the
// hand-written floor, btcd's peer package (unless -impls says otherwise).
func impls() []impl { return selectImpls(oursImpl(), floorImpl(), btcdImpl()) }

// handshakeImpls adds, for the throughput and latency figures, two
// variants of the floor: with the timeouts every client of ours must have
// (a dial timeout, a deadline on reads and writes), how much of the gap to
// the floor those cost; and with the socket settings ours uses (TCP
// keep-alive off at both ends, a plain TCP listener rather than Go's
// default Multipath TCP), how much of ours ÷ floor those make up. Their
// memory is the floor's.
func handshakeImpls() []impl {
	return append(impls(), selectImpls(floorTimeoutsImpl(), floorLeanImpl())...)
}

func selectImpls(ims ...impl) []impl {
	var out []impl
	for _, im := range ims {
		if im.once == nil {
			hold := im.hold
			im.once = func(ctx context.Context, addr string) error {
				c, err := hold(ctx, addr)
				if err != nil {
					return err
				}
				return c.Close()
			}
		}
		if slices.Contains(strings.Split(*implsFlag, ","), im.name) {
			out = append(out, im)
		}
	}
	return out
}

// ---- ours: handshake.Dial/Run against mockpeer's CoreResponder ----

// benchTimeout is the clients' handshake (and dial) timeout. It is long
// because this machine's loopback drops a SYN now and then under the
// benchmarks' churn (Docker's iptables rules make conntrack track loopback
// connections, 120 s past their close, in a table of 262,144), and the
// kernel retries it after 1 s, 2 s, 4 s, ...: a 5 s timeout failed a run
// of make bench. Rounds report medians, so such a straggler shows in the
// max latency, not in the rates.
const benchTimeout = 60 * time.Second

// oursConfig is the client configuration every figure of ours uses.
var oursConfig = handshake.Config{Network: wire.Regtest, Timeout: benchTimeout}

func oursImpl() impl { return oursImplWith(oursConfig) }

// oursImplWith is ours with cfg for the client (v1 or v2), against the
// Core mock of the v1 figures.
func oursImplWith(cfg handshake.Config) impl {
	return impl{
		name: "ours",
		serve: func(addr string) (responder, error) {
			srv, err := newMock(addr)
			if err != nil {
				return nil, err
			}
			return mockResponder{srv}, nil
		},
		hold: func(ctx context.Context, addr string) (io.Closer, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			if _, err := handshake.Run(ctx, conn, cfg); err != nil {
				_ = conn.Close()
				return nil, err
			}
			return conn, nil
		},
		once: func(ctx context.Context, addr string) error {
			_, err := handshake.Dial(ctx, addr, cfg)
			return err
		},
	}
}

// newMock starts a mock peer playing Bitcoin Core v30 without a handshake
// timeout, recording connection events only (its load-test mode). It
// writes each reply in one write, as the floor's responder does (and as the
// Core profile did when BENCHMARKS.md's figures were taken): the figures
// compare clients, so both responders must cost the same system calls.
// Core itself writes one message per segment (mockpeer.WriteEach).
func newMock(addr string) (*mockpeer.Server, error) {
	var srv *mockpeer.Server
	err := catchPanic(func() {
		srv = mockpeer.NewServer(mockpeer.WithAddr(addr), mockpeer.WithRecording(mockpeer.Recording{Frames: -1}))
	})
	if err != nil {
		return nil, err
	}
	srv.SetDefaultScript(mockpeer.CoreResponder().HandshakeTimeout(0).Coalesced().Script())
	return srv, nil
}

type mockResponder struct{ *mockpeer.Server }

// quiesce polls: a Server tells how many connections it accepted and
// finished, not when they change.
func (m mockResponder) quiesce() {
	if m.Finished() >= m.Accepted() {
		return
	}
	t := time.NewTicker(100 * time.Microsecond)
	defer t.Stop()
	for m.Finished() < m.Accepted() {
		<-t.C
	}
}

// catchPanic turns NewServer's panic (it cannot listen) into an error.
func catchPanic(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	f()
	return nil
}

// ---- the floor: the least a v1 handshake takes ----

// The floor is a hand-written v1 exchange with nothing but the exchange:
// frames encoded once up front, no deadlines, no checksum verification,
// no transcript. The client writes version, reads version and verack,
// writes verack; the responder reads version, writes version and verack
// in one write, reads verack, then waits for the client to leave.
var (
	floorVersion = wire.AppendMessage(nil, wire.Regtest, &wire.Version{
		ProtocolVersion: wire.ProtocolVersion, Nonce: 0x5eed, UserAgent: "/floor:0.1/", Relay: true})
	floorVerack      = wire.AppendMessage(nil, wire.Regtest, wire.Verack{})
	floorReply       = append(append([]byte(nil), floorVersion...), floorVerack...)
	floorMagic       = wire.Regtest.Magic()
	errFloorProtocol = errors.New("floor: unexpected frame")
)

// readFrames reads from r into buf until it holds one frame per command
// of want, in that order, and returns how many bytes it read.
func readFrames(r io.Reader, buf []byte, want ...string) (int, error) {
	have, off := 0, 0
	for _, cmd := range want {
		for {
			if have-off >= wire.HeaderSize {
				n := wire.HeaderSize + int(uint32(buf[off+16])|uint32(buf[off+17])<<8|uint32(buf[off+18])<<16|uint32(buf[off+19])<<24)
				if string(buf[off:off+4]) != string(floorMagic[:]) || n > len(buf) {
					return have, errFloorProtocol
				}
				if have-off >= n {
					name := buf[off+4 : off+16]
					if len(cmd) > len(name) || string(name[:len(cmd)]) != cmd || (len(cmd) < len(name) && name[len(cmd)] != 0) {
						return have, fmt.Errorf("%w: %q, want %s", errFloorProtocol, name, cmd)
					}
					off += n
					break
				}
			}
			if have == len(buf) {
				return have, errFloorProtocol
			}
			k, err := r.Read(buf[have:])
			have += k
			if err != nil {
				return have, err
			}
		}
	}
	return have, nil
}

type floorServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	idle  *sync.Cond // signalled when conns becomes empty
	conns map[net.Conn]struct{}
}

func floorImpl() impl {
	return impl{
		name:  "floor",
		serve: func(addr string) (responder, error) { return newFloorServer(addr) },
		hold:  floorHold,
		once: func(ctx context.Context, addr string) error {
			c, err := floorHold(ctx, addr)
			if err != nil {
				return err
			}
			return c.Close()
		},
	}
}

func floorHold(ctx context.Context, addr string) (io.Closer, error) {
	return floorHoldWith(ctx, &net.Dialer{}, addr)
}

func floorHoldWith(ctx context.Context, d *net.Dialer, addr string) (io.Closer, error) {
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	var buf [512]byte
	if _, err = conn.Write(floorVersion); err == nil {
		if _, err = readFrames(conn, buf[:], wire.CmdVersion, wire.CmdVerack); err == nil {
			_, err = conn.Write(floorVerack)
		}
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// floorTimeoutsImpl is the floor's exchange with a dial timeout and a
// deadline on its reads and writes, cleared at the end, as our client sets
// them (CONVENTIONS: every network read and write has a deadline); against
// the floor's responder.
func floorTimeoutsImpl() impl {
	return impl{
		name:  "floor-timeouts",
		serve: func(addr string) (responder, error) { return newFloorServer(addr) },
		hold: func(ctx context.Context, addr string) (io.Closer, error) {
			dctx, cancel := context.WithTimeout(ctx, benchTimeout)
			defer cancel()
			var d net.Dialer
			conn, err := d.DialContext(dctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			var buf [512]byte
			err = conn.SetDeadline(time.Now().Add(benchTimeout))
			if err == nil {
				if _, err = conn.Write(floorVersion); err == nil {
					if _, err = readFrames(conn, buf[:], wire.CmdVersion, wire.CmdVerack); err == nil {
						_, err = conn.Write(floorVerack)
					}
				}
			}
			if err == nil {
				err = conn.SetDeadline(time.Time{})
			}
			if err != nil {
				_ = conn.Close()
				return nil, err
			}
			return conn, nil
		},
	}
}

// floorLeanImpl is the floor's exchange with our socket settings: TCP
// keep-alive off on the dialer and the listener (four setsockopt calls
// per socket less), and a listener with plain TCP, not Multipath TCP.
func floorLeanImpl() impl {
	dialer := &net.Dialer{KeepAlive: -1}
	return impl{
		name: "floor-lean",
		serve: func(addr string) (responder, error) {
			lc := net.ListenConfig{KeepAlive: -1}
			lc.SetMultipathTCP(false)
			ln, err := lc.Listen(context.Background(), "tcp", addr)
			if err != nil {
				return nil, err
			}
			return startFloorServer(ln), nil
		},
		hold: func(ctx context.Context, addr string) (io.Closer, error) { return floorHoldWith(ctx, dialer, addr) },
	}
}

func newFloorServer(addr string) (*floorServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return startFloorServer(ln), nil
}

func startFloorServer(ln net.Listener) *floorServer {
	s := &floorServer{ln: ln, conns: map[net.Conn]struct{}{}}
	s.idle = sync.NewCond(&s.mu)
	s.wg.Add(1)
	go s.accept()
	return s
}

func (s *floorServer) Addr() string { return s.ln.Addr().String() }

func (s *floorServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.conns == nil { // closed
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *floorServer) serve(c net.Conn) {
	defer s.wg.Done()
	buf := make([]byte, 256)
	if _, err := readFrames(c, buf, wire.CmdVersion); err == nil {
		if _, err := c.Write(floorReply); err == nil {
			if _, err := readFrames(c, buf, wire.CmdVerack); err == nil {
				// Held: wait for the client to leave.
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
			}
		}
	}
	_ = c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	if len(s.conns) == 0 {
		s.idle.Broadcast()
	}
	s.mu.Unlock()
}

func (s *floorServer) quiesce() {
	s.mu.Lock()
	for len(s.conns) > 0 {
		s.idle.Wait()
	}
	s.mu.Unlock()
}

func (s *floorServer) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// ---- btcd's peer package on both ends ----

func btcdPeerConfig(onVerAck func()) *peer.Config {
	cfg := &peer.Config{
		UserAgentName:    "bench",
		UserAgentVersion: "0.1.0",
		ChainParams:      &chaincfg.RegressionNetParams,
		Services:         btcwire.SFNodeNetwork | btcwire.SFNodeWitness,
		TrickleInterval:  10 * time.Second,
		// Both ends live in this process and share btcd's table of sent
		// nonces; without this each would take the other for itself.
		AllowSelfConns: true,
	}
	if onVerAck != nil {
		cfg.Listeners.OnVerAck = func(*peer.Peer, *btcwire.MsgVerAck) { onVerAck() }
	}
	return cfg
}

// btcdServer accepts connections and hands each to an inbound
// peer.Peer, as btcd's server does.
type btcdServer struct {
	ln    net.Listener
	cfg   func() *peer.Config
	done  chan struct{}
	mu    sync.Mutex
	peers []*peer.Peer
}

func btcdImpl() impl {
	return impl{
		name:  "btcd",
		serve: func(addr string) (responder, error) { return newBtcdServer(addr) },
		hold:  btcdHold,
		once: func(ctx context.Context, addr string) error {
			c, err := btcdHold(ctx, addr)
			if err != nil {
				return err
			}
			return c.Close()
		},
	}
}

type btcdPeerCloser struct{ p *peer.Peer }

func (c btcdPeerCloser) Close() error {
	c.p.Disconnect()
	c.p.WaitForDisconnect()
	return nil
}

// errBtcdDisconnected: the peer went away before its verack.
var errBtcdDisconnected = errors.New("btcd peer disconnected before verack")

func btcdHold(ctx context.Context, addr string) (io.Closer, error) {
	return btcdHoldWith(ctx, addr, btcdPeerConfig)
}

// btcdHoldWith is btcdHold with the outbound peer's configuration from
// config (btcdPeerConfig or btcdV2PeerConfig).
func btcdHoldWith(ctx context.Context, addr string, config func(onVerAck func()) *peer.Config) (io.Closer, error) {
	verack := make(chan struct{}, 1)
	p, err := peer.NewOutboundPeer(config(func() {
		select {
		case verack <- struct{}{}:
		default:
		}
	}), addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	p.AssociateConnection(conn)
	select {
	case <-verack:
		return btcdPeerCloser{p}, nil
	case <-p.Done():
		select {
		case <-verack:
			return btcdPeerCloser{p}, nil
		default:
		}
		return nil, errBtcdDisconnected
	case <-ctx.Done():
		btcdPeerCloser{p}.Close()
		return nil, ctx.Err()
	}
}

func newBtcdServer(addr string) (*btcdServer, error) {
	return newBtcdServerWith(addr, func() *peer.Config { return btcdPeerConfig(nil) })
}

// newBtcdServerWith starts a btcdServer whose inbound peers are
// configured by cfg.
func newBtcdServerWith(addr string, cfg func() *peer.Config) (*btcdServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &btcdServer{ln: ln, cfg: cfg, done: make(chan struct{})}
	go s.accept()
	return s, nil
}

func (s *btcdServer) Addr() string { return s.ln.Addr().String() }

func (s *btcdServer) accept() {
	defer close(s.done)
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		p := peer.NewInboundPeer(s.cfg())
		p.AssociateConnection(c)
		s.mu.Lock()
		s.peers = append(s.peers, p)
		if len(s.peers)%1024 == 0 {
			s.forgetGone()
		}
		s.mu.Unlock()
	}
}

// forgetGone drops peers that have disconnected, without a goroutine per
// peer (which would count against btcd in the memory figures).
func (s *btcdServer) forgetGone() {
	live := s.peers[:0]
	for _, p := range s.peers {
		select {
		case <-p.Done():
		default:
			live = append(live, p)
		}
	}
	clear(s.peers[len(live):])
	s.peers = live
}

func (s *btcdServer) quiesce() {
	s.mu.Lock()
	peers := slices.Clone(s.peers)
	s.mu.Unlock()
	for _, p := range peers {
		p.WaitForDisconnect()
	}
	s.mu.Lock()
	s.forgetGone()
	s.mu.Unlock()
}

func (s *btcdServer) Close() error {
	err := s.ln.Close()
	<-s.done
	s.mu.Lock()
	peers := s.peers
	s.peers = nil
	s.mu.Unlock()
	for _, p := range peers {
		p.Disconnect()
		p.WaitForDisconnect()
	}
	return err
}

// loopbackAddr is 127.0.0.1 with an ephemeral port.
const loopbackAddr = "127.0.0.1:0"
