package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"time"

	"github.com/testcontainers/testcontainers-go"
)

// Option configures a node for any of the four launchers ([RunBtcd],
// [RunBitcoind], [StartBtcd], [StartBitcoind]). It is also a
// testcontainers.ContainerCustomizer, so the container launchers take it
// next to testcontainers' own options (network.WithNetwork,
// testcontainers.WithLogger, ...).
type Option func(*settings)

// Customize implements testcontainers.ContainerCustomizer. Options act on
// the node's command line, which the launchers build from all options
// before the container request is made, so there is nothing to do here.
func (Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

type settings struct {
	rpcUser     string
	rpcPass     string
	extraArgs   []string
	v2transport bool
	logOutput   io.Writer
}

// defaultStartupTimeout bounds the wait for a node's ready line when the
// caller's context has no deadline.
const defaultStartupTimeout = 60 * time.Second

// startupTimeout is how long a launcher waits for the node to be ready:
// until ctx's deadline, or defaultStartupTimeout.
func startupTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return time.Until(d)
	}
	return defaultStartupTimeout
}

// applyOptions applies the Options among opts (other customizers are left
// to testcontainers). The RPC password is random per node: the RPC client
// is ours, reached through the Node's methods.
func applyOptions[T any](opts []T) (settings, error) {
	pass := make([]byte, 16)
	if _, err := rand.Read(pass); err != nil {
		return settings{}, err
	}
	s := settings{rpcUser: "btc-handshake", rpcPass: hex.EncodeToString(pass)}
	for _, o := range opts {
		if opt, ok := any(o).(Option); ok && opt != nil {
			opt(&s)
		}
	}
	return s, nil
}

// WithExtraArgs appends arguments to the node's command line, after the ones
// the launcher sets (btcd and bitcoind let a later flag override an earlier
// one for single-valued settings). For example Bitcoin Core's
// -peertimeout=5, how long it waits for a silent peer's version or verack
// (btcd has no such setting: it waits 30 s).
func WithExtraArgs(args ...string) Option {
	return func(s *settings) {
		s.extraArgs = append(s.extraArgs, args...)
	}
}

// WithV2Transport turns BIP324 v2 transport on or off. Bitcoin Core is
// started with -v2transport=1 or =0 accordingly (its own default is on; ours
// is off, to match btcd); btcd gets --v2transport when on.
func WithV2Transport(on bool) Option {
	return func(s *settings) {
		s.v2transport = on
	}
}

// WithLogOutput copies the node's console output to w as it is written
// (for example to GinkgoWriter), in addition to keeping it for Logs.
func WithLogOutput(w io.Writer) Option {
	return func(s *settings) {
		s.logOutput = w
	}
}
