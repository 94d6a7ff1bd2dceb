package integration_test

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"
	"golang.org/x/time/rate"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/integration"
	"github.com/btc-handshake/btc-handshake/internal/loopback"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// v2Garbage is the garbage our client sends in the specs that must pass
// every time. Our default is uniform over 0..4095, as Core's, and btcd's
// v2transport refuses exactly 4095 (see the spec on that defect): 1 run in
// 4096 would fail for a reason that spec already shows.
const v2Garbage = 1000

// btcdMaxV1Payload is btcd's wire.MaxProtocolMessageLength: a v1 header
// declaring more is refused before its magic is even looked at.
const btcdMaxV1Payload = 4_000_000

// newV2Pacer paces BIP324 handshakes that reach a btcd from one source.
// btcd v0.26.2 admits at most 2 per second per source /24, in bursts of 4
// (internal/inbound/admission.go), and closes a refused one having sent
// nothing: to a client that is a v1-only peer, and TransportAuto falls
// back to v1. Ours is slower and shallower than btcd's bucket because it
// is drawn a little before btcd's (which btcd draws once the first byte
// has arrived), so a handshake ours lets through always finds a token.
func newV2Pacer() *rate.Limiter {
	return rate.NewLimiter(rate.Every(600*time.Millisecond), 3)
}

// v2Lane is one way of running the btcd nodes of the v2 specs: one with
// --v2transport, one without.
type v2Lane struct {
	name   string
	v2, v1 func() integration.Node
	// admit returns the dialer of the next v2 handshake with the v2 node,
	// within btcd's admission: from a source of its own (process lane) or
	// once the pacer allows (Docker: every connection comes from the
	// bridge's gateway).
	admit func(ctx context.Context) contextDialer
	// hangUp is how btcd closing a connection whose input it left unread
	// reaches us: the kernel resets it (process lane), but Docker's
	// userland proxy in front of a published port (docker-proxy, on by
	// default) ends our side with a FIN whatever ended its own.
	hangUp handshake.Kind
}

// sourceAdmitter gives each handshake a loopback source /24 of its own
// (loopback.Sources, as the conformance probes do), so that
// none waits; where that is not possible (not Linux, not loopback) it
// paces them instead.
func sourceAdmitter(addr func() string) func(ctx context.Context) contextDialer {
	var n atomic.Int32
	pacer := newV2Pacer()
	return func(ctx context.Context) contextDialer {
		GinkgoHelper()
		local := loopback.Sources(addr())(int(n.Add(1)))
		if local == "" {
			Expect(pacer.Wait(ctx)).To(Succeed())
			return &net.Dialer{}
		}
		la, err := net.ResolveTCPAddr("tcp", local)
		Expect(err).NotTo(HaveOccurred())
		return &net.Dialer{LocalAddr: la}
	}
}

// pacedAdmitter makes each handshake wait for the pacer.
func pacedAdmitter() func(ctx context.Context) contextDialer {
	pacer := newV2Pacer()
	return func(ctx context.Context) contextDialer {
		GinkgoHelper()
		Expect(pacer.Wait(ctx)).To(Succeed())
		return &net.Dialer{}
	}
}

// headRecorder is a dialer that keeps the first 64 bytes written on each
// connection it opens: our v2 key, when the client starts with v2.
type headRecorder struct {
	d     contextDialer
	mu    sync.Mutex
	conns []*headConn
}

func (r *headRecorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := r.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	hc := &headConn{Conn: c}
	r.mu.Lock()
	r.conns = append(r.conns, hc)
	r.mu.Unlock()
	return hc, nil
}

// heads returns the first bytes written on each connection, in dial order.
func (r *headRecorder) heads() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]byte, len(r.conns))
	for i, c := range r.conns {
		c.mu.Lock()
		out[i] = append([]byte(nil), c.head...)
		c.mu.Unlock()
	}
	return out
}

type headConn struct {
	net.Conn
	mu   sync.Mutex
	head []byte
}

