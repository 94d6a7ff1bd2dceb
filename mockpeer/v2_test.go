package mockpeer_test

import (
	"context"
	"io"
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

func dialV2(addr string, t handshake.Transport, garbage int) (*handshake.Result, error) {
	return handshake.Dial(context.Background(), addr, handshake.Config{Network: wire.Regtest, Transport: t,
		V2GarbageLen: garbage, Timeout: 2 * time.Second})
}

func commandsIn(recs []mockpeer.Record) []string {
	var out []string
	for _, r := range recs {
		if !r.Out && r.Command != "" {
			out = append(out, r.Command)
		}
	}
	return out
}

var _ = Describe("the v2 transport", func() {
	It("CoreResponder speaks v2 to a v2 client and v1 to a v1 client, on the same server", func() {
		srv := serveProfile(mockpeer.CoreResponder())
		res, err := dialV2(srv.Addr(), handshake.TransportV2, 100)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Transport).To(Equal(handshake.TransportV2))
		Expect(res.Peer.Services & wire.NodeP2PV2).NotTo(BeZero())
		res, err = dialV2(srv.Addr(), handshake.TransportV1, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Transport).To(Equal(handshake.TransportV1))
		Eventually(srv.Finished).Should(Equal(2))
		Expect(commandsIn(srv.ConnTranscript(0))).To(ContainElements("version", "verack"))
		Expect(srv.ConnTranscript(0)).To(ContainElement(HaveField("Event", mockpeer.EventV2)))
		Expect(srv.ConnTranscript(1)).NotTo(ContainElement(HaveField("Event", mockpeer.EventV2)))
	})

	DescribeTable("answers a key as Core cuts its segments: all at once when the key came whole, key and garbage first when it came in parts",
		func(split int, wantFirstWhole bool) {
			// The spec ends before our side of the handshake does: the
			// mock's unfinished V2Accept is not a failure here.
			srv := mockpeer.NewServer(mockpeer.WithNetwork(wire.Regtest), mockpeer.WithFailHandler(func(string, ...int) {}))
			DeferCleanup(srv.Close)
			srv.SetDefaultScript(mockpeer.NewScript("v2-segments", mockpeer.V2Handshake(mockpeer.V2{Garbage: 10}), mockpeer.HoldOpen()))
			key, err := bip324.NewKey()
			Expect(err).NotTo(HaveOccurred())
			nc, err := net.Dial("tcp", srv.Addr())
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(nc.Close)
			Expect(nc.SetDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
			_, err = nc.Write(key.EllSwift[:split])
			Expect(err).NotTo(HaveOccurred())
			if split < bip324.KeyLen {
				// The mock has taken the first bytes for a v2 start and
				// sent its key and garbage: then the rest of ours.
				buf := make([]byte, bip324.KeyLen+10)
				_, err = io.ReadFull(nc, buf)
				Expect(err).NotTo(HaveOccurred())
				_, err = nc.Write(key.EllSwift[split:])
				Expect(err).NotTo(HaveOccurred())
			}
			var raw []mockpeer.Record
			Eventually(func() []mockpeer.Record {
				raw = nil
				for _, r := range srv.ConnTranscript(0) {
					if r.Out && r.Raw {
						raw = append(raw, r)
					}
				}
				return raw
			}).Should(HaveLen(2 - boolInt(wantFirstWhole)))
			answer := bip324.KeyLen + 10 + bip324.TerminatorLen + bip324.Expansion
			if wantFirstWhole {
				Expect(raw[0].Size).To(Equal(answer))
			} else {
				Expect(raw[0].Size).To(Equal(bip324.KeyLen + 10))
				Expect(raw[1].Size).To(Equal(bip324.TerminatorLen + bip324.Expansion))
			}
		},
		Entry("the whole key in one write (Core: one 180-byte segment for the v2-key probe)", bip324.KeyLen, true),
		Entry("16 bytes, then the rest once the mock has answered", 16, false),
	)

	It("with -v2transport=0 closes on a key, and auto falls back to v1", func() {
		srv := serveProfile(mockpeer.CoreResponder().V2Transport(nil))
		res, err := dialV2(srv.Addr(), handshake.TransportAuto, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Transport).To(Equal(handshake.TransportV1))
		Expect(res.Fallback).To(BeTrue())
		Expect(res.Peer.Services & wire.NodeP2PV2).To(BeZero())
	})

	It("closes on another network's v1 header, as Core does", func() {
		srv := serveProfile(mockpeer.CoreResponder())
		res, _ := handshake.Dial(context.Background(), srv.Addr(), handshake.Config{Network: wire.Testnet4, Timeout: time.Second})
		Expect(res.Kind()).To(BeElementOf(handshake.KindPeerClosed, handshake.KindReset))
	})

	It("btcd with --v2transport misses the terminator after exactly 4095 bytes of garbage", func() {
		srv := serveProfile(mockpeer.BtcdResponder().V2Transport(&mockpeer.V2{RandomGarbage: true}))
		res, err := dialV2(srv.Addr(), handshake.TransportV2, 4094)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Peer.Services & wire.NodeP2PV2).NotTo(BeZero())
		_, err = dialV2(srv.Addr(), handshake.TransportV2, 4095)
		Expect(err).To(HaveOccurred())
	})

	It("varies the handshake step by step, and crosses the rekey interval", func() {
		srv := newServer()
		srv.SetDefaultScript(mockpeer.NewScript("v2-knobs",
			mockpeer.V2Handshake(mockpeer.V2{Garbage: 4095, DecoysBefore: 2, DecoysAfter: 3, DecoySize: 40, VersionContents: []byte("future")}),
			mockpeer.Expect(wire.CmdVersion), mockpeer.ReplyVersion(nil),
			mockpeer.Send(bip324.Packet{Contents: []byte{0, 'w', 'h', 'a', 't', 0, 0, 0, 0, 0, 0, 0, 0}}),
			mockpeer.Send(burstOf(300)...).Coalesced(),
			mockpeer.Send(wire.Verack{}), mockpeer.Expect(wire.CmdVerack), mockpeer.HoldOpen()))
		res, err := dialV2(srv.Addr(), handshake.TransportV2, 0)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.GarbageRecv).To(Equal(4095))
		Expect(res.Decoys).To(Equal(5))
		// The client completes on the mock's verack and hangs up: the
		// script reads its verack and ends on its own before Close.
		Eventually(srv.Finished).Should(Equal(1))
	})

	It("plays the initiator with Dial, against its own responder", func() {
		srv := serveProfile(mockpeer.CoreResponder())
		sess, err := mockpeer.Dial(context.Background(), srv.Addr(), mockpeer.NewScript("v2-initiator",
			mockpeer.V2Handshake(mockpeer.V2{Garbage: 10}),
			mockpeer.ReplyVersion(nil), mockpeer.Expect(wire.CmdVersion), mockpeer.Expect(wire.CmdVerack),
			mockpeer.Send(wire.Verack{}), mockpeer.Expect(wire.CmdPing)))
		Expect(err).NotTo(HaveOccurred())
		Expect(commandsIn(sess.Transcript())).To(ContainElements("version", "wtxidrelay", "sendaddrv2", "verack", "sendcmpct", "ping"))
	})

	It("refuses a packet declaring more than Core's limit before reading it", func() {
		srv := serveProfile(mockpeer.CoreResponder())
		sess, err := mockpeer.Dial(context.Background(), srv.Addr(), mockpeer.NewScript("v2-oversized",
			mockpeer.V2Handshake(mockpeer.V2{}),
			mockpeer.Send(bip324.Packet{Declared: 1<<24 - 1}),
			mockpeer.Do((*mockpeer.Conn).ExpectClosed).Within(time.Second)))
		Expect(err).NotTo(HaveOccurred())
		Expect(sess.Transcript()).NotTo(BeEmpty())
	})

	It("a v1-only responder that hangs on a key keeps the connection", func() {
		srv := serveProfile(mockpeer.CoreResponder().V2Transport(nil).OnBroken(mockpeer.Reply()))
		nc, err := net.Dial("tcp", srv.Addr())
		Expect(err).NotTo(HaveOccurred())
		defer nc.Close()
		k, _ := bip324.NewKey()
		_, err = nc.Write(k.EllSwift[:])
		Expect(err).NotTo(HaveOccurred())
		_ = nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err = nc.Read(make([]byte, 1))
		Expect(err).To(MatchError(ContainSubstring("timeout")))
	})
})

func burstOf(n int) []wire.Message {
	msgs := make([]wire.Message, n)
	for i := range msgs {
		msgs[i] = wire.Raw{Cmd: wire.CmdInv, Payload: append([]byte{1, 1, 0, 0, 0}, make([]byte, 32)...)}
	}
	return msgs
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
