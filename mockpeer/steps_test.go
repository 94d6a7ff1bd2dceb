package mockpeer_test

import (
	"io"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("Steps, seen from a raw client", func() {
	It("names each step for failures, with its methods", func() {
		Expect(mockpeer.Do((*mockpeer.Conn).Reset).String()).To(Equal("Do((*Conn).Reset)"))
		Expect(mockpeer.Do(func(*mockpeer.Conn) error { return nil }).String()).To(Equal("Do()"))
		Expect(mockpeer.Send(wire.Verack{}, wire.Ping{Nonce: 1}).Coalesced().String()).To(Equal("Send(verack, ping).Coalesced()"))
		Expect(mockpeer.Expect("").Never().String()).To(Equal(`Expect("").Never()`))
		Expect(mockpeer.SendRaw([]byte{1, 2}).Dribble(1, 0).String()).To(Equal("SendRaw(2 bytes).Dribble(1, 0s)"))
	})

	It("Send writes each message as its own frame and write", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Send(wire.Verack{}, wire.Ping{Nonce: 7}), mockpeer.HoldOpen()))
		c := dialRaw(srv.Addr())
		cmd, _ := c.next()
		Expect(cmd).To(Equal("verack"))
		cmd, m := c.next()
		Expect(cmd).To(Equal("ping"))
		Expect(m).To(Equal(wire.Ping{Nonce: 7}))

		Eventually(func() []string { return commands(sent(srv)) }).Should(Equal([]string{"verack", "ping"}))
		out := sent(srv)
		Expect(out[0].Write).To(Equal(1))
		Expect(out[1].Write).To(Equal(2))
	})

	It("Coalesce puts every frame in one write, which one Read returns whole", func() {
		srv := newServer()
		v := &wire.Version{ProtocolVersion: 70016, UserAgent: "/coalesced/", Relay: true}
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Send(v, wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}).Coalesced(), mockpeer.HoldOpen()))
		c := dialRaw(srv.Addr())
		cmds, msgs := c.readOnce()
		Expect(cmds).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
		Expect(msgs[0]).To(HaveField("UserAgent", "/coalesced/"))
		Eventually(func() []mockpeer.Record { return sent(srv) }).Should(HaveLen(4))
		for _, r := range sent(srv) {
			Expect(r.Write).To(Equal(1), r.String())
		}
	})

	It("SendRaw writes bytes as they are", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.SendRaw([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))))
		c := dialRaw(srv.Addr())
		b, err := io.ReadAll(c.conn)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(Equal("HTTP/1.1 400 Bad Request\r\n\r\n"))
		Expect(sent(srv)[0].Raw).To(BeTrue())
	})

	It("SendFrame writes a broken frame the client's reader reports and survives", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.SendRaw(wire.NewRawFrame(regtest, wire.Ping{Nonce: 1}).WithBadChecksum().Bytes()), mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()))
		c := dialRaw(srv.Addr())
		Expect(c.conn.SetReadDeadline(time.Now().Add(3 * time.Second))).To(Succeed())
		f, err := c.r.Next()
		Expect(err).To(MatchError(wire.ErrBadChecksum))
		Expect(f.Command()).To(Equal("ping"))
		cmd, _ := c.next()
		Expect(cmd).To(Equal("verack"))
	})

	It("Dribble writes chunks with delays, so reads come in pieces", func() {
		frame := wire.AppendMessage(nil, regtest, wire.Ping{Nonce: 99})
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.SendRaw(frame).Dribble(8, 5*time.Millisecond)))
		c := dialRaw(srv.Addr())
		var got []byte
		reads := 0
		buf := make([]byte, 1024)
		for {
			n, err := c.conn.Read(buf)
			if n > 0 {
				reads++
				Expect(n).To(BeNumerically("<=", 8))
				got = append(got, buf[:n]...)
			}
			if err != nil {
				Expect(err).To(MatchError(io.EOF))
				break
			}
		}
		Expect(got).To(Equal(frame))
		Expect(reads).To(Equal(4)) // 32 bytes, 8 at a time
		Expect(sent(srv)).To(HaveLen(4))
	})

	It("DribbleMessages records messages, not chunks, and the client reassembles them", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Send(wire.Verack{}, wire.Ping{Nonce: 3}).Dribble(1, 0)))
		c := dialRaw(srv.Addr())
		c.expectEOF("verack", "ping")
		Expect(commands(sent(srv))).To(Equal([]string{"verack", "ping"}))
	})

	It("Sleep pauses between steps", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Send(wire.Ping{Nonce: 1}), mockpeer.Do(func(c *mockpeer.Conn) error { return c.Sleep(60 * time.Millisecond) }), mockpeer.Send(wire.Ping{Nonce: 2})))
		c := dialRaw(srv.Addr())
		c.next()
		start := time.Now()
		c.next()
		Expect(time.Since(start)).To(BeNumerically(">=", 50*time.Millisecond))
	})

	It("HoldOpen keeps the connection until the client leaves", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()))
		c := dialRaw(srv.Addr())
		c.next()
		c.expectSilence(30 * time.Millisecond)
		Expect(srv.Finished()).To(BeZero())
		Expect(c.conn.Close()).To(Succeed())
		Eventually(srv.Finished).Should(Equal(1))
	})

	It("HoldOpen().Within holds for a while, then the script goes on", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.HoldOpen().Within(20*time.Millisecond), mockpeer.Send(wire.Verack{})))
		c := dialRaw(srv.Addr())
		c.expectEOF("verack")
	})

	It("HalfClose sends FIN and keeps reading", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Do((*mockpeer.Conn).CloseWrite), mockpeer.Expect("ping")))
		c := dialRaw(srv.Addr())
		c.expectEOF()
		c.send(wire.Ping{Nonce: 5})
		Eventually(srv.Finished).Should(Equal(1))
		Expect(commands(srv.Received())).To(Equal([]string{"ping"}))
	})

	It("CloseConn closes the connection", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Send(wire.Verack{}), mockpeer.Do((*mockpeer.Conn).Close)))
		c := dialRaw(srv.Addr())
		c.expectEOF("verack")
	})

	It("Reset makes the client's read fail with ECONNRESET", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect("verack"), mockpeer.Do((*mockpeer.Conn).Reset)))
		c := dialRaw(srv.Addr())
		c.send(wire.Verack{})
		_, err := c.readEnd()
		Expect(err).To(MatchError(syscall.ECONNRESET))
	})

	It("ExpectClosed succeeds when the client hangs up", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Do((*mockpeer.Conn).ExpectClosed).Within(2*time.Second)))
		c := dialRaw(srv.Addr())
		c.send(wire.Ping{Nonce: 1})
		Expect(c.conn.Close()).To(Succeed())
		Eventually(srv.Finished).Should(Equal(1))
	})

	It("ExpectNone passes when nothing unwanted arrives", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect("pong").Never().Within(30*time.Millisecond), mockpeer.Send(wire.Verack{})))
		c := dialRaw(srv.Addr())
		c.send(wire.Ping{Nonce: 1})
		c.expectEOF("verack")
	})

	It("Do gives the escape hatch", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Do(func(c *mockpeer.Conn) error {
			return c.Send(wire.Pong{Nonce: uint64(c.Index()) + 40})
		})))
		c := dialRaw(srv.Addr())
		_, m := c.next()
		Expect(m).To(Equal(wire.Pong{Nonce: 40}))
	})

	It("Expect applies Gomega matchers to the decoded message, and ReplyVersion answers it", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect(wire.CmdVersion,
			HaveField("ProtocolVersion", BeNumerically(">=", 70001)),
			HaveField("UserAgent", ContainSubstring("raw-client"))), mockpeer.ReplyVersion(nil), mockpeer.HoldOpen()))
		c := dialRaw(srv.Addr())
		ours := clientVersion(70016, wire.NodeNetwork)
		c.send(ours)
		cmd, m := c.next()
		Expect(cmd).To(Equal("version"))
		v := m.(*wire.Version)
		Expect(v.Nonce).NotTo(BeZero())
		Expect(v.Nonce).NotTo(Equal(ours.Nonce))
		Expect(v.AddrRecv.AddrPort().String()).To(Equal(c.conn.LocalAddr().String()))
		Expect(v.Timestamp).To(BeNumerically("~", time.Now().Unix(), 5))
		Expect(v.UserAgent).To(Equal("/mockpeer:0.1.0/"))
	})

	It("records broken frames it receives, with their error", func() {
		srv := newServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect("verack")))
		c := dialRaw(srv.Addr())
		c.write(wire.NewRawFrame(regtest, wire.Ping{Nonce: 1}).WithBadChecksum().Bytes())
		c.send(wire.Verack{})
		Eventually(srv.Finished).Should(Equal(1))
		got := srv.Received()
		Expect(commands(got)).To(Equal([]string{"ping", "verack"}))
		Expect(got[0].Err).To(MatchError(wire.ErrBadChecksum))
		Expect(got[0].Payload).To(HaveLen(8))
		Expect(got[1].Err).NotTo(HaveOccurred())
	})
})