func (c *headConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if room := 64 - len(c.head); room > 0 {
		c.head = append(c.head, b[:min(room, len(b))]...)
	}
	c.mu.Unlock()
	return c.Conn.Write(b)
}

// v2Config is our client's configuration in the v2 specs.
func v2Config(t handshake.Transport, d contextDialer) handshake.Config {
	cfg := handshake.Config{Network: wire.Regtest, Transport: t, V2GarbageLen: v2Garbage,
		Timeout: 10 * time.Second}
	if d != nil {
		cfg.DialContext = d.DialContext
	}
	return cfg
}

// contextDialer dials connections; *net.Dialer is one.
type contextDialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// expectV2Session checks what a completed v2 handshake reports.
func expectV2Session(res *handshake.Result, garbage int) {
	GinkgoHelper()
	Expect(res).To(harness.CompleteHandshake())
	Expect(res.Transport).To(Equal(handshake.TransportV2))
	Expect(res.Fallback).To(BeFalse())
	Expect(res.SessionID).NotTo(Equal([32]byte{}), "a 32-byte session id")
	Expect(res.GarbageSent).To(Equal(garbage))
	// btcd picks its own garbage length uniformly in 0..4095.
	Expect(res.GarbageRecv).To(BeNumerically("<=", 4095))
	Expect(res.Peer.UserAgent).To(Equal(mockpeer.BtcdUserAgent))
	Expect(res.Timings.V2Key).To(BeNumerically(">", 0))
	Expect(res.Timings.V2VersionPacket).To(BeNumerically(">=", res.Timings.V2Terminator))
}

// isHangUp reports whether err is the peer ending the connection (a FIN
// or a reset) rather than a deadline.
func isHangUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// fakeV1Header is 64 bytes that stand for a v2 key to a v1-only btcd,
// which reads their first 24 as a v1 header: any magic but regtest's, and
// bytes 16..20 (the header's payload length) declaring declared bytes.
func fakeV1Header(declared uint32) []byte {
	key := make([]byte, 64)
	_, _ = rand.Read(key)
	copy(key[:4], []byte{0x00, 0x11, 0x22, 0x33}) // not regtest's fabfb5da
	binary.LittleEndian.PutUint32(key[16:20], declared)
	return key
}

// v2Specs are the BIP324 specs every lane passes against real btcd.
func v2Specs(l *v2Lane) {
	v2HandshakeSpecs(l)
	v2QuirkSpecs(l)
}

