package bench_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/internal/fleet"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Survey scale: how many mock peers, and how many handshakes at a time.
const (
	surveyPeers       = 10_000
	surveyConcurrency = 128
)

// BenchmarkSurvey starts surveyPeers mock peers in this process, a
// internal/fleet.Fleet: each peer a mockpeer.Server of its own (scripts,
// records) on its own loopback address (fleet.Addr: 127.0.0.2, ...
// 127.0.39.19), all behind one listening socket on Linux (fleet-shared is
// 1 then; elsewhere each listens on its own), and surveys all of them with
// handshake.Survey, surveyConcurrency at a time. Each op does, in turn, a loopback connect-rate pass (dial, accept,
// close, as many connections, same concurrency) and a survey pass, so the
// two rates come from the same stretch of time. Reported: survey hs/s,
// connect/s and their ratio, each rate counted up to the moment 99% of
// the pass had completed (a connection whose SYN the loaded loopback drops
// is retried after 1 s, then 2 s, ...: one such straggler would otherwise
// be the whole figure; the -all rates and the slowest item are reported
// too); peak RSS of the process (VmHWM, reset before the peers start);
// errors (any failed handshake fails the benchmark); goroutines and file
// descriptors left over once the peers are closed.
func BenchmarkSurvey(b *testing.B) {
	if err := benchSurvey(b, surveyPeers, surveyConcurrency, surveyConfig); err != nil {
		b.Fatal(err)
	}
}

// surveyConfig is the survey's client configuration (v1; BenchmarkV2Survey
// sets Transport). See benchTimeout: a SYN the loopback drops completes
// late rather than failing; survey-slowest-s shows it.
var surveyConfig = handshake.Config{Network: wire.Regtest, Timeout: benchTimeout}

func benchSurvey(b *testing.B, peers, conc int, cfg handshake.Config) error {
	if lim, err := raiseFDLimit(uint64(peers + 4*conc + 1024)); err != nil {
		return err
	} else if lim < uint64(peers+2*conc+64) {
		return fmt.Errorf("RLIMIT_NOFILE %d is too low for %d peers", lim, peers)
	}
	settle()
	g0, fd0 := runtime.NumGoroutine(), openFDs()
	if err := resetPeakRSS(); err != nil {
		return err
	}
	rss0 := rss()
	setup := time.Now()
	fleet, err := startSurveyFleet(peers)
	if err != nil {
		fleet.close()
		return err
	}
	setupTime := time.Since(setup)
	shared := 0.0
	if fleet.fleet.Shared() {
		shared = 1
	}
	fleetRSS := rss() - rss0
	counter, err := newConnectCounter()
	if err != nil {
		fleet.close()
		return err
	}

	var surveyRates, connectRates, ratios []float64
	var surveyAll, connectAll passRate
	failed := 0
	var firstErr error
	for b.Loop() {
		connects, err := counter.run(peers, conc)
		if err != nil {
			firstErr = err
			break
		}
		done := make([]time.Duration, 0, peers)
		start := time.Now()
		for res := range handshake.Survey(context.Background(), fleet.targets, cfg, conc) {
			done = append(done, time.Since(start))
			if !res.OK() {
				failed++
				if firstErr == nil {
					firstErr = fmt.Errorf("survey: %s: %w", res.Addr, res.Err)
				}
			}
		}
		sr, cr := rate99(done), rate99(connects)
		surveyRates, connectRates = append(surveyRates, sr), append(connectRates, cr)
		ratios = append(ratios, sr/cr)
		surveyAll.add(done)
		connectAll.add(connects)
	}
	b.StopTimer()
	counter.close()
	closeErr := fleet.close()
	peak := peakRSS()
	leakedG, leakedFD := leftovers(g0, fd0)
	if firstErr != nil {
		return firstErr
	}
	if closeErr != nil {
		return fmt.Errorf("mock peers reported: %w", closeErr)
	}
	if leakedG > 0 || leakedFD > 0 {
		return fmt.Errorf("after the survey: %d goroutines and %d file descriptors more than before", leakedG, leakedFD)
	}
	b.ReportMetric(median(surveyRates), "survey-hs/s")
	b.ReportMetric(median(connectRates), "connect/s")
	b.ReportMetric(median(ratios), "survey/connect")
	b.ReportMetric(surveyAll.rate(), "survey-all-hs/s")
	b.ReportMetric(connectAll.rate(), "connect-all/s")
	b.ReportMetric(surveyAll.slowest.Seconds(), "survey-slowest-s")
	b.ReportMetric(connectAll.slowest.Seconds(), "connect-slowest-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
	b.ReportMetric(shared, "fleet-shared")
	b.ReportMetric(float64(fleetRSS)/float64(peers), "fleet-rss-B/peer")
	b.ReportMetric(setupTime.Seconds(), "setup-s")
	b.ReportMetric(float64(failed), "errors")
	b.ReportMetric(float64(leakedG), "leaked-goroutines")
	b.ReportMetric(float64(leakedFD), "leaked-fds")
	return nil
}

// rate99 is the rate up to the completion of 99% of a pass, given when
// each item completed (offsets from the start of the pass).
func rate99(done []time.Duration) float64 {
	if len(done) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(done))
	k := max(1, len(s)*99/100)
	return float64(k) / s[k-1].Seconds()
}

