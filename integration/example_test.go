package integration_test

import (
	"context"
	"fmt"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/integration"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Starting a btcd regtest node in Docker and shaking hands with it. This
// example has no Output comment: go test compiles it but does not run it,
// since it needs a Docker engine (the docker lane of this package's suite
// runs the same steps).
func ExampleRunBtcd() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// An empty image: the default one, built locally, nothing pulled.
	node, err := integration.RunBtcd(ctx, "", integration.WithV2Transport(true))
	if node != nil {
		// RunBtcd returns the container even with an error, so it can be removed.
		defer func() { _ = node.Stop(context.Background()) }()
	}
	if err != nil {
		fmt.Println(err)
		return
	}

	res, err := handshake.Dial(ctx, node.P2PAddr(), handshake.Config{Network: wire.Regtest, Timeout: 5 * time.Second})
	if err != nil {
		fmt.Println(res.Kind(), res.Phase, err)
		return
	}
	fmt.Println("peer", res.Peer.UserAgent)
	peers, err := node.PeerInfo(ctx) // the node's view: our user agent, v2_connection
	fmt.Println(len(peers), err)
}

// A Bitcoin Core image is never built here: the user names one, here by
// BTC_HANDSHAKE_BITCOIND_IMAGE (an empty image), e.g. bitcoin/bitcoin:29.
// Flags without an option of their own go through WithExtraArgs. Compiled,
// not run.
func ExampleRunBitcoind() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	node, err := integration.RunBitcoind(ctx, "",
		integration.WithV2Transport(true), integration.WithExtraArgs("-peertimeout=5"))
	if node != nil {
		defer func() { _ = node.Stop(context.Background()) }()
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(node.Impl(), node.P2PAddr())
}

// Starting btcd as a local process instead: no Docker, a btcd binary (the
// one named, else $BTC_HANDSHAKE_BTCD, else built from btcd's Go module).
// Like ExampleRunBtcd, it is compiled by go test but not run.
func ExampleStartBtcd() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	node, err := integration.StartBtcd(ctx, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = node.Stop(context.Background()) }()

	res, err := handshake.Dial(ctx, node.P2PAddr(), handshake.Config{Network: wire.Regtest, Timeout: 5 * time.Second})
	if err != nil {
		fmt.Println(res.Kind(), res.Phase, err)
		return
	}
	fmt.Println("peer", res.Peer.UserAgent)
}

// A fault proxy between our client and a node: the node's bytes arrive one
// at a time, ours 150 ms late. Compiled, not run.
func ExampleStartFaultProxy() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	node, err := integration.StartBtcd(ctx, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = node.Stop(context.Background()) }()

	proxy, err := integration.StartFaultProxy(node.P2PAddr())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer proxy.Close()
	if err := proxy.Slice(1, 0, 200*time.Microsecond); err != nil { // node → client
		fmt.Println(err)
		return
	}
	if err := proxy.ToNode().Delay(150*time.Millisecond, 0); err != nil { // client → node
		fmt.Println(err)
		return
	}

	res, err := handshake.Dial(ctx, proxy.Addr(), handshake.Config{Network: wire.Regtest, Timeout: 5 * time.Second})
	fmt.Println(res.Kind(), err)
}
