package integration

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"time"

	"github.com/testcontainers/testcontainers-go"
)

// Option configures a node for [Run], [RunBitcoind], [StartProcess] and
// [StartBitcoindProcess]. It is also a testcontainers.ContainerCustomizer,
// so the container launchers take it next to testcontainers' own options.
type Option func(*settings) error

// Customize implements testcontainers.ContainerCustomizer. Options act on
// the node's command line, which the launchers build from all options
// before the container request is made, so there is nothing to do here.
func (Option) Customize(*testcontainers.GenericContainerRequest) error { return nil }

type settings struct {
	rpcUser        string
	rpcPass        string
	extraArgs      []string
	v2transport    bool
	peerTimeout    time.Duration
	startupTimeout time.Duration
	runID          string
	binary         string
	logOutput      io.Writer
}

func defaultSettings() (settings, error) {
	pass := make([]byte, 16)
	if _, err := rand.Read(pass); err != nil {
		return settings{}, err
	}
	return settings{
		rpcUser:        "btc-handshake",
		rpcPass:        hex.EncodeToString(pass),
		startupTimeout: 60 * time.Second,
	}, nil
}

// applyOptions applies the Options among opts (other customizers are left
// to testcontainers).
func applyOptions[T any](opts []T) (settings, error) {
	s, err := defaultSettings()
	if err != nil {
		return s, err
	}
	for _, o := range opts {
		if opt, ok := any(o).(Option); ok {
			if err := opt(&s); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

// WithRPCAuth sets the RPC user name and password. By default the user is
// "btc-handshake" and the password is random per node.
func WithRPCAuth(user, password string) Option {
	return func(s *settings) error {
		if user == "" || password == "" {
			return errors.New("WithRPCAuth: empty user or password")
		}
		s.rpcUser, s.rpcPass = user, password
		return nil
	}
}

// WithExtraArgs appends arguments to the node's command line, after the ones
// the launcher sets (btcd and bitcoind let a later flag override an earlier
// one for single-valued settings).
func WithExtraArgs(args ...string) Option {
	return func(s *settings) error {
		s.extraArgs = append(s.extraArgs, args...)
		return nil
	}
}

// WithV2Transport turns BIP324 v2 transport on or off. Bitcoin Core is
// started with -v2transport=1 or =0 accordingly (its own default is on; ours
// is off, to match btcd); btcd gets --v2transport when on.
func WithV2Transport(on bool) Option {
	return func(s *settings) error {
		s.v2transport = on
		return nil
	}
}

// WithPeerTimeout sets Bitcoin Core's -peertimeout, how long it waits for a
// silent peer's version or verack (rounded up to whole seconds). btcd has no
// such setting (it waits 30 s), so its launchers refuse this option.
func WithPeerTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d <= 0 {
			return errors.New("WithPeerTimeout: timeout must be positive")
		}
		s.peerTimeout = d
		return nil
	}
}

// WithStartupTimeout bounds the wait for the node's ready log line
// (default 60 s).
func WithStartupTimeout(d time.Duration) Option {
	return func(s *settings) error {
		if d <= 0 {
			return errors.New("WithStartupTimeout: timeout must be positive")
		}
		s.startupTimeout = d
		return nil
	}
}

// WithRunID sets the value of the [LabelRun] label on the container, so that
// [RemoveContainers] can sweep one test run's containers. The default is
// testcontainers' session id, which is unique per process; set it to share
// one id between the processes of a parallel test run. Process launchers
// ignore it.
func WithRunID(id string) Option {
	return func(s *settings) error {
		if id == "" {
			return errors.New("WithRunID: empty id")
		}
		s.runID = id
		return nil
	}
}

// WithBinary names the node executable for the process launchers, instead
// of the default (btcd built from its Go module, or [EnvBtcdBinary]; for
// bitcoind [EnvBitcoindBinary] or PATH). Container launchers refuse it.
func WithBinary(path string) Option {
	return func(s *settings) error {
		if path == "" {
			return errors.New("WithBinary: empty path")
		}
		s.binary = path
		return nil
	}
}

// WithLogOutput copies the node's console output to w as it is written, in
// addition to keeping it for Logs (for example to GinkgoWriter). Process
// launchers only; for containers pass testcontainers.WithLogConsumers.
func WithLogOutput(w io.Writer) Option {
	return func(s *settings) error {
		s.logOutput = w
		return nil
	}
}
