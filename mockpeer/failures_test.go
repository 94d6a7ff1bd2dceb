package mockpeer_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("Failures", func() {
	It("name the step, the spec line that built it, the connection and what arrived meanwhile", func() {
		srv, got := newCapturingServer()
		step, at := mockpeer.Expect(wire.CmdVerack).Within(40*time.Millisecond), here()
		srv.AppendScripts(mockpeer.NewScript("wants-verack", mockpeer.Send(wire.Verack{}), step))
		c := dialRaw(srv.Addr())
		c.send(wire.Ping{Nonce: 1}, wire.SendHeaders{})
		Eventually(got.Messages).Should(HaveLen(1))
		msg := got.Messages()[0]
		Expect(msg).To(ContainSubstring(`Expect("verack") at ` + at))
		Expect(msg).To(ContainSubstring("deadline exceeded: waiting for verack for 40ms"))
		Expect(msg).To(ContainSubstring("received meanwhile: ping, sendheaders"))
		Expect(msg).To(ContainSubstring(`step 2 of 2 of script "wants-verack"`))
		Expect(msg).To(ContainSubstring("connection #0 from " + c.conn.LocalAddr().String()))

		f := srv.Failures()[0]
		Expect(f.At).To(Equal(at))
		Expect(f.Err).To(MatchError(mockpeer.ErrTimeout))
		Expect(f.StepIndex).To(Equal(2))
	})

	It("show the Gomega matcher's message when a message does not match", func() {
		srv, got := newCapturingServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect(wire.CmdVersion, HaveField("ProtocolVersion", Equal(int32(70016))))))
		c := dialRaw(srv.Addr())
		c.send(clientVersion(70015, 1))
		Eventually(got.Messages).Should(HaveLen(1))
		Expect(got.Messages()[0]).To(SatisfyAll(
			ContainSubstring("message did not match: version"),
			ContainSubstring("<int32>: 70015"),
			ContainSubstring("<int32>: 70016")))
	})

	DescribeTable("classify what went wrong",
		func(step mockpeer.Step, client func(c *rawClient), kind error, text string) {
			srv, got := newCapturingServer()
			srv.AppendScripts(mockpeer.NewScript("", step))
			c := dialRaw(srv.Addr())
			client(c)
			Eventually(got.Messages).Should(HaveLen(1))
			Expect(srv.Failures()[0].Err).To(MatchError(kind))
			Expect(got.Messages()[0]).To(ContainSubstring(text))
		},
		Entry("the expected command arrives broken",
			mockpeer.Expect(wire.CmdPing),
			func(c *rawClient) { c.write(wire.NewRawFrame(regtest, wire.Ping{Nonce: 1}).WithBadChecksum().Bytes()) },
			mockpeer.ErrBrokenFrame, "ping arrived but wire: payload checksum mismatch"),
		Entry("the other side closes first",
			mockpeer.Expect(wire.CmdVerack),
			func(c *rawClient) { c.send(wire.Ping{Nonce: 1}); Expect(c.conn.Close()).To(Succeed()) },
			mockpeer.ErrPeerClosed, "connection closed by the other side (EOF) waiting for verack; received meanwhile: ping"),
		Entry(`Expect("") gets another command than its matcher wants`,
			mockpeer.Expect("", HaveField("Command()", wire.CmdVersion)),
			func(c *rawClient) { c.send(wire.Verack{}) },
			mockpeer.ErrMismatch, "message did not match: verack"),
		Entry("Expect(...).Never sees what it should not",
			mockpeer.Expect(wire.CmdPong).Never().Within(time.Second),
			func(c *rawClient) { c.send(wire.Ping{Nonce: 1}, wire.Pong{Nonce: 1}) },
			mockpeer.ErrUnexpected, "unexpected message: pong within 1s"),
		Entry("ExpectClosed and the other side stays",
			mockpeer.Do((*mockpeer.Conn).ExpectClosed).Within(30*time.Millisecond),
			func(*rawClient) {},
			mockpeer.ErrNotClosed, "connection still open after 30ms"),
		Entry("the stream goes out of sync",
			mockpeer.Expect(wire.CmdVerack),
			func(c *rawClient) { c.write(wire.NewRawFrame(wire.Mainnet, wire.Ping{Nonce: 1}).Bytes()) },
			mockpeer.ErrBrokenFrame, "stream out of sync"),
		Entry("Do returns an error",
			mockpeer.Do(func(*mockpeer.Conn) error { return errors.New("custom check failed") }),
			func(*rawClient) {},
			errors.New("custom check failed"), "Do() at"),
	)

	It("survive a fail handler that panics like Ginkgo's Fail outside the spec goroutine", func() {
		var (
			mu   sync.Mutex
			msgs []string
		)
		ginkgoLike := func(message string, _ ...int) {
			mu.Lock()
			msgs = append(msgs, message)
			mu.Unlock()
			panic("Ginkgo detected an issue: call defer GinkgoRecover() in your goroutine")
		}
		srv := mockpeer.NewServer(mockpeer.WithFailHandler(ginkgoLike))
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect(wire.CmdVerack).Within(10*time.Millisecond)))
		srv.SetDefaultScript(mockpeer.NewScript("", mockpeer.Send(wire.Pong{Nonce: 2})))
		first := dialRaw(srv.Addr())
		first.expectEOF()
		second := dialRaw(srv.Addr())
		_, m := second.next()
		Expect(m).To(Equal(wire.Pong{Nonce: 2}))
		Expect(srv.Close()).To(Succeed(), "the handler got the failure, so Close has nothing left to return")
		mu.Lock()
		defer mu.Unlock()
		Expect(msgs).To(HaveLen(1))
		Expect(msgs[0]).To(ContainSubstring(`Expect("verack")`))
	})

	It("go to a testing.TB's Error through a fail handler", func() {
		tb := &fakeTB{}
		srv := mockpeer.NewServer(mockpeer.WithFailHandler(func(m string, _ ...int) { tb.Errorf("%s", m) }))
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect(wire.CmdVerack).Within(10*time.Millisecond)))
		c := dialRaw(srv.Addr())
		c.expectEOF()
		Expect(srv.Close()).To(Succeed())
		Expect(tb.Errors()).To(ConsistOf(ContainSubstring(`Expect("verack")`)))
	})

	It("are returned by Close when there is no fail handler", func() {
		srv := mockpeer.NewServer()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect(wire.CmdVerack).Within(10*time.Millisecond)))
		dialRaw(srv.Addr()).expectEOF()
		err := srv.Close()
		Expect(err).To(MatchError(mockpeer.ErrTimeout))
		var f *mockpeer.Failure
		Expect(errors.As(err, &f)).To(BeTrue())
		Expect(f.Step).To(Equal(`Expect("verack")`))
		Expect(srv.Close()).To(Succeed(), "closing twice")
	})

	Describe("Close", func() {
		It("reports scripts never run and scripts cut off", func() {
			srv := mockpeer.NewServer()
			waiting, at := mockpeer.NewScript("waiting", mockpeer.Expect(wire.CmdVerack).Within(time.Minute), mockpeer.Send(wire.Verack{})), here()
			never, neverAt := mockpeer.NewScript("never", mockpeer.Send(wire.Verack{})), here()
			srv.AppendScripts(waiting, never)
			dialRaw(srv.Addr())
			Eventually(srv.Transcript).Should(ContainElement(HaveField("Event", mockpeer.EventAccept)))
			err := srv.Close()
			Expect(err).To(MatchError(mockpeer.ErrCutOff))
			Expect(err).To(MatchError(mockpeer.ErrNeverRan))
			Expect(err.Error()).To(SatisfyAll(
				ContainSubstring(`Expect("verack") at %s: script cut off by Close`, at),
				ContainSubstring(`script "never" (%s): script never ran`, neverAt)))
		})

		It("reports them through the fail handler when there is one", func() {
			got := &captured{}
			srv := mockpeer.NewServer(mockpeer.WithFailHandler(got.handle))
			srv.AppendScripts(mockpeer.NewScript("never", mockpeer.Send(wire.Verack{})))
			Expect(srv.Close()).To(Succeed())
			Expect(got.Messages()).To(ConsistOf(ContainSubstring(`script "never"`)))
		})

		It("does not count HoldOpen or a profile ended by Close as unfinished", func() {
			srv := mockpeer.NewServer()
			srv.AppendScripts(
				mockpeer.NewScript("", mockpeer.Send(wire.Verack{}), mockpeer.HoldOpen()),
				mockpeer.CoreResponder().HandshakeTimeout(0).Script())
			a, b := dialRaw(srv.Addr()), dialRaw(srv.Addr())
			a.next()
			b.send(clientVersion(70016, 1))
			b.commands(4)
			Expect(srv.Close()).To(Succeed())
		})

		It("counts steps after a HoldOpen ended by Close as cut off", func() {
			srv := mockpeer.NewServer()
			srv.AppendScripts(mockpeer.NewScript("", mockpeer.HoldOpen(), mockpeer.Send(wire.Verack{})))
			// Accepted alone does not say the script has reached HoldOpen
			// (Close could cut it off before that step); a message
			// HoldOpen has read and recorded does.
			dialRaw(srv.Addr()).send(wire.Ping{Nonce: 1})
			Eventually(srv.Received).Should(HaveLen(1), "HoldOpen is reading")
			err := srv.Close()
			Expect(err).To(MatchError(mockpeer.ErrCutOff))
			Expect(err.Error()).To(ContainSubstring(`Send(verack)`))
		})

		It("reports a connection nobody scripted", func() {
			srv, got := newCapturingServer()
			dialRaw(srv.Addr()).expectEOF()
			Eventually(got.Messages).Should(ConsistOf(ContainSubstring("connection with no script")))
		})
	})

	It("report a reaction's error at the line that built the profile", func() {
		srv, got := newCapturingServer()
		p, at := mockpeer.CoreResponder().Named("picky"), here()
		p = p.On(wire.CmdVersion, func(*mockpeer.Conn, mockpeer.Incoming) ([]wire.Message, error) {
			return nil, fmt.Errorf("versions are not welcome")
		})
		srv.AppendScripts(p.Script())
		c := dialRaw(srv.Addr())
		c.send(&wire.Version{ProtocolVersion: wire.ProtocolVersion, Nonce: 1})
		c.expectEOF()
		Eventually(got.Messages).Should(ConsistOf(SatisfyAll(
			ContainSubstring(`Profile("picky") at %s`, at),
			ContainSubstring("versions are not welcome"))))
	})

	It("report a route's error at the line that added it", func() {
		srv, got := newCapturingServer()
		srv.Route(wire.CmdPing, func(*mockpeer.Conn, mockpeer.Incoming) ([]wire.Message, error) {
			return nil, errors.New("route broke")
		})
		at := here()
		srv.AppendScripts(mockpeer.NewScript("", mockpeer.Expect(wire.CmdVerack)))
		c := dialRaw(srv.Addr())
		c.send(wire.Ping{Nonce: 1}, wire.Verack{})
		Eventually(got.Messages).Should(ConsistOf(SatisfyAll(ContainSubstring(`Route("ping")`), ContainSubstring("route broke"))))
		line := strings.Split(at, ":")
		where := strings.Split(srv.Failures()[0].At, ":")
		Expect(mustAtoi(where[len(where)-1])).To(Equal(mustAtoi(line[len(line)-1]) - 3))
	})
})

// fakeTB implements the part of testing.TB a fail handler uses.
type fakeTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Errors() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errs...)
}

func mustAtoi(s string) int {
	var n int
	_, err := fmt.Sscan(s, &n)
	Expect(err).NotTo(HaveOccurred())
	return n
}
