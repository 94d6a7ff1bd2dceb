package handshake_test

import (
	"context"
	"fmt"
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
