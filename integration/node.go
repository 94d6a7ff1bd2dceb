package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Node is a running regtest node, whichever way it was launched: a
// [Container] from [RunBtcd] or [RunBitcoind], or a [Process] from
// [StartBtcd] or [StartBitcoind].
type Node interface {
	// Impl names the implementation behind the node: "btcd" or "bitcoind".
	Impl() string
	// P2PAddr is the host:port of the node's P2P listener, reachable from
	// the process that launched it.
	P2PAddr() string
	// Call invokes a JSON-RPC method of the node and returns its raw
	// result; an error object from the node is returned as an error whose text is
	// "rpc <method>: error <code>: <message>".
	Call(ctx context.Context, method string, params ...any) (json.RawMessage, error)
	// PeerInfo calls getpeerinfo.
	PeerInfo(ctx context.Context) ([]PeerInfo, error)
	// AddNode calls addnode: command "onetry" makes one connection attempt
	// to addr (host:port; the node resolves host names itself), "add" adds
	// a peer the node keeps connecting to, "remove" removes it.
	AddNode(ctx context.Context, addr, command string) error
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

// Node implementations, as Node.Impl names them.
const (
	implBtcd     = "btcd"
	implBitcoind = "bitcoind"
)

// Ports of a node inside its container (regtest defaults).
const (
	// regtestP2PPort is the regtest P2P port of btcd and Bitcoin Core.
	regtestP2PPort = "18444"
	// btcdRPCPort is btcd's regtest RPC port.
	btcdRPCPort = "18334"
	// bitcoindRPCPort is Bitcoin Core's regtest RPC port.
	bitcoindRPCPort = "18443"
)

// Log lines a launcher waits for before it reports the node ready.
const (
	// btcdReadyLog is logged by btcd's connection manager once its P2P
	// listener accepts connections.
	btcdReadyLog = "Server listening on"
	// btcdRPCReadyLog is logged by btcd once its RPC listener is up.
	btcdRPCReadyLog = "RPC server listening on"
	// bitcoindReadyLog is logged by bitcoind at the end of its init, after
	// its P2P and RPC listeners are bound.
	bitcoindReadyLog = "init message: Done loading"
)

// Environment variables read by this package.
const (
	// envBitcoindImage names a Bitcoin Core image for RunBitcoind with no
	// image, e.g. bitcoin/bitcoin:29.
	envBitcoindImage = "BTC_HANDSHAKE_BITCOIND_IMAGE"
	// envBitcoindBinary names a bitcoind executable for StartBitcoind with
	// no binary; without it bitcoind is looked up on PATH.
	envBitcoindBinary = "BTC_HANDSHAKE_BITCOIND"
	// envBtcdBinary names a btcd executable for StartBtcd with no binary;
	// without it btcd is built from the btcd Go module.
	envBtcdBinary = "BTC_HANDSHAKE_BTCD"
)

// rpcNode is what every Node knows once its node is up: where it listens
// and how to call it.
type rpcNode struct {
	impl    string
	p2pAddr string
	rpc     *rpcClient
}

// Impl implements [Node].
func (n *rpcNode) Impl() string { return n.impl }

// P2PAddr implements [Node].
func (n *rpcNode) P2PAddr() string { return n.p2pAddr }

// errNoRPC is returned by the RPC methods of a node whose launcher failed
// before it could reach the node's RPC server.
var errNoRPC = errors.New("node has no RPC client: it did not start")

// Call implements [Node].
func (n *rpcNode) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if n.rpc == nil {
		return nil, fmt.Errorf("rpc %s: %s: %w", method, n.impl, errNoRPC)
	}
	return n.rpc.call(ctx, method, params...)
}

// PeerInfo implements [Node].
func (n *rpcNode) PeerInfo(ctx context.Context) ([]PeerInfo, error) {
	if n.rpc == nil {
		return nil, fmt.Errorf("rpc getpeerinfo: %s: %w", n.impl, errNoRPC)
	}
	return n.rpc.peerInfo(ctx)
}

// AddNode implements [Node].
func (n *rpcNode) AddNode(ctx context.Context, addr, command string) error {
	_, err := n.Call(ctx, "addnode", addr, command)
	return err
}

// closeRPC releases the RPC client's idle connections, if there is a client.
func (n *rpcNode) closeRPC() {
	if n.rpc != nil {
		n.rpc.close()
	}
}
