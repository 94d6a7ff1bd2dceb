package cassette_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// fidelityFile is the generated table of the mock's Core profile against
// the recorded Core, relative to this package's directory.
const fidelityFile = "../integration/FIDELITY-recorded.md"

// recordedPeerTimeout is the -peertimeout the recorded Core ran with.
const recordedPeerTimeout = 5 * time.Second

// reaction is what a node sent on a connection and how it ended, as a
// fidelity cell: "cmd cmd → closed", "nothing → open".
type reaction struct {
	cmds     []string
	closed   bool
	closedAt time.Duration
}

func (r reaction) String() string {
	s := "nothing"
	if len(r.cmds) > 0 {
		s = strings.Join(r.cmds, " ")
	}
	switch {
	case !r.closed:
		return s + " → open"
	case r.closedAt >= recordedPeerTimeout-time.Second:
		return s + " → closed at the peer timeout"
	}
	return s + " → closed"
}

// recordedReaction is what real Core did on cn: its messages, and whether
// it closed before the probe did.
func recordedReaction(cn cassette.Conn) reaction {
	r := reaction{cmds: nodeCommands(cn)}
	if cn.End.By == cassette.Node {
		r.closed, r.closedAt = true, time.Duration(cn.End.At)*time.Microsecond
	}
	return r
}

func nodeCommands(cn cassette.Conn) []string {
	var out []string
	for _, e := range cn.Events {
		if e.From != cassette.Node {
			continue
		}
		for _, m := range e.Msgs {
			switch {
			case m.V2 != "":
				out = append(out, "("+m.V2+")")
			case m.Err != "":
				out = append(out, "(broken)")
			default:
				out = append(out, m.Cmd)
			}
		}
	}
	return out
}

// playClient replays the client's side of cn against addr: its bytes
// with their segmentation at their recorded times, its close at its
// recorded time, and, where the node closed first, a wait until a second
// after the node's recorded close. It returns what the node at addr sent
// and whether it closed first.
func playClient(cn cassette.Conn, addr string, network wire.Network) reaction {
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	Expect(err).NotTo(HaveOccurred())
	defer nc.Close()
	start := time.Now()
	limit := time.Duration(cn.End.At)*time.Microsecond + time.Second
	got := make(chan struct {
		b        []byte
		closed   bool
		closedAt time.Duration
	}, 1)
	go func() {
		var all []byte
		buf := make([]byte, 4096)
		_ = nc.SetReadDeadline(start.Add(limit))
		for {
			n, err := nc.Read(buf)
			if len(all) < 1<<20 {
				all = append(all, buf[:n]...)
			}
			if err != nil {
				closed := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
				got <- struct {
					b        []byte
					closed   bool
					closedAt time.Duration
				}{all, closed, time.Since(start)}
				return
			}
		}
	}()
	var clientClose time.Duration = -1
	for _, e := range cn.Events {
		if e.From != cassette.Client {
			continue
		}
		time.Sleep(time.Until(start.Add(time.Duration(e.At) * time.Microsecond))) // the recorded timing is what is replayed
		if len(e.Bytes) > 0 {
			if _, err := nc.Write(e.Bytes); err != nil {
				break // the node is gone: the reader sees it
			}
		}
		if e.Close != "" {
			clientClose = time.Duration(e.At) * time.Microsecond
			break
		}
	}
	if cn.End.By == cassette.Client && clientClose >= 0 {
		// The probe left first: whatever the node does later, it was open.
		_ = nc.SetReadDeadline(time.Now())
	}
	res := <-got
	node := cassette.Conn{ID: cn.ID, Events: []cassette.Event{{From: cassette.Client, Bytes: clientBytes(cn)}}}
	if len(res.b) > 0 {
		node.Events = append(node.Events, cassette.Event{From: cassette.Node, Bytes: res.b})
	}
	c := &cassette.Cassette{Header: cassette.Header{Network: network.String()}, Conns: []cassette.Conn{node}}
	cassette.Decode(c)
	return reaction{cmds: nodeCommands(c.Conns[0]), closed: res.closed, closedAt: res.closedAt}
}

func clientBytes(cn cassette.Conn) []byte {
	var b []byte
	for _, e := range cn.Events {
		if e.From == cassette.Client {
			b = append(b, e.Bytes...)
		}
	}
	return b
}

// agree says whether the mock's reaction matches Core's: the same
// commands in the same order and the same end; a close at Core's peer
// timeout must come between that timeout and a second after it.
func agree(real, mock reaction) bool {
	if real.String() != mock.String() {
		return false
	}
	if real.closed && real.closedAt >= recordedPeerTimeout-time.Second {
		// Core checks its peers' timeouts once a second against a clock in
		// whole seconds (the recording: 5.95 s and 6.01 s after the
		// connect); the mock's timer fires at 5 s from its accept, which
		// comes a little after the client's connect returned here.
		return mock.closedAt >= recordedPeerTimeout-100*time.Millisecond && mock.closedAt <= recordedPeerTimeout+time.Second
	}
	return true
}

