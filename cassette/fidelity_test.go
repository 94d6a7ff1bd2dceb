package cassette_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
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
// fidelity cell: "cmd cmd → closed", "nothing → open", "non-v1 bytes
// (key) → open".
type reaction struct {
	cmds []string
	// key says the node's bytes were not v1 frames but the start of a
	// BIP324 handshake, n of them: random bytes, compared by shape only.
	key      bool
	n        int
	closed   bool
	closedAt time.Duration
}

func (r reaction) String() string {
	s := "nothing"
	switch {
	case r.key && r.n >= bip324.KeyLen:
		s = "non-v1 bytes (key)"
	case r.key:
		s = "non-v1 bytes (under 64)"
	case len(r.cmds) > 0:
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
	r := nodeReaction(cn)
	if cn.End.By == cassette.Node {
		r.closed, r.closedAt = true, time.Duration(cn.End.At)*time.Microsecond
	}
	return r
}

// nodeReaction is what the node sent on cn, decoded: its v1 commands, or,
// when its first bytes are not v1 framing, a v2 key and how many bytes.
func nodeReaction(cn cassette.Conn) reaction {
	var r reaction
	first := true
	for _, e := range cn.Events {
		if e.From != cassette.Node {
			continue
		}
		r.n += len(e.Bytes)
		for _, m := range e.Msgs {
			if first && m.V2 == cassette.V2Key {
				r.key = true
			}
			first = false
			switch {
			case r.key:
			case m.V2 != "":
				r.cmds = append(r.cmds, "("+m.V2+")")
			case m.Err != "":
				r.cmds = append(r.cmds, "(broken)")
			default:
				r.cmds = append(r.cmds, m.Cmd)
			}
		}
	}
	return r
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
	r := nodeReaction(c.Conns[0])
	r.closed, r.closedAt = res.closed, res.closedAt
	return r
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
				if e.Received {
					received = append(received, e.Command)
				}
			}
			Expect(received).To(Equal(commands(cn, cassette.Node)), "conn %d", cn.ID)
			Expect(srv.Close()).To(Succeed())
			Expect(n.all()).To(BeEmpty(), "conn %d: our client departed from the recorded one", cn.ID)
		}
	})

	It("finds the mock's Core profile doing what real Core did on every recorded probe connection, v2 off and on", func() {
		runs := []recording{
			{pcap: "core-v30-v2off-inbound.pcap", conform: "core-profile-vs-v2transport-off.ndjson", log: "v2transport-off.log",
				profile: mockpeer.CoreResponder().HandshakeTimeout(recordedPeerTimeout).V2Transport(nil)},
			{pcap: "core-v30-v2on-inbound.pcap", conform: "core-v2-profile-vs-v2transport-on.ndjson", log: "v2transport-on.log",
				profile: mockpeer.CoreResponder().HandshakeTimeout(recordedPeerTimeout)},
		}
		// btcec builds its curve tables on first use, which takes long
		// under the race detector: built now, they cannot eat into the
		// 500 ms in which a recorded probe watched for the mock's key.
		_, err := bip324.NewKey()
		Expect(err).NotTo(HaveOccurred())
		// Both runs at once: the slowest probes wait for the 5 s peer timeout.
		var wg sync.WaitGroup
		results := make([]map[string]probeResult, len(runs))
		for i, run := range runs {
			results[i] = startProbes(run, &wg)
		}
		wg.Wait()
		off, on := results[0], results[1]
		Expect(off).To(HaveLen(32))
		Expect(slices.Sorted(maps.Keys(on))).To(Equal(slices.Sorted(maps.Keys(off))), "the two runs probed the same")

		// The shapes the v2-on run must show, whatever the mock does: a v1
		// version gets v1, bytes that are not a v1 header get Core's key,
		// and a version header with another network's magic gets nothing
		// and a close ("V1 peer with wrong MessageStart").
		for _, probe := range []string{"verack-before-version", "ping-before-version", "unknown-before-version", "v2-key"} {
			Expect(on[probe].real.String()).To(HavePrefix("non-v1 bytes (key) → "), probe)
		}
		// A whole key lets the responder send its terminator and version
		// packet after its key and garbage.
		for _, r := range []reaction{on["v2-key"].real, on["v2-key"].mock} {
			Expect(r.n).To(BeNumerically(">=", bip324.KeyLen+bip324.TerminatorLen+bip324.Expansion), "v2-key")
		}
		for _, probe := range []string{"wrong-magic", "wrong-magic-frame"} {
			Expect(on[probe].real.String()).To(Equal("nothing → closed"), probe)
			Expect(on[probe].reason).To(Equal("V2 transport error: V1 peer with wrong MessageStart f9beb4d9"), probe)
			Expect(on[probe].mockClose).To(ContainSubstring("V1 peer with wrong MessageStart"), probe+": the mock's v1 detection closed it")
		}

		var table bytes.Buffer
		fmt.Fprintf(&table, "| probe | real Core v30 -v2transport=0 | mock core | real Core v30 -v2transport=1 | mock core (v2 default) | agree |\n|---|---|---|---|---|---|\n")
		var differ []string
		for _, probe := range slices.Sorted(maps.Keys(off)) {
			var bad []string
			for i, res := range []probeResult{off[probe], on[probe]} {
				if !agree(res.real, res.mock) {
					bad = append(bad, [2]string{"v2 off", "v2 on"}[i])
					differ = append(differ, fmt.Sprintf("%s (%s): real %s (%v, %s), mock %s (%v)", probe, bad[len(bad)-1],
						res.real, res.real.closedAt, res.reason, res.mock, res.mock.closedAt))
				}
			}
			mark := "yes"
			if len(bad) > 0 {
				mark = "**no** (" + strings.Join(bad, ", ") + ")"
			}
			fmt.Fprintf(&table, "| `%s` | %s | %s | %s | %s | %s |\n", probe,
				off[probe].realCell(), off[probe].mock, on[probe].realCell(), on[probe].mock, mark)
		}
		AddReportEntry("fidelity of the core profile to the recorded Core v30", table.String())
		doc := fidelityDoc(table.String())
		if os.Getenv("BTC_HANDSHAKE_UPDATE_FIDELITY") != "" {
			Expect(os.WriteFile(fidelityFile, []byte(doc), 0o644)).To(Succeed())
		}
		Expect(differ).To(BeEmpty(), "the core profile differs from the recorded Core")
		written, err := os.ReadFile(fidelityFile)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(written)).To(Equal(doc), "%s is out of date: regenerate it with BTC_HANDSHAKE_UPDATE_FIDELITY=1 go test ./cassette", filepath.Base(fidelityFile))
	})
})

