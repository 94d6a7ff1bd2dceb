package handshake_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Dialing a peer: here a mock Bitcoin Core v30 on loopback, but any
// host:port of a node on the same network will do. Dial returns a Result
// in every case; its Err says what went wrong, typed by Kind and Phase.
func ExampleDial() {
	srv := mockpeer.NewServer()
	defer srv.Close()
	srv.SetDefaultScript(mockpeer.CoreResponder().Script())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := handshake.Dial(ctx, srv.Addr(), handshake.Config{Network: wire.Regtest, Timeout: 2 * time.Second})
	if err != nil {
		fmt.Println("failed:", res.Kind(), res.Phase, err)
		return
	}
	fmt.Printf("ok %v, peer %s, version %d\n", res.OK(), res.Peer.UserAgent, res.NegotiatedVersion)
	// Output: ok true, peer /Satoshi:30.0.0/, version 70016
}

// Handshaking on a connection of your own, then going on with it: the
// peer here sends a ping in the same write as its verack, and Result.Conn
// still holds it. The same code works over v2 (Config.Transport), where
// Result.Conn also holds the session's ciphers.
func ExampleRun() {
	srv := mockpeer.NewServer()
	defer srv.Close()
	srv.SetDefaultScript(mockpeer.NewScript("verack-then-ping",
		mockpeer.Expect(wire.CmdVersion),
		mockpeer.Send(&wire.Version{ProtocolVersion: wire.ProtocolVersion, Services: wire.NodeNetwork, Nonce: 7, UserAgent: "/example:0.1/", Relay: true},
			wire.Verack{}, wire.Ping{Nonce: 42}).Coalesced(),
		mockpeer.Expect(wire.CmdVerack),
		mockpeer.Expect(wire.CmdPong),
	))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", srv.Addr())
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := handshake.Run(ctx, nc, handshake.Config{Network: wire.Regtest, Timeout: 2 * time.Second})
	if err != nil {
		fmt.Println("failed:", err)
		_ = nc.Close()
		return
	}
	conn := res.Conn
	defer conn.Close()
	m, err := conn.ReadMessage(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	if ping, ok := m.(wire.Ping); ok {
		fmt.Println("ping", ping.Nonce)
		if err := conn.WriteMessage(ctx, wire.Pong{Nonce: ping.Nonce}); err != nil {
			fmt.Println(err)
		}
	}
	// Output: ping 42
}

// Surveying many peers with bounded concurrency: results stream in as
// handshakes end, one per target. Targets usually come from a DNS seed
// (Seed.Resolve).
func ExampleSurvey() {
	srv := mockpeer.NewServer()
	defer srv.Close()
	srv.SetDefaultScript(mockpeer.CoreResponder().Script())
	targets := []string{srv.Addr(), srv.Addr(), srv.Addr()}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	completed := 0
	for res := range handshake.Survey(ctx, targets, handshake.Config{Network: wire.Regtest, Timeout: 2 * time.Second}, 2) {
		if res.OK() {
			completed++
		} else {
			fmt.Println(res.Addr, res.Err)
		}
	}
	fmt.Printf("%d of %d peers completed the handshake\n", completed, len(targets))
	// Output: 3 of 3 peers completed the handshake
}
