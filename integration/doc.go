// Package integration launches real Bitcoin nodes in regtest for end-to-end
// tests, behind one [Node] interface: a P2P address reachable from the test
// process, the node's JSON-RPC (Call, and PeerInfo and AddNode for what a
// handshake test asks of a node), its log, and Stop.
//
// Two node kinds, two lanes, four launchers:
//
//	          Docker (testcontainers-go)   local process
//	btcd      RunBtcd(ctx, img, opts...)   StartBtcd(ctx, bin, opts...)
//	bitcoind  RunBitcoind(ctx, img, ...)   StartBitcoind(ctx, bin, ...)
//
// The Docker launchers follow testcontainers-go's module shape: they take
// the image and any testcontainers.ContainerCustomizer (network.WithNetwork
// to join a Docker network, testcontainers.WithLogConsumers, ...), and
// return a [Container], which embeds testcontainers.Container, even with an
// error, so that it can always be stopped. The process launchers take the
// executable and return a [Process] listening on loopback, for machines
// without a Docker engine. An [Option] ([WithV2Transport], [WithExtraArgs],
// [WithLogOutput]) works with all four.
//
// An empty image or executable picks a default. For btcd it is built here,
// from the btcd Go module (this module's version, else v0.26.2): a static
// binary, cached under the user cache directory, and for Docker an image
// btc-handshake/btcd:<version> FROM scratch around it, so no registry is
// needed; $BTC_HANDSHAKE_BTCD names a prebuilt btcd for the process lane.
// Bitcoin Core is never built or pulled here: the user supplies it, by
// argument or with $BTC_HANDSHAKE_BITCOIND_IMAGE (e.g. bitcoin/bitcoin:29)
// and $BTC_HANDSHAKE_BITCOIND (else bitcoind on PATH).
//
// Every launcher waits for the node's own "ready" log line rather than for a
// port to open: a listening port says nothing about whether the node will
// answer a version message yet. The wait ends with the caller's context, or
// after 60 s when it has no deadline.
//
// Ryuk, testcontainers' reaper, is disabled unless TESTCONTAINERS_RYUK_DISABLED
// is set (to false, to keep it; its image would have to be pulled): Stop
// removes a container, and
// every container carries the label btc-handshake.managed=true, by which
// leftovers of a crashed run can be found and removed
// (docker rm -f $(docker ps -aq --filter label=btc-handshake.managed=true)).
//
// For a node that connects out (AddNode) to a mock peer of the test, a
// container's [Container.HostIP] is the address at which it reaches the
// Docker host; a process reaches loopback. Containers on one Docker network
// reach each other at alias:18444. [StartFaultProxy] puts an embedded
// toxiproxy between a client and a node, with faults (delay, tiny segments,
// bandwidth limit, reset, stall) in either direction.
//
// The package's specs are in lanes, by Ginkgo label: docker, process, fault
// (and e2e for the end-to-end ones; bitcoind for those that need Bitcoin
// Core). The e2e lanes run our client, our CLI and the conformance probes
// against real btcd, and keep FIDELITY.md, the comparison of real btcd with
// mockpeer's btcd profile, up to date.
package integration
