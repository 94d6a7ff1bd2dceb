package handshake_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net"
	"runtime"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/peer"
	btcwire "github.com/btcsuite/btcd/wire/v2"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

func v2Config(garbage int) handshake.Config {
	return handshake.Config{Transport: handshake.TransportV2, V2GarbageLen: garbage, Timeout: 3 * time.Second}
}

func reportJSON(res *handshake.Result) map[string]any {
	GinkgoHelper()
	b, err := json.Marshal(res.Report())
	Expect(err).NotTo(HaveOccurred())
	var m map[string]any
	Expect(json.Unmarshal(b, &m)).To(Succeed())
	return m
}

var _ = Describe("the v2 transport (BIP324)", func() {
	It("completes a handshake with a v2 peer and reports the session", func() {
		session := make(chan [bip324.SessionIDLen]byte, 1)
		p := startPeer(v2Responder(v2Knobs{garbage: 0, session: session}))
		res, err := handshake.Dial(context.Background(), p.Addr(), v2Config(100))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.OK()).To(BeTrue())
		Expect(res.Transport).To(Equal(handshake.TransportV2))
		Expect(res.Fallback).To(BeFalse())
		var id [bip324.SessionIDLen]byte
		Eventually(session).Should(Receive(&id))
		Expect(res.SessionID).To(Equal(id))
		Expect(res.GarbageSent).To(Equal(100))
		Expect(res.GarbageRecv).To(Equal(0))
		Expect(res.Decoys).To(BeZero())
		t := res.Timings
		Expect(t.V2Key).To(BeNumerically(">", 0))
		Expect(t.V2Terminator).To(BeNumerically(">=", t.V2Key))
		Expect(t.V2VersionPacket).To(BeNumerically(">=", t.V2Terminator))
		Expect(t.Version).To(BeNumerically(">=", t.V2VersionPacket))
		Expect(t.Verack).To(BeNumerically(">=", t.Version))
		Expect(res.Peer.UserAgent).To(Equal("/Satoshi:27.0.0/"))
		Expect(p.next().got).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))

		m := reportJSON(res)
		Expect(m).To(HaveKeyWithValue("transport", "v2"))
		Expect(m).To(HaveKeyWithValue("fallback", false))
		Expect(m["v2"]).To(And(
			HaveKeyWithValue("session_id", hex.EncodeToString(id[:])),
			HaveKeyWithValue("garbage_sent", BeNumerically("==", 100)),
			HaveKeyWithValue("garbage_received", BeNumerically("==", 0)),
			HaveKeyWithValue("decoys", BeNumerically("==", 0))))
		Expect(m["timings"]).To(HaveKeyWithValue("v2_version_packet_ms", BeNumerically(">", 0)))
	})

	It("runs over an established connection (Run with auto is v2: it cannot reconnect)", func() {
		p := startPeer(v2Responder(v2Knobs{garbage: 7}))
		conn, err := net.Dial("tcp", p.Addr())
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		cfg := v2Config(1)
		cfg.Transport = handshake.TransportAuto
		res, err := handshake.Run(context.Background(), conn, cfg)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Transport).To(Equal(handshake.TransportV2))
		Expect(res.GarbageRecv).To(Equal(7))
	})

	It("reads the largest garbage, 4095 bytes, both ways (btcd's v2transport misses this terminator)", func() {
		p := startPeer(v2Responder(v2Knobs{garbage: bip324.MaxGarbageLen}))
		res, err := handshake.Dial(context.Background(), p.Addr(), v2Config(bip324.MaxGarbageLen))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.GarbageRecv).To(Equal(4095))
		Expect(res.GarbageSent).To(Equal(4095))
		Expect(p.next().err).NotTo(HaveOccurred())
	})

	It("skips decoys before and after the version packet and between messages, and counts them", func() {
		p := startPeer(v2Responder(v2Knobs{garbage: 33, decoysBefore: 2, decoysAfter: 3, decoysLater: 4}))
		res, err := handshake.Dial(context.Background(), p.Addr(), v2Config(0))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Decoys).To(Equal(9))
		Expect(res.Quirks).To(ContainElements(handshake.QuirkV2Decoy, handshake.QuirkV2DecoyBeforeVersionPacket))
	})

	It("fails with v2-decrypt when the first packet does not authenticate the garbage", func() {
		p := startPeer(v2Responder(v2Knobs{garbage: 20, tamperGarbage: true}))
		res, err := handshake.Dial(context.Background(), p.Addr(), v2Config(0))
		Expect(handshake.KindOf(err)).To(Equal(handshake.KindV2Decrypt))
		Expect(res.Phase).To(Equal(handshake.PhaseV2))
	})

	It("gives up on the terminator after 4095+16 bytes of garbage, without waiting for more", func() {
		p := startPeer(v2Responder(v2Knobs{garbage: bip324.MaxGarbageLen + bip324.TerminatorLen, noTerminator: true}))
		start := time.Now()
		res, err := handshake.Dial(context.Background(), p.Addr(), v2Config(0))
		Expect(handshake.KindOf(err)).To(Equal(handshake.KindV2NoTerminator))
		Expect(err.Error()).To(ContainSubstring("in 4111 bytes"))
		Expect(res.Phase).To(Equal(handshake.PhaseV2))
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second)) // the peer holds the connection: no timeout
	})

	It("refuses a packet declaring 16 MiB before allocating for it", func() {
		big := make([]byte, 0, 1<<24+64)
		p := startPeer(v2Responder(v2Knobs{oversized: big}))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		res, err := handshake.Dial(context.Background(), p.Addr(), v2Config(0))
		runtime.ReadMemStats(&after)
		Expect(handshake.KindOf(err)).To(Equal(handshake.KindV2Oversized))
		Expect(err.Error()).To(ContainSubstring("16777215 bytes declared"))
		Expect(res.Phase).To(Equal(handshake.PhaseVersion))
		Expect(after.TotalAlloc - before.TotalAlloc).To(BeNumerically("<", 1<<20))
	})

	It("refuses a packet over Config.MaxPayload", func() {
		p := startPeer(v2Responder(v2Knobs{}))
		cfg := v2Config(0)
		cfg.MaxPayload = 50 // the peer's version is over 100 bytes
		_, err := handshake.Dial(context.Background(), p.Addr(), cfg)
		Expect(handshake.KindOf(err)).To(Equal(handshake.KindV2Oversized))
	})

	Describe("auto", func() {
		It("reconnects with v1 when a v1-only peer hangs up on the key having sent nothing, as Core does", func() {
			p := startPeer(v1Only)
			cfg := v2Config(0)
			cfg.Transport = handshake.TransportAuto
			res, err := handshake.Dial(context.Background(), p.Addr(), cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.Transport).To(Equal(handshake.TransportV1))
			Expect(res.Fallback).To(BeTrue())
			Expect(p.accepted.Load()).To(BeEquivalentTo(2))
			Expect(p.next().got).To(Equal([]string{"v2-key"}))
			Expect(p.next().got).To(ContainElements("version", "verack"))
			m := reportJSON(res)
			Expect(m).To(HaveKeyWithValue("transport", "v1"))
			Expect(m).To(HaveKeyWithValue("fallback", true))
			Expect(m).NotTo(HaveKey("v2"))
		})

		It("does not fall back with v2 chosen: peer-closed in the v2 handshake, with a hint", func() {
			p := startPeer(v1Only)
			res, err := handshake.Dial(context.Background(), p.Addr(), v2Config(0))
			// It closes with our key unread: a FIN or, as here mostly, an RST.
			Expect(handshake.KindOf(err)).To(BeElementOf(handshake.KindPeerClosed, handshake.KindReset))
			Expect(err.Error()).To(ContainSubstring("v1-only peer?"))
			Expect(res.Phase).To(Equal(handshake.PhaseV2))
			Expect(res.Fallback).To(BeFalse())
			Expect(p.accepted.Load()).To(BeEquivalentTo(1))
		})

		It("gives no wrong-network hint when a v2 peer resets after our version (it answered our key: same network)", func() {
			srv := mockpeer.NewServer(mockpeer.WithNetwork(wire.Mainnet), mockpeer.WithFailHandler(func(string, ...int) {}))
			DeferCleanup(srv.Close)
			srv.SetDefaultScript(mockpeer.NewScript("v2-close-after-version",
				mockpeer.V2Handshake(mockpeer.V2{Garbage: 10}), mockpeer.Expect(wire.CmdVersion), mockpeer.Do((*mockpeer.Conn).Reset)))
			res, err := handshake.Dial(context.Background(), srv.Addr(), v2Config(0))
			Expect(handshake.KindOf(err)).To(BeElementOf(handshake.KindPeerClosed, handshake.KindReset))
			Expect(res.Transport).To(Equal(handshake.TransportV2))
			Expect(res.Phase).To(Equal(handshake.PhaseVersion))
			Expect(err.Error()).NotTo(ContainSubstring("another network"))
		})

		It("times out within the deadline, without falling back, when the peer hangs on the key", func() {
			p := startPeer(hangOnKey)
			cfg := v2Config(0)
			cfg.Transport = handshake.TransportAuto
			cfg.Timeout = 300 * time.Millisecond
			start := time.Now()
			res, err := handshake.Dial(context.Background(), p.Addr(), cfg)
			Expect(time.Since(start)).To(BeNumerically("<", 300*time.Millisecond+time.Second))
			Expect(handshake.KindOf(err)).To(Equal(handshake.KindTimeout))
			Expect(res.Phase).To(Equal(handshake.PhaseV2))
			Expect(res.Fallback).To(BeFalse())
			Expect(p.accepted.Load()).To(BeEquivalentTo(1))
		})
	})

	It("completes with btcd's own v2 peer (peer.Config.UsingV2Conn) as the responder", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ln.Close)
		verack := make(chan struct{}, 1)
		peers := make(chan *peer.Peer, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p := peer.NewInboundPeer(&peer.Config{
				UserAgentName: "btcd-v2-oracle", UserAgentVersion: "0.26.2",
				ChainParams: &chaincfg.MainNetParams, Services: btcwire.SFNodeNetwork | btcwire.SFNodeP2PV2,
				TrickleInterval: 10 * time.Second, UsingV2Conn: true,
				Listeners: peer.MessageListeners{OnVerAck: func(*peer.Peer, *btcwire.MsgVerAck) { verack <- struct{}{} }},
			})
			p.AssociateConnection(c)
			peers <- p
		}()
		// btcd's v2transport misses a terminator after 4095 bytes of
		// garbage (see bip324's specs): ours stays below.
		res, err := handshake.Dial(context.Background(), ln.Addr().String(), v2Config(1000))
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Transport).To(Equal(handshake.TransportV2))
		Expect(res.Peer.UserAgent).To(ContainSubstring("btcd-v2-oracle"))
		Eventually(verack).Should(Receive())
		var bp *peer.Peer
		Eventually(peers).Should(Receive(&bp))
		bp.Disconnect()
		bp.WaitForDisconnect()
	})
})

// wire is used by the fuzz target's seeds as well.
var _ = wire.Mainnet
