package mockpeer

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Defaults.
const (
	// DefaultStepTimeout is the deadline of steps that wait (Expect,
	// ExpectClosed, writes) when neither Within nor WithStepTimeout says otherwise.
	DefaultStepTimeout = 5 * time.Second
	// DefaultNetwork is the network of servers and sessions without WithNetwork.
	DefaultNetwork = wire.Regtest
	// readerSize is the initial read buffer per connection: enough for a
	// handshake burst, grown by wire.Reader only for larger frames.
	readerSize = 256
)

// FailHandler receives failure messages. It has the signature of gomega's
// types.GomegaFailHandler and of Ginkgo's Fail.
type FailHandler = func(message string, callerSkip ...int)

// Option configures a Server (NewServer) or a Session (Dial).
type Option func(*config)

type config struct {
	network     wire.Network
	listenAddr  string
	listener    net.Listener
	localAddr   string
	fail        FailHandler
	tb          testing.TB
	stepTimeout time.Duration
	logger      *slog.Logger
	record      RecordMode
	limit       recordLimit
	routes      map[string]route
}

func newConfig(opts []Option) config {
	c := config{
		network:     DefaultNetwork,
		listenAddr:  "127.0.0.1:0",
		stepTimeout: DefaultStepTimeout,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.fail == nil && c.tb != nil {
		t := c.tb
		c.fail = func(message string, _ ...int) {
			t.Helper()
			t.Errorf("%s", message)
		}
	}
	return c
}

// WithNetwork sets the network whose magic frames carry (default regtest).
func WithNetwork(n wire.Network) Option { return func(c *config) { c.network = n } }

// WithListenAddr sets the address a Server listens on, such as
// "127.0.0.5:0" to give each mock its own loopback address. The default is
// "127.0.0.1:0". Dial ignores it.
func WithListenAddr(addr string) Option { return func(c *config) { c.listenAddr = addr } }

// WithLocalAddr binds the local end of a Dial, for example "127.0.1.7:0"
// (btcd admits at most 8 unfinished handshakes per source /24, so parallel
// probes come from different loopback /24s). Servers ignore it.
func WithLocalAddr(addr string) Option { return func(c *config) { c.localAddr = addr } }

// WithFailHandler sends failures to h, for example Ginkgo's Fail or a
// Gomega's fail handler. It is called from server goroutines inside a
// function that recovers panics, so a handler that panics by design (as
// Ginkgo's Fail does outside the spec goroutine) records the failure and the
// goroutine goes on.
func WithFailHandler(h func(message string, callerSkip ...int)) Option {
	return func(c *config) { c.fail = h }
}

// WithTB sends failures to t.Errorf (never t.FailNow, since failures happen
// on other goroutines) and registers Close with t.Cleanup, so every failure
// is reported before the test ends. WithFailHandler takes precedence.
func WithTB(t testing.TB) Option { return func(c *config) { c.tb = t } }

// WithStepTimeout sets the default deadline of waiting steps (default
// DefaultStepTimeout). Step.Within overrides it for one step.
func WithStepTimeout(d time.Duration) Option { return func(c *config) { c.stepTimeout = d } }

// WithLogger logs connections, steps and failures to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRecording chooses how much is recorded (default RecordAll).
func WithRecording(m RecordMode) Option { return func(c *config) { c.record = m } }

// WithRoute adds an always-on route, as Server.Route does; it is the way to
// give a Dial session routes.
func WithRoute(command string, r Reaction) Option {
	at := callerLocation()
	return func(c *config) {
		if c.routes == nil {
			c.routes = map[string]route{}
		}
		c.routes[command] = route{react: r, at: at}
	}
}
