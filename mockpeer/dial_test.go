package mockpeer_test

import (
	"context"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("Dial", func() {
	var srv *mockpeer.Server
	BeforeEach(func() {
		srv = serveProfile(mockpeer.CoreResponder())
	})

	It("plays a script as the initiator against a responder, from a chosen local address", func() {
		probe := mockpeer.NewScript("handshake-probe",
			mockpeer.Send(clientVersion(70016, wire.NodeNetwork)),
			mockpeer.Expect(wire.CmdVersion, HaveField("UserAgent", mockpeer.CoreUserAgent)),
			mockpeer.Expect(wire.CmdVerack),
			mockpeer.Send(wire.Verack{}),
			mockpeer.Expect(wire.CmdSendCmpct),
			mockpeer.Expect(wire.CmdFeeFilter),
			mockpeer.Do((*mockpeer.Conn).Close))
		sess, err := mockpeer.Dial(context.Background(), srv.Addr(), probe,
			mockpeer.WithAddr("127.0.1.7:0"), mockpeer.WithFailHandler(Fail))
		Expect(err).NotTo(HaveOccurred())
		Expect(sess.LocalAddr()).To(HavePrefix("127.0.1.7:"))
		Expect(commands(sess.Received())).To(Equal([]string{
			"version", "wtxidrelay", "sendaddrv2", "verack", "sendcmpct", "ping", "getheaders", "feefilter"}))
		var out []string
		for _, r := range sess.Transcript() {
			if r.Out && r.Event == "" {
				out = append(out, r.Command)
			}
		}
		Expect(out).To(Equal([]string{"version", "verack"}))
		Expect(srv.Transcript()).To(ContainElement(SatisfyAll(
			HaveField("Event", mockpeer.EventAccept),
			HaveField("Note", HavePrefix("127.0.1.7:")))))
	})

	It("probes a conformance rule: no pong before verack", func() {
		probe := mockpeer.NewScript("", mockpeer.Send(clientVersion(70016, wire.NodeNetwork), wire.Ping{Nonce: 1}).Coalesced(), mockpeer.Expect(wire.CmdVerack), mockpeer.Expect(wire.CmdPong).Never().Within(30*time.Millisecond))
		_, err := mockpeer.Dial(context.Background(), srv.Addr(), probe)
		Expect(err).NotTo(HaveOccurred())

		answers := serveProfile(mockpeer.CoreResponder().On(wire.CmdPing, answerPings()))
		sess, err := mockpeer.Dial(context.Background(), answers.Addr(), probe)
		Expect(err).To(MatchError(mockpeer.ErrUnexpected))
		Expect(sess.Err()).To(MatchError(mockpeer.ErrUnexpected))
	})

	It("returns the failure with the step's location, and the transcript so far", func() {
		got := &captured{}
		step, at := mockpeer.Expect(wire.CmdPong).Within(30*time.Millisecond), here()
		sess, err := mockpeer.Dial(context.Background(), srv.Addr(),
			mockpeer.NewScript("", mockpeer.Send(clientVersion(70016, 1)), step), mockpeer.WithFailHandler(got.handle))
		Expect(err).To(MatchError(mockpeer.ErrTimeout))
		Expect(err.Error()).To(ContainSubstring(`Expect("pong") at ` + at))
		Expect(got.Messages()).To(ConsistOf(err.Error()))
		Expect(commands(sess.Received())).To(ContainElement("verack"))
	})

	It("is cut off when its context ends", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err := mockpeer.Dial(ctx, srv.Addr(), mockpeer.NewScript("", mockpeer.Expect(wire.CmdPong).Within(time.Minute)))
		Expect(err).To(MatchError(mockpeer.ErrCutOff))
		Expect(err.Error()).To(ContainSubstring("cut off by the Dial context"))
	})

	It("answers with routes given as options", func() {
		other := newServer()
		other.AppendScripts(mockpeer.NewScript("", mockpeer.Send(wire.Ping{Nonce: 21}), mockpeer.Expect(wire.CmdPong, Equal(wire.Pong{Nonce: 21}))))
		_, err := mockpeer.Dial(context.Background(), other.Addr(),
			mockpeer.NewScript("", mockpeer.Do((*mockpeer.Conn).ExpectClosed).Within(time.Second)),
			mockpeer.WithRoute(wire.CmdPing, answerPings()))
		Expect(err).NotTo(HaveOccurred())
		Eventually(other.Finished).Should(Equal(1))
	})

	It("reports a dial error with a usable session", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		addr := ln.Addr().String()
		Expect(ln.Close()).To(Succeed())
		sess, err := mockpeer.Dial(context.Background(), addr, mockpeer.NewScript(""))
		Expect(err).To(HaveOccurred())
		Expect(strings.Contains(err.Error(), "dial "+addr)).To(BeTrue())
		Expect(sess).NotTo(BeNil())
		Expect(sess.Transcript()).To(BeEmpty())
	})
})

var _ = Describe("NewServer", func() {
	It("listens on the loopback address it is given, for the network it is given", func() {
		srv := newServer(mockpeer.WithAddr("127.0.0.5:0"), mockpeer.WithNetwork(wire.Mainnet))
		Expect(srv.Addr()).To(HavePrefix("127.0.0.5:"))
		Expect(srv.Network()).To(Equal(wire.Mainnet))
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Send(wire.Verack{})))
		conn, err := net.Dial("tcp", srv.Addr())
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		r := wire.NewReader(conn, wire.Mainnet)
		f, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal("verack"))
	})

	It("records less when asked to", func() {
		srv := newServer(mockpeer.WithRecording(mockpeer.Recording{Payload: -1}))
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect(wire.CmdPing), mockpeer.Send(wire.Pong{Nonce: 1})))
		c := dialRaw(srv.Addr())
		c.send(wire.Ping{Nonce: 1})
		c.expectEOF("pong")
		Expect(commands(srv.Transcript())).To(Equal([]string{"ping", "pong"}))
		for _, r := range srv.Transcript() {
			Expect(r.Payload).To(BeNil())
		}

		quiet := newServer(mockpeer.WithRecording(mockpeer.Recording{Frames: -1}))
		quiet.AppendScripts(mockpeer.NewScript("", mockpeer.Expect(wire.CmdPing), mockpeer.Send(wire.Pong{Nonce: 1})))
		c = dialRaw(quiet.Addr())
		c.send(wire.Ping{Nonce: 1})
		c.expectEOF("pong")
		Eventually(quiet.Finished).Should(Equal(1))
		Expect(commands(quiet.Transcript())).To(BeEmpty())
		Expect(quiet.Transcript()).To(ContainElement(HaveField("Event", mockpeer.EventClose)))
	})
})