var _ = Describe("replaying the recordings of real Core v30", func() {
	It("brings our client through the five plain handshakes in Core's recorded order", func() {
		c := importPcap("core-v30-v2off-inbound.pcap")
		hs := plainHandshakes(c)
		Expect(hs).To(HaveLen(5))
		net, err := wire.ParseNetwork(c.Header.Network)
		Expect(err).NotTo(HaveOccurred())
		for _, cn := range hs {
			script, err := cassette.Replay(cn, cassette.ReplayOptions{Speed: 1})
			Expect(err).NotTo(HaveOccurred())
			var n notes
			srv := serve(script, &n, mockpeer.WithNetwork(net))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			// As recorded: -t 5 --linger 500ms.
			res, err := handshake.Dial(ctx, srv.Addr(), handshake.Config{Network: net, Timeout: 5 * time.Second,
				Linger: 500 * time.Millisecond})
			cancel()
			Expect(err).NotTo(HaveOccurred(), "conn %d", cn.ID)
			Expect(res.OK()).To(BeTrue())
			var received []string
			for _, e := range res.Transcript {
				if e.Dir == handshake.Received {
					received = append(received, e.Command)
				}
			}
			Expect(received).To(Equal(commands(cn, cassette.Node)), "conn %d", cn.ID)
			Expect(srv.Close()).To(Succeed())
			Expect(n.all()).To(BeEmpty(), "conn %d: our client departed from the recorded one", cn.ID)
		}
	})

	It("finds the mock's Core profile doing what real Core did on every recorded probe connection", func() {
		c := importPcap("core-v30-v2off-inbound.pcap")
		probes := probeAddrs("core-profile-vs-v2transport-off.ndjson")
		net, err := wire.ParseNetwork(c.Header.Network)
		Expect(err).NotTo(HaveOccurred())
		type row struct {
			probe      string
			real, mock reaction
		}
		var (
			mu   sync.Mutex
			rows []row
			wg   sync.WaitGroup
		)
		for _, cn := range c.Conns {
			probe, ok := probes[cn.Client]
			if !ok {
				continue
			}
			var n notes
			srv := serve(mockpeer.CoreResponder(mockpeer.WithPeerTimeout(recordedPeerTimeout)).Script(), &n,
				mockpeer.WithNetwork(net), mockpeer.WithStepTimeout(2*recordedPeerTimeout))
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				r := row{probe: probe, real: recordedReaction(cn), mock: playClient(cn, srv.Addr(), net)}
				mu.Lock()
				rows = append(rows, r)
				mu.Unlock()
			}()
		}
		wg.Wait()
		Expect(rows).To(HaveLen(len(probes)))
		sort.Slice(rows, func(i, j int) bool { return rows[i].probe < rows[j].probe })
		var table bytes.Buffer
		fmt.Fprintf(&table, "| probe | real Core v30 (recorded) | mock core | agree |\n|---|---|---|---|\n")
		var differ []string
		for _, r := range rows {
			ok := agree(r.real, r.mock)
			mark := "yes"
			if !ok {
				mark = "**no**"
				differ = append(differ, fmt.Sprintf("%s: real %s (%v), mock %s (%v)", r.probe, r.real, r.real.closedAt, r.mock, r.mock.closedAt))
			}
			fmt.Fprintf(&table, "| `%s` | %s | %s | %s |\n", r.probe, r.real, r.mock, mark)
		}
		AddReportEntry("fidelity of the core profile to the recorded Core v30", table.String())
		doc := fidelityDoc(table.String())
		if os.Getenv("BTC_HANDSHAKE_UPDATE_FIDELITY") != "" {
			Expect(os.WriteFile(fidelityFile, []byte(doc), 0o644)).To(Succeed())
		}
		Expect(differ).To(BeEmpty(), "the core profile differs from the recorded Core")
		on, err := os.ReadFile(fidelityFile)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(on)).To(Equal(doc), "%s is out of date: regenerate it with BTC_HANDSHAKE_UPDATE_FIDELITY=1 go test ./cassette", filepath.Base(fidelityFile))
	})
})

func fidelityDoc(table string) string {
	return `# Mock fidelity against the recorded Bitcoin Core v30

Every conformance probe's connection recorded in
` + "`../shared/recordings/core-v30/pcap/core-v30-v2off-inbound.pcap`" + ` (Bitcoin Core v30.0,
` + "`-v2transport=0 -peertimeout=5`" + `, regtest) is replayed from the client's side — the
probe's bytes with their recorded segmentation and timing, and its close — against
mockpeer's Core profile (` + "`mockpeer.CoreResponder`" + ` with a 5 s peer timeout). A cell
is what the node sent → how the connection ended: closed by the node first (at the
peer timeout when that is what closed it), or open until the probe left. The mock
agrees when it sent the same commands in the same order and ended the same way, a
timeout close within a second after the 5 s.

The ` + "`v2-on`" + ` recording (` + "`core-v2`" + `) waits for the mock's BIP324 responder.

Generated by the cassette package's specs, which fail when it is out of date:
` + "`BTC_HANDSHAKE_UPDATE_FIDELITY=1 go test ./cassette`" + `.

` + table
}
