package mockpeer_test

import (
	"net"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// echoSentNonce sends a version on first, reads the nonce of the version
// the server answers with, and returns a second connection to addr that
// has sent a version carrying that nonce.
func echoSentNonce(first *rawClient, addr string) *rawClient {
	GinkgoHelper()
	first.send(clientVersion(70016, wire.NodeNetwork))
	_, m := first.next()
	second := dialRaw(addr)
	v := clientVersion(70016, wire.NodeNetwork)
	v.Nonce = m.(*wire.Version).Nonce
	second.send(v)
	return second
}

// serveProfile starts a server playing p on every connection.
func serveProfile(p mockpeer.Profile) *mockpeer.Server {
	srv := newServer()
	srv.SetDefaultScript(p.Script())
	return srv
}

var _ = Describe("CoreResponder", func() {
	var (
		srv *mockpeer.Server
		c   *rawClient
	)
	start := func(ps ...mockpeer.Profile) {
		p := mockpeer.CoreResponder()
		if len(ps) > 0 {
			p = ps[0]
		}
		srv = serveProfile(p)
		c = dialRaw(srv.Addr())
	}
	// handshake completes a handshake at 70016 and reads what Core sends
	// after our verack.
	handshake := func() {
		GinkgoHelper()
		c.send(clientVersion(70016, wire.NodeNetwork|wire.NodeWitness))
		Expect(c.commands(4)).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
		c.send(wire.Verack{})
		Expect(c.commands(4)).To(Equal([]string{"sendcmpct", "ping", "getheaders", "feefilter"}))
	}

	// read reads n frames: their commands and decoded messages.
	read := func(n int) (cmds []string, msgs []wire.Message) {
		GinkgoHelper()
		for range n {
			cmd, m := c.next()
			cmds, msgs = append(cmds, cmd), append(msgs, m)
		}
		return cmds, msgs
	}

	It("sends nothing until the version, then version, wtxidrelay, sendaddrv2 and verack", func() {
		start()
		c.expectSilence(30 * time.Millisecond)
		ours := clientVersion(70016, wire.NodeNetwork|wire.NodeWitness)
		c.send(ours)
		cmds, msgs := read(4)
		Expect(cmds).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
		v := msgs[0].(*wire.Version)
		Expect(v.ProtocolVersion).To(Equal(int32(70016)))
		Expect(v.Services).To(Equal(uint64(0xc09)))
		Expect(v.UserAgent).To(Equal("/Satoshi:30.0.0/"))
		Expect(v.Relay).To(BeTrue())
		Expect(v.Nonce).NotTo(Equal(ours.Nonce))
		Expect(v.AddrRecv.IsZero()).To(BeTrue(), "loopback is not routable: Core sends an empty addr_you")
		Expect(v.AddrFrom.Services).To(Equal(uint64(0xc09)))
	})

	It("after our verack sends sendcmpct, ping, getheaders and feefilter, then answers pings", func() {
		start()
		c.send(clientVersion(70016, wire.NodeNetwork))
		c.commands(4)
		c.send(wire.Verack{})
		cmds, msgs := read(4)
		Expect(cmds).To(Equal([]string{"sendcmpct", "ping", "getheaders", "feefilter"}))
		Expect(msgs[0]).To(Equal(wire.SendCmpct{Announce: false, Version: 2}))
		Expect(msgs[1].(wire.Ping).Nonce).NotTo(BeZero())
		genesis := wire.Regtest.GenesisHash()
		Expect(msgs[2].(wire.Raw).Payload[5:37]).To(Equal(genesis[:]))
		Expect(msgs[3]).To(Equal(wire.FeeFilter{FeeRate: mockpeer.CoreFeeRate}))
		c.send(wire.Ping{Nonce: 77})
		_, m := c.next()
		Expect(m).To(Equal(wire.Pong{Nonce: 77}))
	})

	// The recordings of Core v30.0 (every inbound handshake, -v2transport
	// on and off) show each message in a TCP segment of its own.
	It("writes each message on its own, as Core v30 does", func() {
		start()
		handshake()
		Eventually(func() []mockpeer.Record { return sent(srv) }).Should(HaveLen(8))
		out := sent(srv)
		Expect(commands(out)).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack", "sendcmpct", "ping", "getheaders", "feefilter"}))
		writes := make([]int, len(out))
		for i, r := range out {
			writes[i] = r.Write
		}
		Expect(writes).To(Equal([]int{1, 2, 3, 4, 5, 6, 7, 8}))
	})

	It("writes a reply in one write when told to (the version-verack-coalesced peer)", func() {
		srv = serveProfile(mockpeer.CoreResponder().Coalesced())
		c = dialRaw(srv.Addr())
		c.send(clientVersion(70016, 0))
		cmds, _ := c.readOnce()
		Expect(cmds).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
		Eventually(func() []mockpeer.Record { return sent(srv) }).Should(HaveLen(4))
		for _, r := range sent(srv) {
			Expect(r.Write).To(Equal(1), "%s", r.Command)
		}
	})

	It("sends nothing after a verack that came with the other side's close, as Core skips a peer it is disconnecting", func() {
		srv = newServer()
		sent := make(chan struct{})
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Do(func(*mockpeer.Conn) error { <-sent; return nil }), mockpeer.CoreResponder().Step()))
		c = dialRaw(srv.Addr())
		c.coalesce(clientVersion(70016, wire.NodeNetwork), wire.Verack{})
		Expect(c.conn.(*net.TCPConn).CloseWrite()).To(Succeed())
		close(sent) // the mock reads only now: version, verack and the close are all there
		c.expectEOF("version", "wtxidrelay", "sendaddrv2", "verack")
		Expect(srv.Close()).To(Succeed())
		var out []string
		var events []string
		for _, r := range srv.Transcript() {
			if r.Out && r.Command != "" {
				out = append(out, r.Command)
			}
			if r.Event != "" {
				events = append(events, r.Event)
			}
		}
		Expect(out).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
		Expect(events).To(ContainElement(mockpeer.EventEOF))
	})

	It("sends no getheaders to a client that advertises neither NETWORK nor NETWORK_LIMITED", func() {
		start()
		c.send(clientVersion(70016, wire.NodeWitness))
		c.commands(4)
		c.send(wire.Verack{})
		Expect(c.commands(3)).To(Equal([]string{"sendcmpct", "ping", "feefilter"}))
		c.expectSilence(30 * time.Millisecond)
	})

	DescribeTable("adapts to the common version",
		func(pv int32, burst, afterVerack []string) {
			start()
			c.send(clientVersion(pv, wire.NodeNetworkLimited))
			Expect(c.commands(len(burst))).To(Equal(burst))
			c.send(wire.Verack{})
			Expect(c.commands(len(afterVerack))).To(Equal(afterVerack))
			c.expectSilence(20 * time.Millisecond)
		},
		Entry("70015: no wtxidrelay or sendaddrv2", int32(70015),
			[]string{"version", "verack"}, []string{"sendcmpct", "ping", "getheaders", "feefilter"}),
		Entry("70013: no sendcmpct", int32(70013),
			[]string{"version", "verack"}, []string{"ping", "getheaders", "feefilter"}),
		Entry("70012: the final alert, no sendcmpct, no feefilter", int32(70012),
			[]string{"version", "verack", "alert"}, []string{"ping", "getheaders"}),
		Entry("70020: treated as 70016", int32(70020),
			[]string{"version", "wtxidrelay", "sendaddrv2", "verack"}, []string{"sendcmpct", "ping", "getheaders", "feefilter"}),
	)

	It("announces the version it is configured with, and behaves accordingly", func() {
		start(mockpeer.CoreResponder().Version(func(v *wire.Version) { v.ProtocolVersion = 70015 }).Version(func(v *wire.Version) { v.UserAgent = "/Satoshi:0.20.1/" }).Version(func(v *wire.Version) { v.Services = 0x409 }))
		c.send(clientVersion(70016, wire.NodeNetwork))
		_, m := c.next()
		Expect(m).To(HaveField("UserAgent", "/Satoshi:0.20.1/"))
		Expect(m).To(HaveField("Services", uint64(0x409)))
		Expect(c.commands(1)).To(Equal([]string{"verack"}))
	})

	It("disconnects a version below 31800 without sending its own", func() {
		start()
		c.send(clientVersion(31799, wire.NodeNetwork))
		c.expectEOF()
	})

	It("disconnects when its own nonce comes back (self connection)", func() {
		start(mockpeer.CoreResponder().Version(func(v *wire.Version) { v.Nonce = 0xfeed }))
		v := clientVersion(70016, wire.NodeNetwork)
		v.Nonce = 0xfeed
		c.send(v)
		c.expectEOF()
	})

	It("answers a version carrying a nonce it sent on another, inbound, connection: Core checks only its own outbound ones", func() {
		start()
		second := echoSentNonce(c, srv.Addr())
		Expect(second.commands(4)).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
	})

	It("ignores messages before the version (with -v2transport=0)", func() {
		// With v2 on, bytes that are not a v1 version header open a v2
		// handshake instead (see the v2 specs).
		start(mockpeer.CoreResponder().V2Transport(nil))
		c.send(wire.Verack{}, wire.Ping{Nonce: 1}, wire.SendHeaders{})
		c.expectSilence(20 * time.Millisecond)
		handshake()
	})

	It("ignores a ping before verack, answers one after", func() {
		start()
		c.send(clientVersion(70016, wire.NodeNetwork), wire.Ping{Nonce: 1})
		c.commands(4)
		c.expectSilence(20 * time.Millisecond)
		c.send(wire.Verack{}, wire.Ping{Nonce: 2})
		Expect(c.commands(5)).To(Equal([]string{"sendcmpct", "ping", "getheaders", "feefilter", "pong"}))
		Expect(srv.Received()).To(HaveLen(4))
	})

	It("accepts sendheaders, sendcmpct, wtxidrelay, sendaddrv2 and sendtxrcncl between version and verack", func() {
		start()
		c.send(clientVersion(70016, wire.NodeNetwork))
		c.commands(4)
		c.send(wire.SendHeaders{}, wire.SendCmpct{Version: 2}, wire.WtxidRelay{}, wire.SendAddrV2{}, wire.SendTxRcncl{Version: 1})
		c.send(wire.Verack{})
		Expect(c.commands(4)).To(Equal([]string{"sendcmpct", "ping", "getheaders", "feefilter"}))
	})

	DescribeTable("disconnects on a feature negotiation after verack",
		func(m wire.Message) {
			start()
			handshake()
			c.send(m)
			c.expectEOF()
		},
		Entry("wtxidrelay", wire.WtxidRelay{}),
		Entry("sendaddrv2", wire.SendAddrV2{}),
	)

	It("ignores a duplicate version and a duplicate verack", func() {
		start()
		handshake()
		c.send(clientVersion(70016, wire.NodeNetwork), wire.Verack{}, wire.Ping{Nonce: 3})
		cmd, m := c.next()
		Expect(cmd).To(Equal("pong"))
		Expect(m).To(Equal(wire.Pong{Nonce: 3}))
	})

	DescribeTable("drops a broken or unknown message and keeps the connection",
		func(frame wire.RawFrame) {
			start()
			handshake()
			c.write(frame.Bytes())
			c.send(wire.Ping{Nonce: 4})
			_, m := c.next()
			Expect(m).To(Equal(wire.Pong{Nonce: 4}))
		},
		Entry("bad checksum", wire.NewRawFrame(regtest, wire.Ping{Nonce: 1}).WithBadChecksum()),
		Entry("invalid command bytes", wire.NewRawFrame(regtest, wire.Ping{Nonce: 1}).WithCommandBytes([12]byte{'p', 'i', 0x01})),
		Entry("unknown command", wire.NewRawFrame(regtest, wire.Raw{Cmd: "xyzzy", Payload: []byte{1, 2}})),
	)

	DescribeTable("disconnects right after a header it cannot accept, without waiting for the payload",
		func(frame wire.RawFrame) {
			start()
			c.write(frame.Bytes()[:wire.HeaderSize])
			c.expectEOF()
		},
		Entry("wrong magic", wire.NewRawFrame(regtest, clientVersion(70016, 1)).WithMagic(wire.Mainnet)),
		Entry("length over 4,000,000", wire.NewRawFrame(regtest, clientVersion(70016, 1)).WithLength(4_000_001)),
	)

	It("drops a version it cannot decode, then times out", func() {
		start(mockpeer.CoreResponder().HandshakeTimeout(80 * time.Millisecond))
		full := wire.NewRawFrame(regtest, clientVersion(70016, 1))
		c.write(full.WithPayload(full.Payload[:50]).Resealed().Bytes())
		c.expectEOF()
		Expect(srv.Received()[0].Err).To(MatchError(wire.ErrTruncated))
	})

	It("disconnects a silent peer after the peer timeout", func() {
		start(mockpeer.CoreResponder().HandshakeTimeout(50 * time.Millisecond))
		c.expectEOF()
		Expect(srv.Transcript()).To(ContainElement(HaveField("Event", mockpeer.EventTimeout)))
	})

	It("disconnects a peer that never sends verack after the peer timeout", func() {
		start(mockpeer.CoreResponder().HandshakeTimeout(80 * time.Millisecond))
		c.send(clientVersion(70016, wire.NodeNetwork))
		c.expectEOF("version", "wtxidrelay", "sendaddrv2", "verack")
	})

	It("keeps an established connection past the peer timeout", func() {
		start(mockpeer.CoreResponder().HandshakeTimeout(30 * time.Millisecond))
		handshake()
		c.expectSilence(60 * time.Millisecond)
		c.send(wire.Ping{Nonce: 5})
		_, m := c.next()
		Expect(m).To(Equal(wire.Pong{Nonce: 5}))
	})

	Describe("quirks as one override", func() {
		It("never sends verack", func() {
			srv = serveProfile(mockpeer.CoreResponder().HandshakeTimeout(80 * time.Millisecond).Without(wire.CmdVerack))
			c = dialRaw(srv.Addr())
			c.send(clientVersion(70016, wire.NodeNetwork))
			c.expectEOF("version", "wtxidrelay", "sendaddrv2")
		})

		It("sends sendcmpct before verack, in the same reply", func() {
			srv = serveProfile(mockpeer.CoreResponder().Before(wire.CmdVerack, wire.SendCmpct{Version: 2}))
			c = dialRaw(srv.Addr())
			c.send(clientVersion(70016, wire.NodeNetwork))
			cmds := c.commands(5)
			Expect(cmds).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "sendcmpct", "verack"}))
		})

		It("skips verack and closes", func() {
			core := mockpeer.CoreResponder()
			srv = serveProfile(core.Without(wire.CmdVerack).
				On(wire.CmdVersion, func(c *mockpeer.Conn, in mockpeer.Incoming) ([]wire.Message, error) {
					msgs, err := core.Reaction(wire.CmdVersion)(c, in)
					if err == nil {
						err = mockpeer.ErrDisconnect
					}
					return msgs, err
				}))
			c = dialRaw(srv.Addr())
			c.send(clientVersion(70016, wire.NodeNetwork))
			c.expectEOF("version", "wtxidrelay", "sendaddrv2")
		})

		It("answers a ping before verack", func() {
			srv = serveProfile(mockpeer.CoreResponder().V2Transport(nil).On(wire.CmdPing, answerPings()))
			c = dialRaw(srv.Addr())
			c.send(wire.Ping{Nonce: 8})
			_, m := c.next()
			Expect(m).To(Equal(wire.Pong{Nonce: 8}))
		})

		It("leaves the original profile untouched", func() {
			core := mockpeer.CoreResponder()
			_ = core.Without(wire.CmdVerack).On(wire.CmdPing, mockpeer.Reply().ThenDisconnect())
			srv = serveProfile(core)
			c = dialRaw(srv.Addr())
			handshake()
		})
	})

	It("runs inside a longer script, and Within ends it", func() {
		srv = newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.CoreResponder().Step().Within(100*time.Millisecond), mockpeer.Send(wire.Raw{Cmd: "bye"})))
		c = dialRaw(srv.Addr())
		handshake()
		cmds, err := c.readEnd()
		Expect(err).To(HaveOccurred())
		Expect(cmds).To(Equal([]string{"bye"}))
	})
})

