package main_test

import (
	"errors"
	"net"
	"sync"
	"time"

	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

// behaviour is what a test peer does once it has read the client's version.
type behaviour func(c net.Conn, net wire.Network, theirs *wire.Version)

// testPeer is a loopback TCP peer that reads the client's version and then
// plays one behaviour. It exists so the CLI specs don't depend on the
// scenario catalog; the catalog has its own suite.
type testPeer struct {
	l  net.Listener
	wg sync.WaitGroup
}

func startPeer(addr string, n wire.Network, b behaviour) *testPeer {
	l, err := net.Listen("tcp", addr)
	Expect(err).NotTo(HaveOccurred())
	p := &testPeer{l: l}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				r := wire.NewReader(c, n)
				f, err := r.Next()
				if err != nil || f.Command() != wire.CmdVersion {
					return
				}
				var v wire.Version
				if v.DecodePayload(f.Payload) != nil {
					return
				}
				b(c, n, &v)
			}()
		}
	}()
	return p
}

func (p *testPeer) Addr() string { return p.l.Addr().String() }

func (p *testPeer) Close() {
	_ = p.l.Close()
	p.wg.Wait()
}

func version(pver int32, ua string) *wire.Version {
	return &wire.Version{ProtocolVersion: pver, Services: wire.NodeNetwork | wire.NodeWitness,
		Timestamp: time.Now().Unix(), Nonce: 42, UserAgent: ua, StartHeight: 100, Relay: true}
}

// coalesced answers as real peers often arrive (the original tool's log):
// version, wtxidrelay, sendaddrv2 and verack in one write.
func coalesced(ua string) behaviour {
	return func(c net.Conn, n wire.Network, _ *wire.Version) {
		var b []byte
		b = wire.AppendMessage(b, n, version(70016, ua))
		b = wire.AppendMessage(b, n, wire.WtxidRelay{})
		b = wire.AppendMessage(b, n, wire.SendAddrV2{})
		b = wire.AppendMessage(b, n, wire.Verack{})
		_, _ = c.Write(b)
		waitClosed(c)
	}
}

// noVerack sends its version and then holds the connection, silent.
func noVerack(c net.Conn, n wire.Network, _ *wire.Version) {
	_ = wire.WriteMessage(c, n, version(70016, "/Satoshi:0.21.0/"))
	waitClosed(c)
}

func waitClosed(c net.Conn) {
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			return
		}
	}
}
