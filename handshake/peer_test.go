package handshake_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

// A small scripted peer for these specs only, older than mockpeer: it
// listens on 127.0.0.1:0, runs the script (plain Go over the connection)
// once per accepted connection in its own goroutine, and records what the
// client sent. Every write is one Write call, so the script decides the
// TCP write boundaries. Newer specs (conn_test.go, the examples) use
// mockpeer, which can play most of these scripts too; moving them over is
// left to do.

// peerIOTimeout is a safety net: a broken client must not hang a peer.
const peerIOTimeout = 5 * time.Second

type script func(pc *peerConn) error

type testPeer struct {
	ln       net.Listener
	script   script
	wg       sync.WaitGroup
	mu       sync.Mutex
	open     map[net.Conn]struct{}
	closed   bool
	finished chan *peerConn
	accepted atomic.Int64
}

// startPeer starts a peer that runs s on each connection; it is closed
// when the spec ends.
func startPeer(s script) *testPeer {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	p := &testPeer{ln: ln, script: s, open: map[net.Conn]struct{}{}, finished: make(chan *peerConn, 64)}
	p.wg.Add(1)
	go p.serve()
	DeferCleanup(p.Close)
	return p
}

func (p *testPeer) Addr() string { return p.ln.Addr().String() }

func (p *testPeer) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.open[c] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.handle(c.(*net.TCPConn))
	}
}

func (p *testPeer) handle(c *net.TCPConn) {
	defer p.wg.Done()
	// Each one-byte Write must leave as its own segment.
	_ = c.SetNoDelay(true)
	pc := &peerConn{conn: c, r: wire.NewReader(c, wire.Mainnet)}
	pc.err = p.script(pc)
	_ = c.Close()
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
	select {
	case p.finished <- pc:
	default:
	}
}

// Close stops accepting, closes open connections and waits for every
// goroutine of the peer.
func (p *testPeer) Close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.open {
		_ = c.Close()
	}
	p.mu.Unlock()
	_ = p.ln.Close()
	p.wg.Wait()
}

// next returns the next connection whose script has finished.
func (p *testPeer) next() *peerConn {
	GinkgoHelper()
	var pc *peerConn
	Eventually(p.finished).WithTimeout(3 * time.Second).Should(Receive(&pc))
	return pc
}

// peerConn is the peer's side of one connection.
type peerConn struct {
	conn *net.TCPConn
	r    *wire.Reader
	// got lists the commands received from the client, in order.
	got []string
	// version is the client's first version, decoded.
	version *wire.Version
	// pongs are the nonces of the pongs received.
	pongs []uint64
	err   error
}

// read returns the next message from the client and records it.
func (pc *peerConn) read() (string, []byte, error) {
	_ = pc.conn.SetReadDeadline(time.Now().Add(peerIOTimeout))
	f, err := pc.r.Next()
	if err != nil {
		return "", nil, err
	}
	cmd := f.Command()
	pc.got = append(pc.got, cmd)
	switch cmd {
	case wire.CmdVersion:
		v := new(wire.Version)
		if v.DecodePayload(f.Payload) == nil && pc.version == nil {
			pc.version = v
		}
	case wire.CmdPong:
		var m wire.Pong
		if m.DecodePayload(f.Payload) == nil {
			pc.pongs = append(pc.pongs, m.Nonce)
		}
	}
	return cmd, f.Payload, nil
}

// await reads until the client sends cmd.
func (pc *peerConn) await(cmd string) error {
	for {
		got, _, err := pc.read()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", cmd, err)
		}
		if got == cmd {
			return nil
		}
	}
}

// drain records everything the client sends until it hangs up.
func (pc *peerConn) drain() error {
	for {
		if _, _, err := pc.read(); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return nil
			}
			return fmt.Errorf("draining: %w", err)
		}
	}
}

// write sends b in one Write call.
func (pc *peerConn) write(b []byte) error {
	_ = pc.conn.SetWriteDeadline(time.Now().Add(peerIOTimeout))
	_, err := pc.conn.Write(b)
	return err
}

// send sends msgs as consecutive frames in one Write call.
func (pc *peerConn) send(msgs ...wire.Message) error { return pc.write(frames(msgs...)) }

// dribble sends b one byte per Write call (with TCP_NODELAY, one byte per
// segment).
func (pc *peerConn) dribble(b []byte) error {
	for i := range b {
		if err := pc.write(b[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

// trickle sends one byte of b per tick until b is sent or the client is
// gone (a failed write ends it quietly: dropping us is what is tested).
func (pc *peerConn) trickle(b []byte, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for i := range b {
		<-t.C
		if pc.write(b[i:i+1]) != nil {
			return
		}
	}
}

// reset closes the connection with an RST instead of a FIN.
func (pc *peerConn) reset() error {
	if err := pc.conn.SetLinger(0); err != nil {
		return err
	}
	return pc.conn.Close()
}

// frames encodes msgs as consecutive mainnet frames.
func frames(msgs ...wire.Message) []byte {
	var b []byte
	for _, m := range msgs {
		b = wire.AppendMessage(b, wire.Mainnet, m)
	}
	return b
}

// peerNonce is the nonce of every version our peers send.
const peerNonce = 0x1122334455667788

// peerVersion is a Bitcoin Core-like version at protocol pv.
func peerVersion(pv int32) *wire.Version {
	return &wire.Version{
		ProtocolVersion: pv,
		Services:        wire.NodeNetwork | wire.NodeWitness | wire.NodeNetworkLimited,
		Timestamp:       time.Now().Unix(),
		AddrRecv:        wire.NetAddress{IP: [16]byte{10: 0xff, 11: 0xff, 127, 0, 0, 1}, Port: 50000},
		Nonce:           peerNonce,
		UserAgent:       "/Satoshi:27.0.0/",
		StartHeight:     840000,
		Relay:           true,
	}
}

// reply is the usual start of a script: wait for the client's version,
// then send msgs in one write.
func reply(msgs ...wire.Message) script {
	return func(pc *peerConn) error {
		if err := pc.await(wire.CmdVersion); err != nil {
			return err
		}
		if err := pc.send(msgs...); err != nil {
			return err
		}
		return pc.drain()
	}
}

// coreReply answers like Bitcoin Core at protocol pv: version, the
// feature negotiation a common version ≥ 70016 calls for, and verack, in
// one write (PROTOCOL.md §3).
func coreReply(pv int32) script {
	msgs := []wire.Message{peerVersion(pv)}
	if pv >= wire.WtxidRelayVersion {
		msgs = append(msgs, wire.WtxidRelay{}, wire.SendAddrV2{})
	}
	return reply(append(msgs, wire.Verack{})...)
}

// silent reads the client's version and then only listens.
func silent(pc *peerConn) error {
	if err := pc.await(wire.CmdVersion); err != nil {
		return err
	}
	return pc.drain()
}
