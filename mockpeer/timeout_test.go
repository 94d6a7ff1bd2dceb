package mockpeer_test

import (
	"errors"
	"io"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Issue 6, item 6, on the mock's side: a client that trickles one byte
// every 100 ms does not extend a profile's deadline. Bytes arriving do
// not move it; only a complete handshake (the peer timeout) or a complete
// frame (the idle timeout) does. Each phase is tried against both
// profiles, and the drop must come at the timeout, within 10 %.
var _ = Describe("Profile timeouts against a trickling client", func() {
	const (
		timeout = time.Second
		every   = 100 * time.Millisecond
	)
	type phase int
	const (
		beforeVersion phase = iota // trickling its version
		beforeVerack               // version sent, trickling its verack
		established                // handshake done, trickling a ping (idle timeout)
	)
	profiles := map[string]func() mockpeer.Profile{
		"CoreResponder": mockpeer.CoreResponder,
		"BtcdResponder": mockpeer.BtcdResponder,
	}

	DescribeTable("drops the client at the timeout (±10 %)", FlakeAttempts(3),
		func(name string, ph phase) {
			p := profiles[name]().HandshakeTimeout(timeout)
			if ph == established {
				p = p.HandshakeTimeout(10 * time.Second).IdleTimeout(timeout)
			}
			srv := serveProfile(p)
			c := dialRaw(srv.Addr())
			start := time.Now()

			v := clientVersion(70016, wire.NodeNetwork)
			replies := map[string]int{"CoreResponder": 4, "BtcdResponder": 3}[name] // version ... verack
			var trickled []byte
			switch ph {
			case beforeVersion:
				trickled = wire.AppendMessage(nil, regtest, v)
			case beforeVerack:
				c.send(v)
				c.commands(replies)
				trickled = wire.AppendMessage(nil, regtest, wire.Verack{})
			case established:
				c.send(v)
				c.commands(replies)
				c.send(wire.Verack{})
				if name == "CoreResponder" {
					c.commands(4) // sendcmpct, ping, getheaders, feefilter
				}
				start = time.Now()
				trickled = wire.AppendMessage(nil, regtest, wire.Ping{Nonce: 5})
			}

			stop := make(chan struct{})
			trickling := make(chan struct{})
			go func() {
				defer close(trickling)
				t := time.NewTicker(every)
				defer t.Stop()
				for i := range trickled {
					select {
					case <-t.C:
					case <-stop:
						return
					}
					if _, err := c.conn.Write(trickled[i : i+1]); err != nil {
						return // dropped: what is tested
					}
				}
			}()
			defer func() { close(stop); <-trickling }()

			_, err := c.readEnd()
			elapsed := time.Since(start)
			Expect(errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)).To(BeTrue(), "want the mock to hang up, got %v", err)
			AddReportEntry("time past the timeout", elapsed-timeout)
			Expect(elapsed).To(BeNumerically(">=", timeout-every/10))
			Expect(elapsed).To(BeNumerically("<=", timeout+timeout/10))
			Expect(srv.Transcript()).To(ContainElement(HaveField("Event", mockpeer.EventTimeout)))
		},
		Entry("CoreResponder, trickled version (peer timeout)", "CoreResponder", beforeVersion),
		Entry("CoreResponder, trickled verack (peer timeout)", "CoreResponder", beforeVerack),
		Entry("CoreResponder, trickled ping after the handshake (idle timeout)", "CoreResponder", established),
		Entry("BtcdResponder, trickled version (peer timeout)", "BtcdResponder", beforeVersion),
		Entry("BtcdResponder, trickled verack (peer timeout)", "BtcdResponder", beforeVerack),
		Entry("BtcdResponder, trickled ping after the handshake (idle timeout)", "BtcdResponder", established),
	)
})
