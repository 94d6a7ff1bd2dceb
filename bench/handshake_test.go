package bench_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Concurrency levels of the throughput figures.
var handshakeConcurrency = []int{1, 64}

// BenchmarkHandshake measures complete handshakes (dial, version, verack,
// close) per second and their latency, for each implementation against
// its own responder in this process, over loopback TCP.
//
// The machine is shared, so the implementations take turns in rounds
// (ours, floor, btcd, then floor, btcd, ours, ...) of a few hundred
// handshakes, each responder finishing with its connections before the
// next takes its turn, and every ratio comes from the same stretch of
// time. One op is one handshake of each implementation. Metrics, per
// implementation: hs/s (the median over the rounds of a round's
// handshakes over its wall time: a rare stall, such as a SYN retransmitted
// after a second, moves one round, not the figure), p50/p99/max latency
// from dial to closed, allocations and user/system CPU per handshake
// (both ends: client and responder are in this process); and the ratios
// the targets are stated in, each the median over the rounds of the
// ratio within a round.
func BenchmarkHandshake(b *testing.B) {
	for _, c := range handshakeConcurrency {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) {
			if err := benchHandshakes(b, handshakeImpls(), c, v1Rounds(c)); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// handshakeStats is what one implementation did over all its rounds.
type handshakeStats struct {
	lat     []time.Duration
	rates   []float64 // per round
	mallocs uint64
	user    time.Duration // user time of the process
	sys     time.Duration // system time of the process
}

// median of values (the mean of the middle two for an even count).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// rounds sizes the rounds of benchHandshakes: size handshakes of each
// implementation per round, and at least minOps in all (0: b.N), for
// handshakes so slow that b.N at the default -benchtime would be one round
// (the v2 figures: one op of BenchmarkV2Handshake is about 10 ms).
type rounds struct{ size, minOps int }

// v1Rounds: about 15 ms a round at c=1, 40 ms at c=64.
func v1Rounds(conc int) rounds { return rounds{size: 200 * max(1, conc/20)} }

// benchHandshakes runs b.N handshakes (at least rs.minOps) of each
// implementation with conc workers, in rounds of rs.size, and reports
// per-implementation metrics and the ratios of ours to the others.
func benchHandshakes(b *testing.B, ims []impl, conc int, rs rounds) error {
	if _, err := raiseFDLimit(4 * 1024); err != nil {
		return err
	}
	srvs := make([]responder, len(ims))
	for i, im := range ims {
		srv, err := im.serve(loopbackAddr)
		if err != nil {
			return err
		}
		defer srv.Close()
		srvs[i] = srv
	}
	ctx := context.Background()
	round, total := rs.size, max(b.N, rs.minOps)
	stats := make([]handshakeStats, len(ims))
	b.ResetTimer()
	start := time.Now()
	for done, r := 0, 0; done < total; r++ {
		n := min(round, total-done)
		for k := range ims {
			i := (r + k) % len(ims)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			u0, s0 := cpuTime()
			lat, elapsed, err := handshakeBatch(ctx, ims[i], srvs[i].Addr(), n, conc)
			u1, s1 := cpuTime()
			runtime.ReadMemStats(&m1)
			if err != nil {
				return err
			}
			b.StopTimer()
			srvs[i].quiesce()
			b.StartTimer()
			stats[i].lat = append(stats[i].lat, lat...)
			stats[i].rates = append(stats[i].rates, float64(len(lat))/elapsed.Seconds())
			stats[i].mallocs += m1.Mallocs - m0.Mallocs
			stats[i].user += u1 - u0
			stats[i].sys += s1 - s0
		}
		done += n
	}
	b.StopTimer()
	if total > b.N {
		// ns/op as go test computes it would divide by b.N.
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(total), "ns/op")
	}
	for i, im := range ims {
		s := &stats[i]
		slices.Sort(s.lat)
		b.ReportMetric(median(s.rates), im.name+"-hs/s")
		b.ReportMetric(micros(percentile(s.lat, 50)), im.name+"-p50-µs")
		b.ReportMetric(micros(percentile(s.lat, 99)), im.name+"-p99-µs")
		b.ReportMetric(micros(s.lat[len(s.lat)-1]), im.name+"-max-µs")
		b.ReportMetric(float64(s.mallocs)/float64(len(s.lat)), im.name+"-allocs/hs")
		b.ReportMetric(micros(s.user)/float64(len(s.lat)), im.name+"-user-µs/hs")
		b.ReportMetric(micros(s.sys)/float64(len(s.lat)), im.name+"-sys-µs/hs")
	}
	if len(ims) > 1 && ims[0].name == "ours" {
		for i := 1; i < len(ims); i++ {
			ratios := make([]float64, len(stats[0].rates))
			for r := range ratios {
				ratios[r] = stats[0].rates[r] / stats[i].rates[r]
			}
			b.ReportMetric(median(ratios), "ours/"+ims[i].name+"-hs/s")
		}
		for i := 1; i < len(ims); i++ {
			b.ReportMetric(float64(percentile(stats[0].lat, 50))/float64(percentile(stats[i].lat, 50)), "ours/"+ims[i].name+"-p50")
		}
	}
	return nil
}

// handshakeBatch runs n handshakes against addr with conc workers and
// returns every latency (dial to closed) and the batch's wall time.
func handshakeBatch(ctx context.Context, im impl, addr string, n, conc int) ([]time.Duration, time.Duration, error) {
	conc = max(1, min(conc, n))
	lats := make([][]time.Duration, conc)
	for w := range lats {
		lats[w] = make([]time.Duration, 0, n/conc+1)
	}
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				t0 := time.Now()
				if err := im.once(ctx, addr); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("%s handshake: %w", im.name, err) })
					next.Store(int64(n)) // stop every worker
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	return slices.Concat(lats...), elapsed, firstErr
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}
