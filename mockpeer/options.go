package mockpeer

import (
	"log/slog"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

const (
	// defaultStepTimeout is the deadline of steps that wait (Expect,
	// ExpectClosed, writes) when neither Within nor WithStepTimeout says
	// otherwise.
	defaultStepTimeout = 5 * time.Second
	// readerSize is the initial read buffer per connection: enough for a
	// handshake burst, grown by wire.Reader only for larger frames.
	readerSize = 256
)

// Option configures a Server (NewServer, NewUnstartedServer) or a Session
// (Dial).
type Option func(*config)

type config struct {
	network     wire.Network
	addr        string
	fail        func(message string, callerSkip ...int)
	stepTimeout time.Duration
	logger      *slog.Logger
	record      recordMode
	limit       recordLimit
	routes      map[string]route
}

func newConfig(opts []Option) config {
	c := config{
		network:     wire.Regtest,
		stepTimeout: defaultStepTimeout,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// WithNetwork sets the network whose magic frames carry (default regtest:
// a mock peer is a test double, and regtest is the network of our tests
// and integration nodes).
func WithNetwork(n wire.Network) Option { return func(c *config) { c.network = n } }

// WithAddr sets the mock's own address: where a Server listens (default
// "127.0.0.1:0"), such as "127.0.0.5:0" to give each mock its own loopback
// address; what a Dial binds its end to, such as "127.0.1.7:0" (btcd
// admits at most 8 unfinished handshakes per source /24, so parallel
// probes come from different loopback /24s). A Server given a Listener
// ignores it.
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithFailHandler sends failures to h, for example Ginkgo's Fail or a
// Gomega fail handler, or, with a testing.TB t,
// func(m string, _ ...int) { t.Error(m) }. It is called from server
// goroutines inside a function that recovers panics, so a handler that
// panics by design (as Ginkgo's Fail does outside the spec goroutine)
// records the failure and the goroutine goes on. Without a handler,
// failures are returned by Close (and Dial).
func WithFailHandler(h func(message string, callerSkip ...int)) Option {
	return func(c *config) { c.fail = h }
}

// WithStepTimeout sets the default deadline of waiting steps (default 5s).
// Step.Within overrides it for one step.
func WithStepTimeout(d time.Duration) Option { return func(c *config) { c.stepTimeout = d } }

// WithLogger logs connections, steps and failures to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

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
