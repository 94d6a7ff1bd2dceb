// Package hostile holds the misbehaving nodes that the specs of harness
// and of the CLI point the conformance probes at. They are deliberately
// not mock peers: a hostile node is whatever bytes it sends, with none of
// mockpeer's framing, bounds or scripts.
package hostile

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Serve listens on a loopback port and runs handle on every connection it
// accepts. stop closes the listener and every connection, and waits for
// the handlers.
func Serve(handle func(c net.Conn)) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { handle(c) })
		}
	})
	stop = func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
	return ln.Addr().String(), stop, nil
}

// Mute reads and discards until the connection ends: it never sends and
// never closes.
func Mute(c net.Conn) {
	var buf [512]byte
	for {
		if _, err := c.Read(buf[:]); err != nil {
			return
		}
	}
}

// InvBurst is a valid regtest inv frame of 1,000 entries (36 kB), 32
// times over.
func InvBurst() []byte {
	payload := []byte{0xfd, 0xe8, 0x03}
	payload = append(payload, bytes.Repeat(append([]byte{1, 0, 0, 0}, bytes.Repeat([]byte{0xab}, 32)...), 1000)...)
	frame := wire.NewRawFrame(wire.Regtest, wire.Raw{Cmd: "inv", Payload: payload}).Bytes()
	return bytes.Repeat(frame, 32)
}

// Flood returns a handler that writes InvBurst as fast as the connection
// takes it until the connection ends, reading (and dropping) what comes
// in, and counting the bytes written in sent (when not nil).
func Flood(sent *atomic.Int64) func(c net.Conn) {
	burst := InvBurst()
	return func(c net.Conn) {
		go Mute(c)
		for {
			n, err := c.Write(burst)
			if sent != nil {
				sent.Add(int64(n))
			}
			if err != nil {
				return
			}
		}
	}
}

// Escapes sends a reject whose rejected command and reason carry terminal
// escape sequences (clear screen, window title, bell, a forged line), then
// a frame whose command has an ESC byte, and then holds the connection.
func Escapes(c net.Conn) {
	var p []byte
	p = append(p, 4)
	p = append(p, "\x1b[2J"...)
	p = append(p, 0x01)
	reason := "\x1b]0;owned\x07\x1b[2J\r\x1b[1Aforged line"
	p = append(p, byte(len(reason)))
	p = append(p, reason...)
	_, _ = c.Write(wire.NewRawFrame(wire.Regtest, wire.Raw{Cmd: "reject", Payload: p}).Bytes())
	bad := wire.NewRawFrame(wire.Regtest, wire.Ping{Nonce: 1}).WithCommandBytes([wire.CommandSize]byte{'i', 'n', 0x1b, '[', '2', 'J'})
	_, _ = c.Write(bad.Bytes())
	Mute(c)
}
