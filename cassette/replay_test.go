package cassette_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// clientTimeout is our client's timeout in the round trips: above every
// scenario's delay that a completing client must wait out (slow-verack,
// 300 ms), below the step timeout of the mocks.
const clientTimeout = time.Second

// notes collects what a mock's fail handler reports.
type notes struct {
	mu   sync.Mutex
	list []string
}

func (n *notes) add(msg string, _ ...int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.list = append(n.list, msg)
}

func (n *notes) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.list...)
}

// serve starts a mock playing sc, closed after the spec.
func serve(sc mockpeer.Script, n *notes, opts ...mockpeer.Option) *mockpeer.Server {
	srv := mockpeer.NewServer(append([]mockpeer.Option{mockpeer.WithStepTimeout(3 * time.Second),
		mockpeer.WithFailHandler(n.add)}, opts...)...)
	srv.SetDefaultScript(sc)
	DeferCleanup(srv.Close)
	return srv
}

// ourHandshake runs our client against addr, through d when not nil.
func ourHandshake(addr string, net wire.Network, d func(ctx context.Context, network, addr string) (net.Conn, error)) *handshake.Result {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, _ := handshake.Dial(ctx, addr, handshake.Config{Network: net, Timeout: clientTimeout, DialContext: d})
	return res
}

// transcript is a result's messages as direction and command.
func transcript(res *handshake.Result) []string {
	var out []string
	for _, e := range res.Transcript {
		dir := "sent"
		if e.Received {
			dir = "received"
		}
		out = append(out, fmt.Sprintf("%s %s", dir, e.Command))
	}
	return out
}

// verdict is what our client concluded.
func verdict(res *handshake.Result) string {
	if res.OK() {
		return "complete"
	}
	return "fail " + string(res.Kind())
}

// nodeScenarios are the v1 catalog's scenarios (each plays a node).
func nodeScenarios() []string { return scenarios.All().Transport("v1").Names() }

var _ = Describe("recording and replaying our client against the catalog", func() {
	entries := []TableEntry{}
	for _, name := range nodeScenarios() {
		entries = append(entries, Entry(name, name))
	}
	DescribeTable("the replay of a recording brings our client to the same verdict with the same transcript",
		func(name string) {
			sc, ok := scenarios.All().Get(name)
			Expect(ok).To(BeTrue())
			var origNotes, replayNotes notes
			orig := serve(sc.Script, &origNotes)
			rec := cassette.NewRecorder(wire.Regtest)
			first := ourHandshake(orig.Addr(), wire.Regtest, rec.Dialer(nil))
			c := roundTrip(rec.Cassette())
			Expect(c.Conns).To(HaveLen(1))
			cn := c.Conns[0]
			Expect(cn.Transport).To(Equal(cassette.TransportV1))
			Expect(cn.End.How).NotTo(Equal(cassette.EndOpen), "our client closes every connection it dials")
			Expect(cn.End.Dropped).To(BeZero())

			script, err := cassette.Replay(cn, cassette.ReplayOptions{Speed: 1})
			Expect(err).NotTo(HaveOccurred())
			replay := serve(script, &replayNotes)
			second := ourHandshake(replay.Addr(), wire.Regtest, nil)

			Expect(verdict(second)).To(Equal(verdict(first)))
			Expect(second.Phase).To(Equal(first.Phase))
			Expect(transcript(second)).To(Equal(transcript(first)))
			Expect(replay.Close()).To(Succeed())
			Expect(replayNotes.all()).To(BeEmpty(), "the replay found the client where the recording had it")
			// The scenario built from the cassette expects what the
			// recorded client concluded.
			s, err := cassette.Scenario(name, cn, cassette.ReplayOptions{Speed: 1})
			Expect(err).NotTo(HaveOccurred())
			Expect(s.Expect.Complete).To(Equal(first.OK()))
		}, entries)

	It("reports a client that departs from the recording, with the position and both messages", func() {
		c := handmade("/Satoshi:30.0.0/")
		cn := c.Conns[0]
		// The recorded client said ping where ours says version.
		for i := range cn.Events {
			if cn.Events[i].From == cassette.Client && len(cn.Events[i].Msgs) > 0 {
				cn.Events[i].Msgs = []cassette.Message{{Cmd: "ping", Len: 8}}
			}
		}
		script, err := cassette.Replay(cn, cassette.ReplayOptions{})
		Expect(err).NotTo(HaveOccurred())
		var n notes
		srv := serve(script, &n)
		res := ourHandshake(srv.Addr(), wire.Regtest, nil)
		Expect(res.OK()).To(BeFalse())
		Expect(srv.Close()).To(Succeed())
		Expect(n.all()).To(ContainElement(SatisfyAll(
			ContainSubstring("client message 1"), ContainSubstring("recorded ping"), ContainSubstring("sent version"))))
	})

	It("refuses to replay what has no bytes or is encrypted", func() {
		_, err := cassette.Replay(cassette.Conn{ID: 3, Transport: cassette.TransportV2}, cassette.ReplayOptions{})
		Expect(err).To(MatchError(ContainSubstring("v2")))
		_, err = cassette.Replay(cassette.Conn{ID: 4, Events: []cassette.Event{{From: cassette.Node,
			Msgs: []cassette.Message{{Cmd: "verack"}}}}}, cassette.ReplayOptions{})
		Expect(err).To(MatchError(ContainSubstring("no bytes")))
	})

	It("bounds what it keeps of a connection and counts the rest", func() {
		var n notes
		srv := serve(mustScenario("burst-10000-after-verack").Script, &n)
		rec := cassette.NewRecorder(wire.Regtest)
		rec.MaxConnBytes = 300
		ourHandshake(srv.Addr(), wire.Regtest, rec.Dialer(nil))
		cn := rec.Cassette().Conns[0]
		kept := 0
		for _, e := range cn.Events {
			kept += len(e.Bytes)
		}
		Expect(kept).To(Equal(300))
		Expect(cn.End.Dropped).To(BeNumerically(">", 0))
	})

	It("records a mock's connections through its listener, the mock as the node", func() {
		var n notes
		rec := cassette.NewRecorder(wire.Regtest)
		ln := must(listenLoopback())
		srv := mockpeer.NewUnstartedServer(mockpeer.WithStepTimeout(3*time.Second), mockpeer.WithFailHandler(n.add))
		srv.Listener = rec.Listener(ln)
		srv.SetDefaultScript(mustScenario("core-v30-responder").Script)
		Expect(srv.Start()).To(Succeed())
		DeferCleanup(srv.Close)
		res := ourHandshake(srv.Addr(), wire.Regtest, nil)
		Expect(res.OK()).To(BeTrue())
		// The mock reads to our client's close before its script ends.
		Eventually(srv.Finished).Should(Equal(1))
		Expect(srv.Close()).To(Succeed())
		c := rec.Cassette()
		Expect(c.Conns).To(HaveLen(1))
		Expect(c.Conns[0].Node).To(Equal(srv.Addr()))
		// Our client leaves after its verack: what the mock writes after
		// that may find it gone.
		Expect(commands(c.Conns[0], cassette.Node)[:4]).To(HaveExactElements("version", "wtxidrelay", "sendaddrv2", "verack"))
		Expect(commands(c.Conns[0], cassette.Client)).To(SatisfyAll(HaveExactElements("version", "wtxidrelay", "sendaddrv2", "verack")),
			"what the mock read from our client")
		Expect(c.Conns[0].End.By).To(Equal(cassette.Client))
	})
})

func mustScenario(name string) scenarios.Scenario {
	s, ok := scenarios.All().Get(name)
	Expect(ok).To(BeTrue(), name)
	return s
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
