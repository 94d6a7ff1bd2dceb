//go:build linux

package handshake_test

import (
	"context"
	"log/slog"
	"net"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// atFinish is a slog.Handler that calls f when the client logs the end of
// its handshake: after its last write, before Dial closes the connection.
type atFinish struct{ f func() }

func (h atFinish) Enabled(context.Context, slog.Level) bool { return true }
func (h atFinish) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "handshake finished" {
		h.f()
	}
	return nil
}
func (h atFinish) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h atFinish) WithGroup(string) slog.Handler      { return h }

// readNow makes one non-blocking read of conn: what is there already.
func readNow(conn net.Conn, buf []byte) (int, error) {
	rc, err := conn.(*net.TCPConn).SyscallConn()
	Expect(err).NotTo(HaveOccurred())
	var n int
	var rerr error
	Expect(rc.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), buf)
		return true
	})).To(Succeed())
	return n, rerr
}

func coreLikeVersion() *wire.Version {
	return &wire.Version{ProtocolVersion: wire.ProtocolVersion, Nonce: 7, UserAgent: "/peer/", Relay: true}
}

// verackAfterOurs starts a peer that answers the client's version with
// first, then sends a good verack only once the client's verack has come,
// and reports on served how that went. It returns the peer's address.
func verackAfterOurs(first []byte) (string, <-chan error) {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(ln.Close)
	served := make(chan error, 1)
	go func() {
		defer GinkgoRecover()
		conn, err := ln.Accept()
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		Expect(conn.SetDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
		r := wire.NewReader(conn, wire.Regtest)
		f, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal(wire.CmdVersion))
		_, err = conn.Write(first)
		Expect(err).NotTo(HaveOccurred())
		for {
			f, err := r.Next()
			if err != nil {
				served <- err
				return
			}
			if f.Command() == wire.CmdVerack {
				break
			}
		}
		_, err = conn.Write(wire.AppendMessage(nil, wire.Regtest, wire.Verack{}))
		served <- err
	}()
	return ln.Addr().String(), served
}

var _ = Describe("Dial's last write", func() {
	It("goes out with the FIN when the peer's verack came with its version (Core's order: version, wtxidrelay, sendaddrv2, verack)", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ln.Close)
		served := make(chan net.Conn, 1)
		go func() {
			defer GinkgoRecover()
			conn, err := ln.Accept()
			Expect(err).NotTo(HaveOccurred())
			Expect(conn.SetDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
			f, err := wire.NewReader(conn, wire.Regtest).Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal(wire.CmdVersion))
			reply := wire.AppendMessage(nil, wire.Regtest, coreLikeVersion())
			reply = wire.AppendMessage(reply, wire.Regtest, wire.WtxidRelay{})
			reply = wire.AppendMessage(reply, wire.Regtest, wire.SendAddrV2{})
			_, err = conn.Write(wire.AppendMessage(reply, wire.Regtest, wire.Verack{}))
			Expect(err).NotTo(HaveOccurred())
			served <- conn
		}()

		want := wire.AppendMessage(nil, wire.Regtest, wire.WtxidRelay{})
		want = wire.AppendMessage(want, wire.Regtest, wire.SendAddrV2{})
		want = wire.AppendMessage(want, wire.Regtest, wire.Verack{})
		buf := make([]byte, 1024)
		var first, second int
		var firstErr, secondErr error
		var conn net.Conn
		log := slog.New(atFinish{f: func() {
			// The handshake is complete and our verack written; the
			// connection is not closed yet.
			Eventually(served).Should(Receive(&conn))
			first, firstErr = readNow(conn, buf)
			second, secondErr = readNow(conn, buf[max(first, 0):])
		}})
		res, err := handshake.Dial(context.Background(), ln.Addr().String(),
			handshake.Config{Network: wire.Regtest, Timeout: 5 * time.Second, Logger: log})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.OK()).To(BeTrue())
		Expect(conn).NotTo(BeNil())
		DeferCleanup(conn.Close)
		// One read takes wtxidrelay, sendaddrv2 and verack whole (one
		// segment), the next one the end of the stream: the peer never
		// holds our verack without the FIN.
		Expect(firstErr).NotTo(HaveOccurred())
		Expect(buf[:first]).To(Equal(want))
		Expect(secondErr).NotTo(HaveOccurred())
		Expect(second).To(BeZero(), "the end of the stream came with our verack")
		Expect(res.Transcript).To(ContainElement(HaveField("Command", wire.CmdVerack)))
	})

	It("reaches the peer even when a message of the peer is unread at the close (the close then resets the connection)", func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ln.Close)
		served := make(chan net.Conn, 1)
		go func() {
			defer GinkgoRecover()
			conn, err := ln.Accept()
			Expect(err).NotTo(HaveOccurred())
			Expect(conn.SetDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
			f, err := wire.NewReader(conn, wire.Regtest).Next()
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Command()).To(Equal(wire.CmdVersion))
			reply := wire.AppendMessage(nil, wire.Regtest, coreLikeVersion())
			_, err = conn.Write(wire.AppendMessage(reply, wire.Regtest, wire.Verack{}))
			Expect(err).NotTo(HaveOccurred())
			served <- conn
		}()
		var conn net.Conn
		log := slog.New(atFinish{f: func() {
			// After our last write, before the close: a message the
			// client will never read (an old peer's alert, a ping).
			Eventually(served).Should(Receive(&conn))
			_, err := conn.Write(wire.AppendMessage(nil, wire.Regtest, wire.Ping{Nonce: 1}))
			Expect(err).NotTo(HaveOccurred())
		}})
		res, err := handshake.Dial(context.Background(), ln.Addr().String(),
			handshake.Config{Network: wire.Regtest, Timeout: 5 * time.Second, Logger: log})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.OK()).To(BeTrue())
		Expect(conn).NotTo(BeNil())
		DeferCleanup(conn.Close)
		r := wire.NewReader(conn, wire.Regtest)
		var got []string
		for {
			f, err := r.Next()
			if err != nil {
				break
			}
			got = append(got, f.Command())
		}
		Expect(got).To(Equal([]string{wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack}))
	})

	It("is not held back for a buffered verack that turns out broken (bad checksum): the peer gets ours and sends a good one", func() {
		reply := wire.AppendMessage(nil, wire.Regtest, coreLikeVersion())
		broken := wire.AppendMessage(nil, wire.Regtest, wire.Verack{})
		broken[20] ^= 0xff // checksum
		addr, served := verackAfterOurs(append(reply, broken...))
		res, err := handshake.Dial(context.Background(), addr, handshake.Config{Network: wire.Regtest, Timeout: 5 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.OK()).To(BeTrue())
		Expect(res.Quirks).To(ContainElement(handshake.QuirkBadChecksum))
		var serr error
		Eventually(served).Should(Receive(&serr))
		Expect(serr).NotTo(HaveOccurred())
	})

	It("is sent at once when the peer's verack has not come yet", func() {
		addr, served := verackAfterOurs(wire.AppendMessage(nil, wire.Regtest, coreLikeVersion()))
		res, err := handshake.Dial(context.Background(), addr, handshake.Config{Network: wire.Regtest, Timeout: 5 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.OK()).To(BeTrue())
		var serr error
		Eventually(served).Should(Receive(&serr))
		Expect(serr).NotTo(HaveOccurred())
	})
})