// recording is one recorded run of Core: its pcap, the conform output that
// names the probes' connections, Core's debug log, and the mock profile
// that stands for that Core.
type recording struct {
	pcap, conform, log string
	profile            mockpeer.Profile
}

// probeResult is one probe's row of a run: what real Core did (and, when
// it closed, why, from its debug log), and what the mock did.
type probeResult struct {
	real, mock reaction
	reason     string
	// mockClose is the note of the mock's close, when it closed.
	mockClose string
}

// realCell is the recorded reaction with Core's reason when Core closed.
func (p probeResult) realCell() string {
	if p.real.closed {
		return fmt.Sprintf("%s (`%s`)", p.real, p.reason)
	}
	return p.real.String()
}

// startProbes starts replaying every recorded probe connection of run,
// each against a mock of its own, all at once, and checks that the debug
// log gives a reason of Core's own for every connection Core closed
// first. The map is filled in when wg is done.
func startProbes(run recording, wg *sync.WaitGroup) map[string]probeResult {
	c := importPcap(run.pcap)
	probes := probeAddrs(run.conform)
	reasons := disconnectReasons(run.log)
	net, err := wire.ParseNetwork(c.Header.Network)
	Expect(err).NotTo(HaveOccurred())
	var mu sync.Mutex
	out := map[string]probeResult{}
	started := 0
	for _, cn := range c.Conns {
		probe, ok := probes[cn.Client]
		if !ok {
			continue
		}
		res := probeResult{real: recordedReaction(cn), reason: reasons[cn.Client]}
		if res.real.closed {
			Expect(res.reason).NotTo(BeEmpty(), "%s (%s): Core closed, its log says nothing", probe, run.pcap)
			Expect(res.reason).NotTo(Equal(reasonClientClosed), "%s (%s): the pcap has Core close first, its log the probe", probe, run.pcap)
		}
		var n notes
		srv := serve(run.profile.Script(), &n, mockpeer.WithNetwork(net), mockpeer.WithStepTimeout(2*recordedPeerTimeout))
		started++
		wg.Add(1)
		go func() {
			defer GinkgoRecover()
			defer wg.Done()
			res.mock = playClient(cn, srv.Addr(), net)
			for _, r := range srv.Transcript() {
				if r.Out && r.Event == mockpeer.EventClose {
					res.mockClose = r.Note
					break
				}
			}
			mu.Lock()
			out[probe] = res
			mu.Unlock()
		}()
	}
	Expect(started).To(Equal(len(probes)), "%s: a probe's connection is missing", run.pcap)
	return out
}

