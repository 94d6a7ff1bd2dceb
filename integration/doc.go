// Package integration launches real Bitcoin nodes in regtest for end-to-end
// tests, behind one [Node] interface: a P2P address reachable from the test
// process, a JSON-RPC client, the node's log, and Stop.
//
// Nodes are launched two ways:
//
//   - in Docker, through testcontainers-go ([Run] for btcd, [RunBitcoind] for
//     Bitcoin Core). The default btcd image is built locally FROM scratch
//     around a statically linked btcd compiled from the btcd Go module
//     ([BuildBtcdImage]), so no registry is needed. Ryuk is disabled by
//     default (its image would have to be pulled); containers carry the
//     [LabelManaged] and [LabelRun] labels instead and [RemoveContainers]
//     sweeps them.
//   - as local processes ([StartProcess] for btcd, [StartBitcoindProcess] for
//     Bitcoin Core) on loopback, for machines without a Docker engine.
//
// Every launcher waits for the node's own "ready" log line rather than for a
// port to open: a listening port says nothing about whether the node will
// answer a version message yet.
//
// A Bitcoin Core image or binary is never built here; the user names one with
// [EnvBitcoindImage] or [EnvBitcoindBinary] (or puts bitcoind on PATH).
//
// For a node that connects out (RPC addnode) to a mock peer of the test, a
// container's [BtcdContainer.HostIP] is the address at which it reaches the
// Docker host; a process node reaches loopback. [StartFaultProxy] puts an
// embedded toxiproxy (latency, slicing, bandwidth, reset, stall) between a
// client and a node.
//
// The package's specs are in lanes, by Ginkgo label: docker, process, fault
// (and e2e for the end-to-end ones; bitcoind for those that need Bitcoin
// Core). The e2e lanes run our client, our CLI and the conformance probes
// against real btcd, and keep FIDELITY.md, the comparison of real btcd with
// mockpeer's btcd profile, up to date.
package integration