var _ = Describe("Routes", func() {
	It("answer pings whatever the script is waiting for", func() {
		srv := newServer()
		srv.Route(wire.CmdPing, answerPings())
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect("verack"), mockpeer.HoldOpen()))
		c := dialRaw(srv.Addr())
		c.send(wire.Ping{Nonce: 11})
		_, m := c.next()
		Expect(m).To(Equal(wire.Pong{Nonce: 11}))
		c.send(wire.Verack{}, wire.Ping{Nonce: 12})
		_, m = c.next()
		Expect(m).To(Equal(wire.Pong{Nonce: 12}))
	})

	It("let the step see the message too", func() {
		srv := newServer(mockpeer.WithRoute(wire.CmdPing, answerPings()))
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect("ping", Equal(wire.Ping{Nonce: 4})), mockpeer.Send(wire.Verack{})))
		c := dialRaw(srv.Addr())
		c.send(wire.Ping{Nonce: 4})
		c.expectEOF("pong", "verack")
	})
})

var _ = Describe("Scripts", func() {
	It("run one per connection in order, then the default", func() {
		srv := newServer()
		srv.AppendScripts(
			mockpeer.NewScript("first", mockpeer.Send(wire.Pong{Nonce: 1})),
			mockpeer.NewScript("second", mockpeer.Send(wire.Pong{Nonce: 2})))
		srv.SetDefaultScript(mockpeer.NewScript("default", mockpeer.Send(wire.Pong{Nonce: 9})))
		for _, want := range []uint64{1, 2, 9, 9} {
			c := dialRaw(srv.Addr())
			_, m := c.next()
			Expect(m).To(Equal(wire.Pong{Nonce: want}))
			c.expectEOF()
		}
		Expect(srv.Accepted()).To(Equal(4))
	})

	It("serve connections in parallel", func() {
		srv := newServer()
		srv.SetDefaultScript(mockpeer.NewScript("", mockpeer.Expect("ping"), mockpeer.Send(wire.Pong{Nonce: 1})))
		clients := make([]*rawClient, 20)
		for i := range clients {
			clients[i] = dialRaw(srv.Addr())
		}
		for _, c := range clients {
			c.send(wire.Ping{Nonce: 1})
		}
		for _, c := range clients {
			c.expectEOF("pong")
		}
		Eventually(srv.Finished).Should(Equal(20))
	})

	It("Then appends steps to a copy", func() {
		base := mockpeer.NewScript("base", mockpeer.Send(wire.Verack{}))
		longer := base.Then(mockpeer.Send(wire.Ping{Nonce: 1}))
		Expect(base.Len()).To(Equal(1))
		Expect(longer.Len()).To(Equal(2))
		Expect(longer.Name()).To(Equal("base"))
	})
})

// sent returns the frames the mock wrote.
func sent(srv *mockpeer.Server) []mockpeer.Record {
	var out []mockpeer.Record
	for _, r := range srv.Transcript() {
		if r.Out && r.Event == "" {
			out = append(out, r)
		}
	}
	return out
}