func fidelityDoc(table string) string {
	return `# Mock fidelity against the recorded Bitcoin Core v30

Every conformance probe's connection recorded from Bitcoin Core v30.0 (regtest,
` + "`-peertimeout=5`" + `) is replayed from the client's side — the probe's bytes with
their recorded segmentation and timing, and its close — against mockpeer's Core
profile with a 5 s peer timeout, each probe against a mock of its own:

- ` + "`-v2transport=0`" + ` (` + "`../shared/recordings/core-v30/pcap/core-v30-v2off-inbound.pcap`" + `)
  against ` + "`mockpeer.CoreResponder().V2Transport(nil)`" + ` ("mock core");
- ` + "`-v2transport=1`" + `, Core's default (` + "`core-v30-v2on-inbound.pcap`" + `), against
  ` + "`mockpeer.CoreResponder()`" + `, v2-capable by default ("mock core (v2 default)").

A cell is what the node sent → how the connection ended: closed by the node first
(at the peer timeout when that is what closed it), or open until the probe left.
` + "`non-v1 bytes (key)`" + ` is a BIP324 responder's answer: at least 64 bytes that are
not a v1 frame (an ElligatorSwift key, then garbage, and, after a whole key, the
terminator and version packet); the bytes are random, so only that shape is
compared. Where real Core closed, its reason is quoted from its debug log
(` + "`debug-log/v2transport-{off,on}.log`" + `, ` + "`-debug=net`" + `). The mock agrees when
it sent the same commands in the same order (or the same shape of non-v1 bytes)
and ended the same way, a timeout close within a second after the 5 s.

With v2 on, Core decides on the first 16 bytes: a v1 ` + "`version`" + ` header for its
network stays v1 (the same answers as with v2 off); a ` + "`version`" + ` header with
another network's magic is closed at once (` + "`wrong-magic`" + `, ` + "`wrong-magic-frame`" + `:
"V1 peer with wrong MessageStart"); anything else — another v1 command first
(` + "`verack-before-version`" + `, ` + "`ping-before-version`" + `, ` + "`unknown-before-version`" + `) or a
key (` + "`v2-key`" + `) — is taken for a BIP324 initiator and gets Core's key, where
v2-off Core waits (a valid v1 frame of another command) or closes (the key: wrong magic).

Not compared: how the v2 answer is cut into segments (the replay reads a stream). When
the initiator's whole key comes in one read, real Core writes its key, garbage,
terminator and version packet in one segment (` + "`v2-key`" + `: 180 bytes at once;
` + "`btcd-v2-to-core-v30.pcap`" + `: 849), and so does the mock's v2 responder (a spec in
mockpeer counts its writes).

Generated by the cassette package's specs, which fail on any disagreement and when
this file is out of date: ` + "`BTC_HANDSHAKE_UPDATE_FIDELITY=1 go test ./cassette`" + `.

` + table
}
