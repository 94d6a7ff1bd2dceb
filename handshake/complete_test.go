package handshake_test

import (
	"context"
	"net/netip"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// generous is the Timeout of specs that expect success: it only has to
// be far above a loopback handshake, even on a loaded machine.
const generous = 5 * time.Second

// dial runs handshake.Dial with a context that cannot outlive the spec.
func dial(addr string, cfg handshake.Config) (*handshake.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return handshake.Dial(ctx, addr, cfg)
}

// replyBytes waits for the client's version, then writes b in one write.
func replyBytes(b []byte) script {
	return func(pc *peerConn) error {
		if err := pc.await(wire.CmdVersion); err != nil {
			return err
		}
		if err := pc.write(b); err != nil {
			return err
		}
		return pc.drain()
	}
}

// versionWith is peerVersion(pv) changed by edit.
func versionWith(pv int32, edit func(v *wire.Version)) *wire.Version {
	v := peerVersion(pv)
	edit(v)
	return v
}

// completion is one peer of the catalog the client must complete against.
type completion struct {
	peer script
	cfg  func(*handshake.Config)
	// quirks are exactly the quirks expected, apart from
	// version-verack-coalesced when maybeCoalesced is set: whether a peer's
	// separate writes are read together depends on scheduling.
	quirks         []handshake.Quirk
	maybeCoalesced bool
	check          func(res *handshake.Result, pc *peerConn)
}

const coalesced = handshake.QuirkCoalescedVerack

var _ = Describe("Dial", func() {
	DescribeTable("completes against",
		func(c completion) {
			p := startPeer(c.peer)
			cfg := handshake.Config{Timeout: generous}
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			res, err := dial(p.Addr(), cfg)
			Expect(err).NotTo(HaveOccurred())
			Expect(res.OK()).To(BeTrue())
			Expect(res.Err).To(BeNil())
			Expect(res.Kind()).To(BeEmpty())
			Expect(res.Phase).To(Equal(handshake.PhaseDone))
			Expect(res.Peer).NotTo(BeNil())
			quirks := res.Quirks
			if c.maybeCoalesced {
				quirks = slices.DeleteFunc(slices.Clone(quirks), func(q handshake.Quirk) bool { return q == coalesced })
			}
			if len(c.quirks) == 0 {
				Expect(quirks).To(BeEmpty())
			} else {
				Expect(quirks).To(ConsistOf(c.quirks))
			}
			Expect(handshake.Quirks()).To(ContainElements(res.Quirks))

			pc := p.next()
			Expect(pc.err).NotTo(HaveOccurred())
			Expect(pc.got).To(ContainElement(wire.CmdVerack), "we must send verack")
			if c.check != nil {
				c.check(res, pc)
			}
		},
		Entry("Bitcoin Core 70016: version, wtxidrelay, sendaddrv2 and verack in ONE write",
			completion{peer: coreReply(70016), quirks: []handshake.Quirk{coalesced},
				check: func(res *handshake.Result, pc *peerConn) {
					Expect(res.NegotiatedVersion).To(Equal(int32(70016)))
					Expect(res.Peer.ProtocolVersion).To(Equal(int32(70016)))
					Expect(res.Peer.UserAgent).To(Equal("/Satoshi:27.0.0/"))
					Expect(res.Peer.Services).To(Equal(wire.NodeNetwork | wire.NodeWitness | wire.NodeNetworkLimited))
					Expect(res.Peer.StartHeight).To(Equal(int32(840000)))
					Expect(res.Peer.Nonce).To(Equal(uint64(peerNonce)))
					Expect(res.Peer.Relay).To(BeTrue())
					Expect(pc.got).To(Equal([]string{wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack}))
				}}),
		Entry("a peer whose verack comes only after ours (nothing coalesced)",
			completion{peer: func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				if err := pc.send(peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{}); err != nil {
					return err
				}
				if err := pc.await(wire.CmdVerack); err != nil {
					return err
				}
				if err := pc.send(wire.Verack{}); err != nil {
					return err
				}
				return pc.drain()
			}}),
		Entry("sendcmpct and sendheaders before verack",
			completion{peer: reply(peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{},
				wire.SendCmpct{Version: 2}, wire.SendHeaders{}, wire.Verack{}),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkSendCmpctBeforeVerack, handshake.QuirkSendHeadersBeforeVerack}}),
		Entry("a 70012 peer (no wtxidrelay or sendaddrv2 from us)",
			completion{peer: coreReply(70012), quirks: []handshake.Quirk{coalesced, handshake.QuirkOldProtocol},
				check: func(res *handshake.Result, pc *peerConn) {
					Expect(res.NegotiatedVersion).To(Equal(int32(70012)))
					Expect(pc.got).To(Equal([]string{wire.CmdVersion, wire.CmdVerack}))
				}}),
		Entry("a 70015 peer (no wtxidrelay or sendaddrv2 from us)",
			completion{peer: coreReply(70015), quirks: []handshake.Quirk{coalesced, handshake.QuirkOldProtocol},
				check: func(res *handshake.Result, pc *peerConn) {
					Expect(res.NegotiatedVersion).To(Equal(int32(70015)))
					Expect(pc.got).To(Equal([]string{wire.CmdVersion, wire.CmdVerack}))
				}}),
		Entry("a 70016 peer when we announce 70015",
			completion{peer: coreReply(70016), quirks: []handshake.Quirk{coalesced},
				cfg: func(c *handshake.Config) { c.ProtocolVersion = 70015 },
				check: func(res *handshake.Result, pc *peerConn) {
					Expect(res.NegotiatedVersion).To(Equal(int32(70015)))
					Expect(pc.version.ProtocolVersion).To(Equal(int32(70015)))
					Expect(pc.got).To(Equal([]string{wire.CmdVersion, wire.CmdVerack}))
				}}),
		Entry("a newer peer (70017 is treated as 70016)",
			completion{peer: coreReply(70017), quirks: []handshake.Quirk{coalesced, handshake.QuirkNewerProtocol},
				check: func(res *handshake.Result, pc *peerConn) {
					Expect(res.NegotiatedVersion).To(Equal(int32(70016)))
					Expect(pc.got).To(Equal([]string{wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack}))
				}}),
		Entry("a peer that writes one byte at a time",
			completion{peer: func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				if err := pc.dribble(frames(peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{})); err != nil {
					return err
				}
				return pc.drain()
			}, maybeCoalesced: true,
				check: func(res *handshake.Result, _ *peerConn) {
					Expect(res.Peer.UserAgent).To(Equal("/Satoshi:27.0.0/"))
					Expect(res.Peer.StartHeight).To(Equal(int32(840000)))
				}}),
		Entry("a peer that sends verack before its version",
			completion{peer: reply(wire.Verack{}, peerVersion(70016)),
				quirks: []handshake.Quirk{handshake.QuirkVerackBeforeVersion}}),
		Entry("unknown commands and a ping before verack: no pong until the handshake is done",
			completion{peer: func(pc *peerConn) error {
				if err := pc.await(wire.CmdVersion); err != nil {
					return err
				}
				if err := pc.send(wire.Raw{Cmd: "hello"}, peerVersion(70016), wire.Raw{Cmd: "whatever", Payload: []byte{1, 2, 3}},
					wire.Ping{Nonce: 1}, wire.Verack{}); err != nil {
					return err
				}
				// After the handshake a ping must be answered (the
				// client lingers); the early one never.
				if err := pc.await(wire.CmdVerack); err != nil {
					return err
				}
				if err := pc.send(wire.Ping{Nonce: 2}); err != nil {
					return err
				}
				return pc.await(wire.CmdPong)
			},
				cfg: func(c *handshake.Config) { c.Linger = 10 * time.Second },
				quirks: []handshake.Quirk{coalesced, handshake.QuirkMessageBeforeVersion,
					handshake.QuirkUnexpectedBeforeVerack, handshake.QuirkPingBeforeVerack},
				check: func(res *handshake.Result, pc *peerConn) {
					Expect(pc.pongs).To(Equal([]uint64{2}))
					Expect(res.Timings.Total).To(BeNumerically("<", 5*time.Second), "linger ends when the peer hangs up, not after Linger")
				}}),
		Entry("a minimal 46-byte version",
			completion{peer: reply(versionWith(70016, func(v *wire.Version) { v.Tail = wire.TailMinimal }), wire.Verack{}),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkVersionShort},
				check: func(res *handshake.Result, _ *peerConn) {
					Expect(res.Peer.Relay).To(BeTrue(), "absent relay means true")
					Expect(res.Peer.UserAgent).To(BeEmpty())
					Expect(res.Transcript).To(ContainElement(SatisfyAll(
						HaveField("Received", true), HaveField("Command", wire.CmdVersion), HaveField("Size", 46))))
				}}),
		Entry("a version without the relay byte",
			completion{peer: reply(versionWith(70016, func(v *wire.Version) { v.Tail = wire.TailNoRelay; v.Relay = false }), wire.Verack{}),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkVersionNoRelay},
				check: func(res *handshake.Result, _ *peerConn) {
					Expect(res.Peer.Relay).To(BeTrue(), "absent relay means true")
					Expect(res.Peer.StartHeight).To(Equal(int32(840000)))
				}}),
		Entry("a peer that sends relay=false",
			completion{peer: reply(versionWith(70016, func(v *wire.Version) { v.Relay = false }), wire.Verack{}),
				quirks: []handshake.Quirk{coalesced},
				check:  func(res *handshake.Result, _ *peerConn) { Expect(res.Peer.Relay).To(BeFalse()) }}),
		Entry("a duplicate version (the first one counts)",
			completion{peer: reply(peerVersion(70016),
				versionWith(70015, func(v *wire.Version) { v.UserAgent = "/second:1.0/" }), wire.Verack{}),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkDuplicateVersion},
				check: func(res *handshake.Result, _ *peerConn) {
					Expect(res.Peer.UserAgent).To(Equal("/Satoshi:27.0.0/"))
					Expect(res.NegotiatedVersion).To(Equal(int32(70016)))
				}}),
		Entry("a frame with a bad checksum before verack (dropped, as Core does)",
			completion{peer: replyBytes(slices.Concat(
				frames(peerVersion(70016)),
				wire.NewRawFrame(wire.Mainnet, wire.Raw{Cmd: wire.CmdInv, Payload: []byte{0}}).WithBadChecksum().Bytes(),
				frames(wire.Verack{}))),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkBadChecksum},
				check: func(res *handshake.Result, _ *peerConn) {
					Expect(res.Transcript).To(ContainElement(SatisfyAll(
						HaveField("Received", true), HaveField("Command", wire.CmdInv),
						HaveField("Err", ContainSubstring("checksum")))))
				}}),
		Entry("a frame with invalid command bytes before verack (dropped, as Core does)",
			completion{peer: replyBytes(slices.Concat(
				frames(peerVersion(70016)),
				wire.NewRawFrame(wire.Mainnet, wire.Raw{Cmd: "x"}).WithCommandBytes([12]byte{'b', 'a', 'd', 0, 'x'}).Bytes(),
				frames(wire.Verack{}))),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkBadCommand}}),
		Entry("a short sendcmpct and a short ping before verack (dropped, as Core does)",
			completion{peer: reply(peerVersion(70016), wire.Raw{Cmd: wire.CmdSendCmpct, Payload: []byte{1, 2}},
				wire.Raw{Cmd: wire.CmdPing, Payload: []byte{1, 2, 3}}, wire.Verack{}),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkSendCmpctBeforeVerack, handshake.QuirkPingBeforeVerack,
					handshake.QuirkMalformedIgnored}}),
		Entry("alert from a 70012 peer",
			completion{peer: reply(peerVersion(70012), wire.Raw{Cmd: wire.CmdAlert, Payload: []byte{1, 2, 3, 4, 5}}, wire.Verack{}),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkOldProtocol, handshake.QuirkAlert}}),
		Entry("bytes after relay in version (Core ignores them)",
			completion{peer: reply(wire.Raw{Cmd: wire.CmdVersion, Payload: append(peerVersion(70016).AppendPayload(nil), 0xde, 0xad)}, wire.Verack{}),
				quirks: []handshake.Quirk{coalesced, handshake.QuirkVersionTrailingBytes}}),
		Entry("a 209 peer when MinPeerVersion is 209",
			completion{peer: coreReply(209), quirks: []handshake.Quirk{coalesced, handshake.QuirkOldProtocol},
				cfg: func(c *handshake.Config) { c.MinPeerVersion = 209 },
				check: func(res *handshake.Result, _ *peerConn) {
					Expect(res.NegotiatedVersion).To(Equal(int32(209)))
				}}),
	)

	Describe("our version", func() {
		DescribeTable("never reveals a local address and says what Config says",
			func(noRelay bool) {
				p := startPeer(coreReply(70016))
				res, err := dial(p.Addr(), handshake.Config{
					Timeout:         generous,
					ProtocolVersion: 70016,
					Services:        wire.NodeNetworkLimited | wire.NodeWitness,
					UserAgent:       "/probe:9.9/",
					StartHeight:     123,
					NoRelay:         noRelay,
					Nonce:           func() uint64 { return 0x4242 },
				})
				Expect(err).NotTo(HaveOccurred())
				Expect(res.OK()).To(BeTrue())

				v := p.next().version
				Expect(v).NotTo(BeNil())
				Expect(v.AddrFrom.IsZero()).To(BeTrue(), "addr_from must be zeroed, as Core sends it")
				Expect(v.AddrRecv.AddrPort()).To(Equal(netip.MustParseAddrPort(p.Addr())), "addr_recv is the peer's address")
				Expect(v.ProtocolVersion).To(Equal(int32(70016)))
				Expect(v.Services).To(Equal(wire.NodeNetworkLimited | wire.NodeWitness))
				Expect(v.UserAgent).To(Equal("/probe:9.9/"))
				Expect(v.StartHeight).To(Equal(int32(123)))
				Expect(v.Relay).To(Equal(!noRelay))
				Expect(v.Nonce).To(Equal(uint64(0x4242)))
				Expect(v.Tail).To(Equal(wire.TailFull))
				Expect(time.Unix(v.Timestamp, 0)).To(BeTemporally("~", time.Now(), 5*time.Second))
			},
			Entry("relay announced", false),
			Entry("NoRelay", true),
		)

		It("uses the defaults of the zero Config", func() {
			p := startPeer(coreReply(70016))
			res, err := dial(p.Addr(), handshake.Config{})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.OK()).To(BeTrue())
			v := p.next().version
			Expect(v.ProtocolVersion).To(Equal(wire.ProtocolVersion))
			Expect(v.Services).To(BeZero())
			Expect(v.UserAgent).To(Equal(handshake.DefaultUserAgent))
			Expect(v.Relay).To(BeTrue())
			Expect(v.AddrFrom.IsZero()).To(BeTrue())
		})
	})
})
