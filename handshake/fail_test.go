package handshake_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// failure is one peer of the catalog the client must fail against.
type failure struct {
	peer  script
	cfg   func(*handshake.Config)
	kind  handshake.Kind
	phase handshake.Phase
	// msg, when set, must appear in the error message.
	msg   string
	check func(res *handshake.Result)
}

// expectFailure checks what every failed attempt must show.
func expectFailure(res *handshake.Result, err error, addr string, kind handshake.Kind, phase handshake.Phase) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred())
	Expect(errors.Is(err, kind)).To(BeTrue(), "want kind %s, got %v", kind, err)
	Expect(res).NotTo(BeNil())
	Expect(res.OK()).To(BeFalse())
	Expect(res.Err).To(BeIdenticalTo(err))
	Expect(res.Kind()).To(Equal(kind))
	Expect(res.Phase).To(Equal(phase))
	var he *handshake.Error
	Expect(errors.As(err, &he)).To(BeTrue())
	Expect(he.Phase).To(Equal(phase))
	Expect(he.Addr).To(Equal(addr))
	Expect(err.Error()).To(ContainSubstring(addr))
	Expect(err.Error()).To(ContainSubstring("phase " + string(phase)))
	rep := res.Report()
	Expect(rep.OK).To(BeFalse())
	Expect(rep.Error).NotTo(BeNil())
	Expect(rep.Error.Kind).To(Equal(kind))
}