// v2HandshakeSpecs are the specs of v2, v1 and auto handshakes with a
// lane's two nodes.
func v2HandshakeSpecs(l *v2Lane) {
	It("completes a v2 handshake with our client (TransportV2), which getpeerinfo lists as a v2 connection", func(ctx SpecContext) {
		n := l.v2()
		ua := fmt.Sprintf("/btc-handshake-v2:%d/", mrand.Uint32())
		conn, err := l.admit(ctx).DialContext(ctx, "tcp", n.P2PAddr())
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		cfg := v2Config(handshake.TransportV2, nil)
		cfg.UserAgent = ua
		// Run, not Dial: the connection must stay open for getpeerinfo.
		res, err := handshake.Run(ctx, conn, cfg)
		Expect(err).NotTo(HaveOccurred())
		expectV2Session(res, v2Garbage)

		// btcd v0.26.2 reports the transport as v2_connection (its
		// btcjson.GetPeerInfoResult; Core's transport_protocol_type is absent).
		Eventually(n.PeerInfo).WithContext(ctx).Should(ContainElement(And(
			HaveField("SubVer", ua), HaveField("Inbound", true), HaveField("V2Connection", true),
			HaveField("Version", BeEquivalentTo(wire.ProtocolVersion)))))
		Expect(conn.Close()).To(Succeed())
		Eventually(n.PeerInfo).WithContext(ctx).ShouldNot(ContainElement(HaveField("SubVer", ua)))
	}, SpecTimeout(time.Minute))

	It("completes a v1 handshake with the same --v2transport node, which detects v1 from our first 16 bytes and lists it as such", func(ctx SpecContext) {
		n := l.v2()
		ua := fmt.Sprintf("/btc-handshake-v1:%d/", mrand.Uint32())
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", n.P2PAddr())
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		res, err := handshake.Run(ctx, conn, handshake.Config{Network: wire.Regtest, UserAgent: ua, Timeout: 10 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(harness.CompleteHandshake())
		Expect(res.Transport).To(Equal(handshake.TransportV1))
		Eventually(n.PeerInfo).WithContext(ctx).Should(ContainElement(And(
			HaveField("SubVer", ua), HaveField("V2Connection", false))))
	}, SpecTimeout(time.Minute))

	It("completes with v2 and no fallback when TransportAuto meets the --v2transport node", func(ctx SpecContext) {
		res, err := handshake.Dial(ctx, l.v2().P2PAddr(), v2Config(handshake.TransportAuto, l.admit(ctx)))
		Expect(err).NotTo(HaveOccurred())
		expectV2Session(res, v2Garbage)
	}, SpecTimeout(time.Minute))

	It("falls back to v1 when TransportAuto meets btcd without --v2transport, which hangs up on our key", func(ctx SpecContext) {
		rec := &headRecorder{d: &net.Dialer{}}
		cfg := v2Config(handshake.TransportAuto, rec)
		cfg.Timeout = 5 * time.Second
		res, err := handshake.Dial(ctx, l.v1().P2PAddr(), cfg)
		heads := rec.heads()
		Expect(heads).NotTo(BeEmpty())
		Expect(heads[0]).To(HaveLen(64), "our v2 key")
		// A v1-only btcd reads our key as a v1 header. Bytes 16..20 are
		// its payload length: above 4,000,000 (all but 1 key in 1074) btcd
		// refuses the header at once and hangs up having sent nothing,
		// which is Core's signal to retry with v1. Otherwise it waits for
		// that many bytes to discard them (wire.discardInput), silent,
		// until its 30 s negotiation timeout: nothing tells a client to
		// fall back, and it fails at its own deadline (see the next spec).
		if declared := binary.LittleEndian.Uint32(heads[0][16:20]); declared <= btcdMaxV1Payload {
			AddReportEntry("v2 key read as a plausible v1 length", fmt.Sprintf("declared %d: btcd waited", declared))
			Expect(res.Kind()).To(Equal(handshake.KindTimeout))
			Expect(res.Phase).To(Equal(handshake.PhaseV2))
			Expect(res.Fallback).To(BeFalse())
			return
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(harness.CompleteHandshake())
		Expect(res.Transport).To(Equal(handshake.TransportV1))
		Expect(res.Fallback).To(BeTrue())
		Expect(res.SessionID).To(Equal([32]byte{}))
		Expect(res.Peer.UserAgent).To(Equal(mockpeer.BtcdUserAgent))
		Expect(heads).To(HaveLen(2), "a v2 attempt, then a v1 connection")
		Expect(heads[1][:4]).To(Equal([]byte{0xfa, 0xbf, 0xb5, 0xda}), "the second connection starts with a v1 header (regtest magic)")
	}, SpecTimeout(time.Minute))

}

// v2QuirkSpecs are the specs of btcd's own v2 behaviour that our client
// meets: how a v1-only node reads a key, and its garbage terminator scan.
func v2QuirkSpecs(l *v2Lane) {
	It("without --v2transport, hangs up at once on a key whose bytes 16..20 exceed 4,000,000, and otherwise waits for that many bytes", func(ctx SpecContext) {
		var d net.Dialer
		read := func(conn net.Conn, within time.Duration) (int, error) {
			Expect(conn.SetReadDeadline(time.Now().Add(within))).To(Succeed())
			return conn.Read(make([]byte, 1))
		}

		// The common case: a length btcd refuses before it checks the magic.
		conn, err := d.DialContext(ctx, "tcp", l.v1().P2PAddr())
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		_, err = conn.Write(append(fakeV1Header(0xffffffff), make([]byte, 100)...))
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		n, err := read(conn, 5*time.Second)
		Expect(n).To(BeZero(), "btcd sent something")
		Expect(isHangUp(err)).To(BeTrue(), "btcd did not hang up: %v", err)
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))

		// A length btcd accepts: it discards that many bytes before it
		// reacts to the wrong magic, and says nothing meanwhile.
		const declared = 1000
		conn2, err := d.DialContext(ctx, "tcp", l.v1().P2PAddr())
		Expect(err).NotTo(HaveOccurred())
		defer conn2.Close()
		first := append(fakeV1Header(declared), make([]byte, 100)...)
		_, err = conn2.Write(first)
		Expect(err).NotTo(HaveOccurred())
		n, err = read(conn2, time.Second)
		Expect(n).To(BeZero())
		Expect(err).To(MatchError(os.ErrDeadlineExceeded), "btcd should still be waiting for the declared payload")
		_, err = conn2.Write(make([]byte, 24+declared-len(first)))
		Expect(err).NotTo(HaveOccurred())
		n, err = read(conn2, 5*time.Second)
		Expect(n).To(BeZero())
		Expect(isHangUp(err)).To(BeTrue(), "btcd did not hang up once the declared payload arrived: %v", err)
	}, SpecTimeout(time.Minute))

	It("completes with 4094 bytes of our garbage but fails with 4095: btcd's terminator scan stops one byte short", func(ctx SpecContext) {
		cfg := v2Config(handshake.TransportV2, l.admit(ctx))
		cfg.V2GarbageLen = 4094
		res, err := handshake.Dial(ctx, l.v2().P2PAddr(), cfg)
		Expect(err).NotTo(HaveOccurred())
		expectV2Session(res, 4094)

		cfg = v2Config(handshake.TransportV2, l.admit(ctx))
		cfg.V2GarbageLen = 4095
		res, err = handshake.Dial(ctx, l.v2().P2PAddr(), cfg)
		AddReportEntry("4095 bytes of garbage against btcd ("+l.name+")",
			fmt.Sprintf("kind %s, phase %s, after %v: %v", res.Kind(), res.Phase, res.Timings.Total, err))
		// btcd sends its key, garbage, terminator and version packet, then
		// reads our garbage one byte at a time looking for our terminator:
		// after 16 + 4095 bytes (the garbage and the whole terminator) its
		// loop ends before it compares the last 16, and it closes with
		// errGarbageTermNotRecv. Our version packet and version are still
		// unread in its socket, so the kernel answers the close with a reset
		// (RFC 2525, 2.17), which Docker's proxy turns into a FIN (l.hangUp).
		// We are by then past the v2 handshake, waiting for btcd's version.
		Expect(err).To(HaveOccurred())
		Expect(res.GarbageSent).To(Equal(4095))
		Expect(res.Transport).To(Equal(handshake.TransportV2))
		Expect(res.Fallback).To(BeFalse())
		Expect(res.Kind()).To(Equal(l.hangUp))
		Expect(res.Phase).To(Equal(handshake.PhaseVersion))
		Expect(res.Timings.Total).To(BeNumerically("<", time.Second), "btcd fails at once, not by a timeout")
	}, SpecTimeout(time.Minute))
}

var _ = Describe("v2: btcd with and without --v2transport as local processes", Label("process", "e2e"), Ordered, func() {
	var v2node, v1node *integration.Process
	l := &v2Lane{
		name:   "process",
		v2:     func() integration.Node { return v2node },
		v1:     func() integration.Node { return v1node },
		hangUp: handshake.KindReset,
	}
	l.admit = sourceAdmitter(func() string { return v2node.P2PAddr() })

	BeforeAll(func(ctx SpecContext) {
		var err error
		v2node, err = integration.StartBtcd(ctx, "", integration.WithV2Transport(true), integration.WithLogOutput(GinkgoWriter))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(v2node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		v1node, err = integration.StartBtcd(ctx, "", integration.WithLogOutput(GinkgoWriter))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(v1node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	}, NodeTimeout(5*time.Minute))

	v2Specs(l)

	// Last: on a machine where sources cannot be bound, admit paces
	// instead, and this burst empties the bucket the pacer assumes full.
	It("refuses v2 handshakes from one source beyond its burst of 4, closing them having sent nothing, which TransportAuto takes for a v1-only peer", func(ctx SpecContext) {
		dialer := l.admit(ctx)
		results := make([]*handshake.Result, 6) // under btcd's 8 unfinished handshakes per source
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				results[i], _ = handshake.Dial(ctx, v2node.P2PAddr(), v2Config(handshake.TransportAuto, dialer))
			})
		}
		wg.Wait()
		v2, fellBack := 0, 0
		for _, res := range results {
			Expect(res).To(harness.CompleteHandshake())
			if res.Fallback {
				Expect(res.Transport).To(Equal(handshake.TransportV1))
				fellBack++
				continue
			}
			Expect(res.Transport).To(Equal(handshake.TransportV2))
			v2++
		}
		AddReportEntry("a burst of 6 auto handshakes from one source", fmt.Sprintf("%d v2, %d fell back to v1", v2, fellBack))
		// The burst, and at most one token refilled while they connect.
		Expect(v2).To(And(BeNumerically(">=", 1), BeNumerically("<=", 5)), "v2 handshakes admitted")
		Expect(fellBack).To(BeNumerically(">=", 1), "refused handshakes retried with v1")
	}, SpecTimeout(time.Minute))
})

