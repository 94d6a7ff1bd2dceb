package integration

import (
	"context"
	"encoding/json"
)

// Impl names a node implementation.
type Impl string

const (
	// ImplBtcd is btcd (github.com/btcsuite/btcd).
	ImplBtcd Impl = "btcd"
	// ImplBitcoind is Bitcoin Core's bitcoind.
	ImplBitcoind Impl = "bitcoind"
)

// Node is a running regtest node, whichever way it was launched.
type Node interface {
	// Impl names the implementation behind the node.
	Impl() Impl
	// P2PAddr is the host:port of the node's P2P listener, reachable from
	// the process that launched it.
	P2PAddr() string
	// RPC is a JSON-RPC client authenticated against the node.
	RPC() *RPCClient
	// Logs returns everything the node has written to its console so far.
	Logs(ctx context.Context) (string, error)
	// Stop shuts the node down and releases what was made for it
	// (container, data directory). It is safe to call more than once.
	Stop(ctx context.Context) error
}

// PeerInfo is one entry of getpeerinfo, with the fields btcd and Bitcoin Core
// have in common plus a few of Core's. Fields a node does not report are
// left zero; Raw keeps the whole entry.
type PeerInfo struct {
	ID             int64  `json:"id"`
	Addr           string `json:"addr"`
	AddrLocal      string `json:"addrlocal"`
	Services       string `json:"services"`
	RelayTxes      bool   `json:"relaytxes"`
	LastSend       int64  `json:"lastsend"`
	LastRecv       int64  `json:"lastrecv"`
	BytesSent      uint64 `json:"bytessent"`
	BytesRecv      uint64 `json:"bytesrecv"`
	ConnTime       int64  `json:"conntime"`
	Version        uint32 `json:"version"`
	SubVer         string `json:"subver"`
	Inbound        bool   `json:"inbound"`
	StartingHeight int32  `json:"startingheight"`

	// ConnectionType is Bitcoin Core's connection_type
	// ("inbound", "outbound-full-relay", "manual", ...).
	ConnectionType string `json:"connection_type"`
	// TransportProtocolType is Bitcoin Core's transport_protocol_type
	// ("v1", "v2" or "detecting").
	TransportProtocolType string `json:"transport_protocol_type"`
	// V2Connection is btcd's v2_connection: the peer speaks BIP324 v2
	// (false for a v1 peer of a --v2transport node, which btcd detects).
	V2Connection bool `json:"v2_connection"`

	// Raw is the entry as the node sent it.
	Raw json.RawMessage `json:"-"`
}

// AddNodeCommand is the second argument of the addnode RPC.
type AddNodeCommand string

const (
	// AddNodeAdd adds a peer the node keeps connecting to.
	AddNodeAdd AddNodeCommand = "add"
	// AddNodeRemove removes a peer added with AddNodeAdd.
	AddNodeRemove AddNodeCommand = "remove"
	// AddNodeOneTry makes a single connection attempt.
	AddNodeOneTry AddNodeCommand = "onetry"
)

// Ports of a node inside its container (regtest defaults).
const (
	// RegtestP2PPort is the regtest P2P port of btcd and Bitcoin Core.
	RegtestP2PPort = "18444"
	// BtcdRPCPort is btcd's regtest RPC port.
	BtcdRPCPort = "18334"
	// BitcoindRPCPort is Bitcoin Core's regtest RPC port.
	BitcoindRPCPort = "18443"
)

// Log lines a launcher waits for before it reports the node ready.
const (
	// BtcdReadyLog is logged by btcd's connection manager once its P2P
	// listener accepts connections.
	BtcdReadyLog = "Server listening on"
	// btcdRPCReadyLog is logged by btcd once its RPC listener is up.
	btcdRPCReadyLog = "RPC server listening on"
	// BitcoindReadyLog is logged by bitcoind at the end of its init, after
	// its P2P and RPC listeners are bound.
	BitcoindReadyLog = "init message: Done loading"
)

// Environment variables read by this package.
const (
	// EnvBitcoindImage names a Bitcoin Core image for the Docker lane,
	// e.g. bitcoin/bitcoin:29. Its entrypoint must run bitcoind with the
	// container's command as arguments (true of the common bitcoind images).
	EnvBitcoindImage = "BTC_HANDSHAKE_BITCOIND_IMAGE"
	// EnvBitcoindBinary names a bitcoind executable for the process lane;
	// without it bitcoind is looked up on PATH.
	EnvBitcoindBinary = "BTC_HANDSHAKE_BITCOIND"
	// EnvBtcdBinary names a prebuilt btcd executable for the process lane;
	// without it btcd is built from the btcd Go module.
	EnvBtcdBinary = "BTC_HANDSHAKE_BTCD"
)