var _ = Describe("Dial", func() {
	DescribeTable("fails with the right kind against",
		func(f failure) {
			p := startPeer(f.peer)
			cfg := handshake.Config{Timeout: generous}
			if f.cfg != nil {
				f.cfg(&cfg)
			}
			res, err := dial(p.Addr(), cfg)
			expectFailure(res, err, p.Addr(), f.kind, f.phase)
			if f.msg != "" {
				Expect(err.Error()).To(ContainSubstring(f.msg))
			}
			if f.check != nil {
				f.check(res)
			}
			Expect(p.next().err).NotTo(HaveOccurred())
		},
		Entry("a peer that hangs up before its version",
			failure{peer: func(pc *peerConn) error { return pc.await(wire.CmdVersion) },
				kind: handshake.KindPeerClosed, phase: handshake.PhaseVersion}),
		Entry("a peer that hangs up after its version, before verack",
			failure{peer: func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				if err := pc.send(peerVersion(70016)); err != nil {
					return err
				}
				return pc.await(wire.CmdVerack)
			}, kind: handshake.KindPeerClosed, phase: handshake.PhaseVerack,
				check: func(res *handshake.Result) {
					Expect(res.Peer).NotTo(BeNil(), "the version that did arrive is kept")
				}}),
		Entry("a peer that sends its version and shuts down its side (FIN)",
			failure{peer: func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				if err := pc.send(peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{}); err != nil {
					return err
				}
				if err := pc.conn.CloseWrite(); err != nil {
					return err
				}
				return pc.drain()
			}, kind: handshake.KindPeerClosed, phase: handshake.PhaseVerack}),
		Entry("a peer that stops in the middle of a frame",
			failure{peer: func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				return pc.write(frames(peerVersion(70016))[:50])
			}, kind: handshake.KindPeerClosed, phase: handshake.PhaseVersion}),
		Entry("a peer that never sends verack (timeout bounded by Timeout)",
			failure{peer: reply(peerVersion(70016)),
				cfg:  func(c *handshake.Config) { c.Timeout = 300 * time.Millisecond },
				kind: handshake.KindTimeout, phase: handshake.PhaseVerack,
				check: func(res *handshake.Result) {
					elapsed := res.Timings.Total - res.Timings.Connect
					Expect(elapsed).To(BeNumerically(">=", 300*time.Millisecond))
					Expect(elapsed).To(BeNumerically("<", 300*time.Millisecond+schedulingMargin))
				}}),
		Entry("a silent peer",
			failure{peer: silent,
				cfg:  func(c *handshake.Config) { c.Timeout = 300 * time.Millisecond },
				kind: handshake.KindTimeout, phase: handshake.PhaseVersion}),
		Entry("a testnet3 peer (wrong magic)",
			failure{peer: replyBytes(wire.AppendMessage(nil, wire.Testnet3, peerVersion(70016))),
				kind: handshake.KindBadMagic, phase: handshake.PhaseVersion, msg: "testnet3"}),
		Entry("a header declaring 0xFFFFFFFF bytes",
			failure{peer: replyBytes(wire.NewRawFrame(wire.Mainnet, peerVersion(70016)).WithLength(0xFFFFFFFF).Truncated(0).Bytes()),
				kind: handshake.KindOversized, phase: handshake.PhaseVersion}),
		Entry("a header declaring more than Config.MaxPayload",
			failure{peer: coreReply(70016),
				cfg:  func(c *handshake.Config) { c.MaxPayload = 50 },
				kind: handshake.KindOversized, phase: handshake.PhaseVersion}),
		Entry("a version below Core's minimum (31799 < 31800)",
			failure{peer: coreReply(31799), kind: handshake.KindVersionTooLow, phase: handshake.PhaseVersion, msg: "31799"}),
		Entry("a version below a configured MinPeerVersion",
			failure{peer: coreReply(70014), cfg: func(c *handshake.Config) { c.MinPeerVersion = 70015 },
				kind: handshake.KindVersionTooLow, phase: handshake.PhaseVersion, msg: "70015"}),
		Entry("a peer that echoes the nonce it read (self-connection)",
			failure{peer: func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				if err := pc.send(versionWith(70016, func(v *wire.Version) { v.Nonce = pc.version.Nonce }), wire.Verack{}); err != nil {
					return err
				}
				return pc.drain()
			}, kind: handshake.KindSelfConnection, phase: handshake.PhaseVersion}),
		Entry("a peer whose version carries Config.Nonce (self-connection)",
			failure{peer: reply(versionWith(70016, func(v *wire.Version) { v.Nonce = 0xc0ffee }), wire.Verack{}),
				cfg:  func(c *handshake.Config) { c.Nonce = func() uint64 { return 0xc0ffee } },
				kind: handshake.KindSelfConnection, phase: handshake.PhaseVersion, msg: "c0ffee"}),
		Entry("an HTTP response instead of a header",
			failure{peer: replyBytes([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")),
				kind: handshake.KindBadMagic, phase: handshake.PhaseVersion, msg: "HTTP"}),
		Entry("a connection reset (RST)",
			failure{peer: func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				return pc.reset()
			}, kind: handshake.KindReset, phase: handshake.PhaseVersion}),
		Entry("a truncated version (half an addr_from group)",
			failure{peer: reply(wire.Raw{Cmd: wire.CmdVersion, Payload: peerVersion(70016).AppendPayload(nil)[:46+10]}, wire.Verack{}),
				kind: handshake.KindMalformed, phase: handshake.PhaseVersion}),
		Entry("a version with a 257-byte user agent",
			failure{peer: reply(versionWith(70016, func(v *wire.Version) { v.UserAgent = strings.Repeat("x", 257) }), wire.Verack{}),
				kind: handshake.KindMalformed, phase: handshake.PhaseVersion, msg: "257"}),
	)

	It("fails, never OK, against a peer that closes right after its version", func() {
		// Whether the client sees FIN or RST depends on whether our verack
		// reached the peer before its close (unread data turns a close
		// into a reset); both are failures in the verack phase.
		p := startPeer(func(pc *peerConn) error {
			if err := pc.await(wire.CmdVersion); err != nil {
				return err
			}
			return pc.send(peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{})
		})
		res, err := dial(p.Addr(), handshake.Config{Timeout: generous})
		Expect(err).To(HaveOccurred())
		Expect(res.OK()).To(BeFalse())
		Expect(res.Kind()).To(BeElementOf(handshake.KindPeerClosed, handshake.KindReset))
		Expect(res.Phase).To(Equal(handshake.PhaseVerack))
		Expect(p.next().err).NotTo(HaveOccurred())
	})

	It("fails with dial when the port refuses connections", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		res, err := dial(addr, handshake.Config{Timeout: time.Second})
		expectFailure(res, err, addr, handshake.KindDial, handshake.PhaseConnect)
		Expect(res.Peer).To(BeNil())
		Expect(res.Transcript).To(BeEmpty())
	})

	It("fails with canceled when the context is cancelled mid-handshake", func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p := startPeer(func(pc *peerConn) error {
			if err := pc.await(wire.CmdVersion); err != nil {
				return err
			}
			cancel()
			return pc.drain()
		})
		res, err := handshake.Dial(ctx, p.Addr(), handshake.Config{Timeout: 10 * time.Second})
		expectFailure(res, err, p.Addr(), handshake.KindCanceled, handshake.PhaseVersion)
		Expect(errors.Is(err, context.Canceled)).To(BeTrue())
		Expect(res.Timings.Total).To(BeNumerically("<", schedulingMargin), "cancellation must not wait for the timeout")
		Expect(p.next().err).NotTo(HaveOccurred())
	})

	It("fails with canceled, without connecting, when the context is already cancelled", func() {
		p := startPeer(silent)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := handshake.Dial(ctx, p.Addr(), handshake.Config{Timeout: time.Second})
		expectFailure(res, err, p.Addr(), handshake.KindCanceled, handshake.PhaseConnect)
		Expect(p.accepted.Load()).To(BeZero())
	})

	It("fails with timeout when the context's deadline comes first", func() {
		p := startPeer(silent)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		res, err := handshake.Dial(ctx, p.Addr(), handshake.Config{Timeout: 10 * time.Second})
		expectFailure(res, err, p.Addr(), handshake.KindTimeout, handshake.PhaseVersion)
		deadline, _ := ctx.Deadline()
		Expect(res.Started.Add(res.Timings.Total)).To(BeTemporally(">=", deadline))
		Expect(res.Timings.Total).To(BeNumerically("<", 300*time.Millisecond+schedulingMargin))
	})

	It("allocates a few KB, not the declared 4 GB (or 4 MB), per oversized header", func() {
		header := wire.NewRawFrame(wire.Mainnet, peerVersion(70016)).WithLength(0xFFFFFFFF).Truncated(0).Bytes()
		cfg := handshake.Config{Timeout: generous}
		attempt := func() error {
			client, server := net.Pipe()
			done := make(chan struct{})
			go func() {
				defer close(done)
				r := wire.NewReader(server, wire.Mainnet)
				if _, err := r.Next(); err != nil {
					return
				}
				if _, err := server.Write(header); err != nil {
					return
				}
				var buf [64]byte
				for {
					if _, err := server.Read(buf[:]); err != nil {
						return
					}
				}
			}()
			_, err := handshake.Run(context.Background(), client, cfg)
			_ = client.Close()
			<-done
			_ = server.Close()
			return err
		}
		Expect(attempt()).To(MatchError(handshake.KindOversized))

		const n = 200
		errs := make([]error, 0, n)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			errs = append(errs, attempt())
		}
		runtime.ReadMemStats(&after)
		for _, err := range errs {
			Expect(err).To(MatchError(handshake.KindOversized))
		}
		perAttempt := (after.TotalAlloc - before.TotalAlloc) / n
		GinkgoWriter.Printf("oversized header: %d bytes allocated per attempt (client and pipe peer)\n", perAttempt)
		Expect(perAttempt).To(BeNumerically("<", 16<<10))
	})
})