var _ = Describe("BtcdResponder", func() {
	var (
		srv *mockpeer.Server
		c   *rawClient
	)
	start := func(ps ...mockpeer.Profile) {
		p := mockpeer.BtcdResponder()
		if len(ps) > 0 {
			p = ps[0]
		}
		srv = serveProfile(p)
		c = dialRaw(srv.Addr())
	}
	reject := func(msg wire.Message, command string, code byte, reason string) {
		GinkgoHelper()
		raw, ok := msg.(wire.Raw)
		Expect(ok).To(BeTrue(), "wire.Decode leaves a reject a Raw")
		var got wire.Reject
		Expect(got.DecodePayload(raw.Payload)).To(Succeed())
		Expect(got).To(Equal(wire.Reject{Message: command, Code: code, Reason: reason}))
	}
	handshake := func() {
		GinkgoHelper()
		c.send(clientVersion(70016, wire.NodeNetwork))
		Expect(c.commands(3)).To(Equal([]string{"version", "sendaddrv2", "verack"}))
		c.send(wire.Verack{})
	}

	It("replies version, sendaddrv2, verack, each header and payload in separate writes", func() {
		start()
		c.send(clientVersion(70016, wire.NodeNetwork))
		_, m := c.next()
		v := m.(*wire.Version)
		Expect(v.UserAgent).To(Equal("/btcwire:0.5.0/btcd:0.26.2/"))
		Expect(v.ProtocolVersion).To(Equal(int32(70016)))
		Expect(v.Services).To(Equal(uint64(0x44d)))
		Expect(v.AddrRecv.AddrPort().String()).To(Equal(c.conn.LocalAddr().String()))
		Expect(c.commands(2)).To(Equal([]string{"sendaddrv2", "verack"}))
		Eventually(func() []string { return commands(sent(srv)) }).Should(Equal([]string{"version", "sendaddrv2", "verack"}))
		out := sent(srv)
		// version: header write 1, payload write 2; sendaddrv2: write 3; verack: write 4.
		Expect([]int{out[0].Write, out[1].Write, out[2].Write}).To(Equal([]int{1, 3, 4}))
	})

	It("sends nothing after verack, and answers pings", func() {
		start()
		handshake()
		c.expectSilence(20 * time.Millisecond)
		c.send(wire.Ping{Nonce: 6})
		_, m := c.next()
		Expect(m).To(Equal(wire.Pong{Nonce: 6}))
	})

	It("disconnects a version carrying a nonce it sent on another connection, as btcd remembers every nonce it sent", func() {
		start()
		echoSentNonce(c, srv.Addr()).expectEOF()
	})

	It("sends getheaders after verack when the client claims a higher height", func() {
		start()
		v := clientVersion(70016, wire.NodeNetwork)
		v.StartHeight = 100
		c.send(v)
		c.commands(3)
		c.send(wire.Verack{})
		Expect(c.commands(1)).To(Equal([]string{"getheaders"}))
	})

	It("answers a verack before version with a reject and disconnects", func() {
		start()
		c.send(wire.Verack{})
		cmd, m := c.next()
		Expect(cmd).To(Equal("reject"))
		reject(m, "version", wire.RejectMalformed, "a version message must precede all others")
		c.expectEOF()
	})

	It("disconnects silently on an unknown command before version", func() {
		start()
		c.send(wire.SendCmpct{Version: 2})
		c.expectEOF()
	})

	DescribeTable("disconnects on these before verack",
		func(m wire.Message) {
			start()
			c.send(clientVersion(70016, wire.NodeNetwork))
			c.commands(3)
			c.send(m)
			c.expectEOF()
		},
		Entry("sendheaders", wire.SendHeaders{}),
		Entry("ping", wire.Ping{Nonce: 1}),
		Entry("a second version", clientVersion(70016, 1)),
	)

	It("ignores sendcmpct, wtxidrelay and sendaddrv2 before verack", func() {
		start()
		c.send(clientVersion(70016, wire.NodeNetwork))
		c.commands(3)
		c.send(wire.SendCmpct{Version: 2}, wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}, wire.Ping{Nonce: 9})
		_, m := c.next()
		Expect(m).To(Equal(wire.Pong{Nonce: 9}))
	})

	It("accepts version 209 and drops 208 without a reject (btcd cannot encode one below 70002)", func() {
		start()
		c.send(clientVersion(209, wire.NodeNetwork))
		Expect(c.commands(2)).To(Equal([]string{"version", "verack"}))

		c2 := dialRaw(srv.Addr())
		c2.send(clientVersion(208, wire.NodeNetwork))
		c2.expectEOF()
	})

	It("disconnects on a version with trailing bytes", func() {
		start()
		f := wire.NewRawFrame(regtest, clientVersion(70016, wire.NodeNetwork))
		c.write(f.WithPayload(append(f.Payload, 0)).Resealed().Bytes())
		c.expectEOF()
	})

	It("rejects a duplicate version after the handshake and disconnects", func() {
		start()
		handshake()
		c.send(clientVersion(70016, 1))
		cmd, m := c.next()
		Expect(cmd).To(Equal("reject"))
		reject(m, "version", wire.RejectDuplicate, "duplicate version message")
		c.expectEOF()
	})

	It("disconnects on a bad checksum during the handshake", func() {
		start()
		c.write(wire.NewRawFrame(regtest, clientVersion(70016, 1)).WithBadChecksum().Bytes())
		c.expectEOF()
	})

	It("disconnects a silent peer after its negotiate timeout", func() {
		start(mockpeer.BtcdResponder().HandshakeTimeout(50 * time.Millisecond))
		c.expectEOF()
	})
})
