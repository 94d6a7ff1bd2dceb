package mockpeer_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

func TestMockpeer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "mockpeer")
}

// Every spec must leave no goroutine behind once its servers are closed.
// The check is a cleanup registered first, so it runs after the specs'
// own DeferCleanup(srv.Close).
var _ = BeforeEach(func() {
	good := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).ShouldNot(gleak.HaveLeaked(good))
	})
})

const regtest = wire.Regtest

// newServer starts a mock whose failures fail the spec through Ginkgo's
// Fail, called from the server's goroutines: the integration ghttp has.
func newServer(opts ...mockpeer.Option) *mockpeer.Server {
	srv := mockpeer.NewServer(append([]mockpeer.Option{mockpeer.WithFailHandler(Fail)}, opts...)...)
	DeferCleanup(srv.Close)
	return srv
}

// captured is a fail handler that keeps messages for assertions.
type captured struct {
	mu   sync.Mutex
	msgs []string
}

func (c *captured) handle(message string, _ ...int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, message)
}

func (c *captured) Messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// newCapturingServer starts a mock whose failures are captured, for specs
// about failures.
func newCapturingServer(opts ...mockpeer.Option) (*mockpeer.Server, *captured) {
	c := &captured{}
	srv := mockpeer.NewServer(append([]mockpeer.Option{mockpeer.WithFailHandler(c.handle)}, opts...)...)
	DeferCleanup(srv.Close)
	return srv, c
}

// here returns the caller's file:line, to compare with failure locations.
func here() string {
	_, file, line, _ := runtime.Caller(1)
	return fmt.Sprintf("%s:%d", file, line)
}

// rawClient is a bare TCP client with our wire.Reader: it observes exactly
// what the mock writes.
type rawClient struct {
	conn net.Conn
	r    *wire.Reader
}

func dialRaw(addr string) *rawClient {
	GinkgoHelper()
	conn, err := net.Dial("tcp", addr)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = conn.Close() })
	return &rawClient{conn: conn, r: wire.NewReader(conn, regtest)}
}

func (c *rawClient) send(msgs ...wire.Message) {
	GinkgoHelper()
	for _, m := range msgs {
		Expect(c.conn.Write(wire.AppendMessage(nil, regtest, m))).Error().To(Succeed())
	}
}

func (c *rawClient) coalesce(msgs ...wire.Message) {
	GinkgoHelper()
	var b []byte
	for _, m := range msgs {
		b = wire.AppendMessage(b, regtest, m)
	}
	_, err := c.conn.Write(b)
	Expect(err).NotTo(HaveOccurred())
}

func (c *rawClient) write(b []byte) {
	GinkgoHelper()
	_, err := c.conn.Write(b)
	Expect(err).NotTo(HaveOccurred())
}

// next returns the next frame's command and decoded message.
func (c *rawClient) next() (string, wire.Message) {
	GinkgoHelper()
	Expect(c.conn.SetReadDeadline(time.Now().Add(3 * time.Second))).To(Succeed())
	f, err := c.r.Next()
	Expect(err).NotTo(HaveOccurred())
	m, err := wire.Decode(f.Command(), f.Payload)
	Expect(err).NotTo(HaveOccurred())
	return f.Command(), m
}

// commands reads n frames and returns their commands.
func (c *rawClient) commands(n int) []string {
	GinkgoHelper()
	out := make([]string, n)
	for i := range out {
		out[i], _ = c.next()
	}
	return out
}

// readEnd reads until the stream ends and returns the frames seen and the
// final error.
func (c *rawClient) readEnd() ([]string, error) {
	GinkgoHelper()
	Expect(c.conn.SetReadDeadline(time.Now().Add(3 * time.Second))).To(Succeed())
	var cmds []string
	for {
		f, err := c.r.Next()
		if err != nil {
			return cmds, err
		}
		cmds = append(cmds, f.Command())
	}
}

// expectEOF asserts that the mock closes the connection, having sent want.
func (c *rawClient) expectEOF(want ...string) {
	GinkgoHelper()
	cmds, err := c.readEnd()
	Expect(err).To(MatchError(io.EOF))
	if len(want) == 0 {
		Expect(cmds).To(BeEmpty())
	} else {
		Expect(cmds).To(Equal(want))
	}
}

// expectSilence asserts that nothing arrives for d (and the connection stays).
func (c *rawClient) expectSilence(d time.Duration) {
	GinkgoHelper()
	Expect(c.conn.SetReadDeadline(time.Now().Add(d))).To(Succeed())
	f, err := c.r.Next()
	Expect(err).To(MatchError(os.ErrDeadlineExceeded), "got %q", f.Command())
}

// readOnce performs one Read and splits what it got into frames.
func (c *rawClient) readOnce() (cmds []string, msgs []wire.Message) {
	GinkgoHelper()
	Expect(c.r.Buffered()).To(BeZero())
	buf := make([]byte, 1<<16)
	Expect(c.conn.SetReadDeadline(time.Now().Add(3 * time.Second))).To(Succeed())
	n, err := c.conn.Read(buf)
	Expect(err).NotTo(HaveOccurred())
	r := wire.NewReader(bytes.NewReader(buf[:n]), regtest)
	for {
		f, err := r.Next()
		if errors.Is(err, io.EOF) {
			return cmds, msgs
		}
		Expect(err).NotTo(HaveOccurred(), "one read must end on a frame boundary")
		m, err := wire.Decode(f.Command(), f.Payload)
		Expect(err).NotTo(HaveOccurred())
		cmds, msgs = append(cmds, f.Command()), append(msgs, m)
	}
}

func clientVersion(pv int32, services uint64) *wire.Version {
	return &wire.Version{
		ProtocolVersion: pv,
		Services:        services,
		Timestamp:       time.Now().Unix(),
		Nonce:           rand.Uint64() | 1,
		UserAgent:       "/raw-client:0.1/",
		Relay:           true,
	}
}

// btcec builds its curve tables on the first key it makes, which takes
// hundreds of milliseconds under the race detector: made before the specs,
// it cannot eat into the short deadlines of the v2 specs.
var _ = BeforeSuite(func() {
	_, err := bip324.NewKey()
	Expect(err).NotTo(HaveOccurred())
})

// commands lists the commands of frame records, in order.
func commands(records []mockpeer.Record) []string {
	out := make([]string, 0, len(records))
	for _, r := range records {
		if r.Event == "" && r.Command != "" {
			out = append(out, r.Command)
		}
	}
	return out
}

// answerPings is a reaction that answers a ping with a pong carrying its
// nonce, at any time (a ping without a nonce, before BIP31, gets none).
func answerPings() mockpeer.Reaction {
	return func(_ *mockpeer.Conn, in mockpeer.Incoming) ([]wire.Message, error) {
		p, ok := in.Message.(wire.Ping)
		if !ok || p.NoNonce {
			return nil, nil
		}
		return []wire.Message{wire.Pong{Nonce: p.Nonce}}, nil
	}
}