var _ = Describe("v2: btcd with and without --v2transport in Docker containers", Label("docker", "e2e"), Ordered, func() {
	var v2node, v1node *integration.Container
	l := &v2Lane{
		name: "docker",
		v2:   func() integration.Node { return v2node },
		v1:   func() integration.Node { return v1node },
		// Every connection reaches the container from the bridge's gateway.
		admit:  pacedAdmitter(),
		hangUp: handshake.KindPeerClosed,
	}

	BeforeAll(func(ctx SpecContext) {
		requireDocker(ctx)
		img := btcdImage()
		// Started side by side: the wall time of one start, not two.
		var wg sync.WaitGroup
		var err2, err1 error
		var c2, c1 *integration.Container
		wg.Go(func() {
			c2, err2 = integration.RunBtcd(ctx, img, integration.WithRunID(suite.RunID), integration.WithV2Transport(true))
		})
		wg.Go(func() { c1, err1 = integration.RunBtcd(ctx, img, integration.WithRunID(suite.RunID)) })
		wg.Wait()
		DeferCleanup(func(ctx SpecContext) { Expect(c2.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		DeferCleanup(func(ctx SpecContext) { Expect(c1.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
		Expect(err2).NotTo(HaveOccurred())
		Expect(err1).NotTo(HaveOccurred())
		v2node, v1node = c2, c1
	}, NodeTimeout(5*time.Minute))

	v2Specs(l)
})

// v2FaultTimeout is our client's handshake timeout in the v2 fault lane:
// the node's key and up to 4095 bytes of garbage sliced into 1-byte
// segments take a good part of a second through toxiproxy.
const v2FaultTimeout = 3 * time.Second

var _ = Describe("v2 fault lane: our v2 client through an embedded toxiproxy to btcd --v2transport", Label("fault", "e2e"), Ordered, func() {
	var node *integration.Process
	// Every connection reaches btcd from the proxy's one source.
	pacer := newV2Pacer()

	BeforeAll(func(ctx SpecContext) {
		var err error
		node, err = integration.StartBtcd(ctx, "", integration.WithV2Transport(true), integration.WithLogOutput(GinkgoWriter))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(node.Stop(ctx)).To(Succeed()) }, NodeTimeout(time.Minute))
	}, NodeTimeout(5*time.Minute))

	DescribeTable("the v2 client's outcome matches the verdict, within the deadline",
		func(ctx SpecContext, addFaults func(*integration.FaultProxy) error, want scenarios.Verdict, check func(*handshake.Result)) {
			goroutines := gleak.Goroutines()
			proxy, err := integration.StartFaultProxy(node.P2PAddr())
			Expect(err).NotTo(HaveOccurred())
			Expect(addFaults(proxy)).To(Succeed())
			Expect(pacer.Wait(ctx)).To(Succeed())
			// TransportV2, not auto: a fault before the node's key must
			// show as itself, not turn into a v1 retry.
			cfg := v2Config(handshake.TransportV2, nil)
			cfg.Timeout = v2FaultTimeout
			res, _ := handshake.Dial(ctx, proxy.Addr(), cfg)
			o := harness.FromResult(res)
			Expect(o.Judge(want, v2FaultTimeout+time.Second)).To(BeEmpty(), "outcome: %+v", o)
			Expect(res.Transport).To(Equal(handshake.TransportV2))
			Expect(res.Fallback).To(BeFalse())
			if check != nil {
				check(res)
			}
			Expect(proxy.Close()).To(Succeed())
			expectNoLeakedGoroutines(goroutines, toxiproxyStuck...)
		},
		Entry("150 ms of latency each way: completes, the key exchange after one round trip",
			func(p *integration.FaultProxy) error {
				return errors.Join(p.ToNode().Delay(150*time.Millisecond, 0), p.Delay(150*time.Millisecond, 0))
			},
			scenarios.Completes(), func(res *handshake.Result) {
				Expect(res.Timings.V2Key).To(BeNumerically(">=", 300*time.Millisecond))
				Expect(res.Timings.Version).To(BeNumerically(">=", 600*time.Millisecond))
			}),
		Entry("the node's key, garbage and packets in 1-byte segments: completes",
			func(p *integration.FaultProxy) error { return p.Slice(1, 0, 20*time.Microsecond) },
			scenarios.Completes(), func(res *handshake.Result) {
				expectV2Session(res, v2Garbage)
			}),
		Entry("our key, garbage and packets in 1-byte segments: completes",
			func(p *integration.FaultProxy) error { return p.ToNode().Slice(1, 0, 20*time.Microsecond) },
			scenarios.Completes(), func(res *handshake.Result) {
				expectV2Session(res, v2Garbage)
			}),
		Entry("a reset as soon as our key passes: connection-reset in the v2 handshake",
			func(p *integration.FaultProxy) error { return p.ToNode().Reset(0) },
			scenarios.Fails(string(handshake.KindReset), string(handshake.PhaseV2)), nil),
		Entry("a reset as soon as the node's key comes: connection-reset in the v2 handshake",
			func(p *integration.FaultProxy) error { return p.Reset(0) },
			scenarios.Fails(string(handshake.KindReset), string(handshake.PhaseV2)), nil),
		Entry("the node's answer dropped, the connection closed after 300 ms: peer-closed in the v2 handshake",
			func(p *integration.FaultProxy) error { return p.Stall(300 * time.Millisecond) },
			scenarios.Fails(string(handshake.KindPeerClosed), string(handshake.PhaseV2)), func(res *handshake.Result) {
				Expect(res.Timings.Total).To(BeNumerically("<", v2FaultTimeout))
			}),
		Entry("the node's answer dropped, the connection held: timeout in the v2 handshake",
			func(p *integration.FaultProxy) error { return p.Stall(0) },
			scenarios.Fails(string(handshake.KindTimeout), string(handshake.PhaseV2)), func(res *handshake.Result) {
				Expect(res.Timings.Total).To(BeNumerically(">=", v2FaultTimeout))
			}),
	)
})
