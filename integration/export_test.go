package integration

import (
	"github.com/testcontainers/testcontainers-go"
)

// What the external specs (package integration_test) need of the package's
// internals: the suite's image and binary builds, its sweep, and the
// constants its specs check.

var (
	DockerAvailable  = dockerAvailable
	BuildBtcdImage   = buildBtcdImage
	BuildBtcd        = buildBtcd
	ListContainers   = listContainers
	RemoveContainers = removeContainers
	Labels           = labels

	ErrRPCUnauthorized = errRPCUnauthorized
)

// RPCError is the node's error object, for the specs that check its code.
type RPCError = rpcError

const (
	ImplBtcd          = implBtcd
	ImplBitcoind      = implBitcoind
	RegtestP2PPort    = regtestP2PPort
	BtcdReadyLog      = btcdReadyLog
	BitcoindReadyLog  = bitcoindReadyLog
	EnvBitcoindImage  = envBitcoindImage
	EnvBitcoindBinary = envBitcoindBinary
	EnvBtcdBinary     = envBtcdBinary
)

// WithRunID labels a container with the suite's run id, so that the sweep
// after the suite finds this run's containers (those of all parallel
// processes) and no other's.
func WithRunID(id string) testcontainers.CustomizeRequestOption {
	return testcontainers.WithLabels(map[string]string{labelRun: id})
}

// RPCURL is the URL of a node's RPC server.
func RPCURL(n Node) string {
	switch n := n.(type) {
	case *Container:
		return n.rpc.url
	case *Process:
		return n.rpc.url
	}
	return ""
}

// RPCConfig and RPCNode let the RPC client's specs talk to a fake server
// through the Node's RPC methods.
type (
	RPCConfig = rpcConfig
	RPCNode   = rpcNode
)

// NewRPCNode returns the RPC methods of a Node whose RPC server is cfg's,
// and a function releasing its connections.
func NewRPCNode(cfg RPCConfig) (*RPCNode, func(), error) {
	c, err := newRPCClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	return &rpcNode{impl: "fake", rpc: c}, c.close, nil
}