// passRate adds up whole passes: every item over the passes' wall time.
type passRate struct {
	items   int
	wall    time.Duration
	slowest time.Duration // the last completion of a pass: its wall time
}

func (p *passRate) add(done []time.Duration) {
	if len(done) == 0 {
		return
	}
	last := slices.Max(done)
	p.items += len(done)
	p.wall += last
	p.slowest = max(p.slowest, last)
}

func (p *passRate) rate() float64 { return float64(p.items) / p.wall.Seconds() }

// leftovers waits a little for goroutines that are on their way out and
// returns how many goroutines and descriptors remain above the baseline.
func leftovers(g0, fd0 int) (goroutines, fds int) {
	deadline := time.Now().Add(5 * time.Second)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		goroutines, fds = runtime.NumGoroutine()-g0, openFDs()-fd0
		if (goroutines <= 0 && fds <= 0) || time.Now().After(deadline) {
			return max(goroutines, 0), max(fds, 0)
		}
		<-t.C
	}
}

// surveyFleet is the survey's mock peers, an internal/fleet.Fleet (one peer per
// loopback address, all behind one listening socket on Linux), and the
// addresses to dial.
type surveyFleet struct {
	fleet   *fleet.Fleet
	targets []string
}

func startSurveyFleet(n int) (*surveyFleet, error) {
	addrs := make([]netip.Addr, n)
	for i := range addrs {
		addrs[i] = fleet.Addr(i)
	}
	f := &surveyFleet{targets: make([]string, 0, n)}
	f.fleet = fleet.New(addrs, mockpeer.WithRecording(mockpeer.Recording{Frames: -1}))
	// One write per reply, as in the pairs' mock (newMock) and in the
	// earlier runs BENCHMARKS.md compares with.
	script := mockpeer.CoreResponder().HandshakeTimeout(0).Coalesced().Script()
	for _, p := range f.fleet.Peers() {
		p.SetDefaultScript(script)
	}
	if err := f.fleet.Start(); err != nil {
		return f, err
	}
	for _, p := range f.fleet.Peers() {
		f.targets = append(f.targets, p.Addr())
	}
	return f, nil
}

// close closes every peer and joins what they reported.
func (f *surveyFleet) close() error {
	if f == nil || f.fleet == nil {
		return nil
	}
	err := f.fleet.Close()
	f.fleet = nil
	return err
}

// connectCounter is the loopback connect rate: dialers that dial and
// close, a listener that accepts and closes once the dialer has (as the
// mock peers do; a listener that closes first leaves its end in TIME_WAIT,
// where a later SYN from the same port can wait a second for a retry).
// Its sockets have the settings ours have (TCP keep-alive off at both
// ends, a plain TCP listener): with Go's defaults a connect costs four
// setsockopt calls per socket more and the rate is about 6 % lower, which
// would flatter the survey.
type connectCounter struct {
	ln   net.Listener
	done chan struct{}
	wg   sync.WaitGroup // accepted connections not yet closed
}

func newConnectCounter() (*connectCounter, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	lc.SetMultipathTCP(false)
	ln, err := lc.Listen(context.Background(), "tcp", loopbackAddr)
	if err != nil {
		return nil, err
	}
	c := &connectCounter{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				var b [1]byte
				_, _ = conn.Read(b[:]) // EOF: the dialer has closed
				_ = conn.Close()
			}()
		}
	}()
	return c, nil
}

// run dials n connections, conc at a time, and returns when each was
// closed (offsets from the start).
func (c *connectCounter) run(n, conc int) ([]time.Duration, error) {
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	addr := c.ln.Addr().String()
	done := make([][]time.Duration, conc)
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{KeepAlive: -1}
			for next.Add(1) <= int64(n) {
				conn, err := d.DialContext(context.Background(), "tcp", addr)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connect: %w", err) })
					return
				}
				_ = conn.Close()
				done[w] = append(done[w], time.Since(start))
			}
		}()
	}
	wg.Wait()
	return slices.Concat(done...), firstErr
}

func (c *connectCounter) close() {
	_ = c.ln.Close()
	<-c.done
	c.wg.Wait()
}
