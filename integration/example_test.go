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
func ExampleRun() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	img, err := integration.BuildBtcdImage(ctx) // built locally, nothing pulled
	if err != nil {
		fmt.Println(err) // integration.ErrDockerUnavailable without an engine
		return
	}
	node, err := integration.Run(ctx, img)
	if node != nil {
		// Run returns the container even with an error, so it can be removed.
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
}

// Starting btcd as a local process instead: no Docker, a btcd binary
// (WithBinary, $BTC_HANDSHAKE_BTCD, or built from btcd's Go module). Like
// ExampleRun, it is compiled by go test but not run.
func ExampleStartProcess() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	node, err := integration.StartProcess(ctx)
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
