package bench_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// `make bench` saves the output of `go test -bench` and then runs this
// package's summary spec on it:
//
//	go test ./bench -run TestBench -args -summarize=bench.out -ginkgo.label-filter=summary
//
// which prints, per benchmark and unit, the minimum, median and maximum
// over the -count runs, and the targets of issues 5 and 14 (v2) with pass
// or miss.
var (
	summarizeIn  = flag.String("summarize", "", "go test -bench output to summarize (make bench)")
	summarizeOut = flag.String("summary-out", "", "file for the summary (default: stdout)")
)

// benchRuns maps "pkg Benchmark/sub" to unit to the value of each run, in
// the order the runs were printed. The key failedKey lists, under the
// failing benchmark's name, one value per "--- FAIL" line.
type benchRuns map[string]map[string][]float64

const failedKey = "--- FAIL"

var gomaxprocsSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads `go test -bench` output (several packages may follow
// one another; "pkg:" lines say which).
func parseBench(r io.Reader) (benchRuns, error) {
	runs := benchRuns{}
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = rest[strings.LastIndex(rest, "/")+1:]
			continue
		}
		if _, rest, ok := strings.Cut(line, "--- FAIL: "); ok && strings.HasPrefix(rest, "Benchmark") {
			// go test prints the failure twice (with and without the
			// GOMAXPROCS suffix); count the suffixed one.
			if name := strings.Fields(rest)[0]; gomaxprocsSuffix.MatchString(name) {
				if runs[failedKey] == nil {
					runs[failedKey] = map[string][]float64{}
				}
				key := pkg + " " + gomaxprocsSuffix.ReplaceAllString(name, "")
				runs[failedKey][key] = append(runs[failedKey][key], 1)
			}
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a name alone: a parent benchmark, or a failure
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := pkg + " " + gomaxprocsSuffix.ReplaceAllString(f[0], "")
		if runs[name] == nil {
			runs[name] = map[string][]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", line, err)
			}
			runs[name][f[i+1]] = append(runs[name][f[i+1]], v)
		}
	}
	return runs, sc.Err()
}

// spread is the minimum, median and maximum of some values.
type spread struct{ min, med, max float64 }

func spreadOf(vs []float64) spread {
	if len(vs) == 0 {
		return spread{math.NaN(), math.NaN(), math.NaN()}
	}
	s := slices.Sorted(slices.Values(vs))
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return spread{s[0], med, s[len(s)-1]}
}

func (s spread) String() string {
	return fmt.Sprintf("%s / %s / %s", num(s.min), num(s.med), num(s.max))
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "–"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// target is one target of issue 5 or 14, checked on the median.
type target struct {
	what  string
	value func(benchRuns) []float64 // one value per run
	ok    func(float64) bool        // nil: a figure reported, not judged
	want  string
}

// metric is one unit of one benchmark, per run.
func metric(name, unit string) func(benchRuns) []float64 {
	return func(r benchRuns) []float64 { return r[name][unit] }
}

// quotient pairs run i of a with run i of b: b/a, for "times faster".
func quotient(a, b, unit string) func(benchRuns) []float64 {
	return func(r benchRuns) []float64 {
		x, y := r[a][unit], r[b][unit]
		out := make([]float64, 0, len(x))
		for i := range min(len(x), len(y)) {
			out = append(out, y[i]/x[i])
		}
		return out
	}
}

func atLeast(t float64) func(float64) bool { return func(v float64) bool { return v >= t } }
func atMost(t float64) func(float64) bool  { return func(v float64) bool { return v <= t } }
func below(t float64) func(float64) bool   { return func(v float64) bool { return v < t } }

var issue5Targets = []target{
	{"codec: version round trip, btcd ns/op ÷ ours", quotient("wire BenchmarkVersionRoundTrip/ours", "wire BenchmarkVersionRoundTrip/btcd", "ns/op"), atLeast(4), "≥ 4"},
	{"codec: allocs per version frame, encode", metric("wire BenchmarkVersionEncode/ours", "allocs/op"), atMost(3), "≤ 3"},
	{"codec: allocs per version frame, decode", metric("wire BenchmarkVersionDecode/ours", "allocs/op"), atMost(3), "≤ 3"},
	{"codec: allocs per verack round trip", metric("wire BenchmarkSmallRoundTrip/verack/ours", "allocs/op"), atMost(0), "0"},
	{"codec: allocs per ping round trip", metric("wire BenchmarkSmallRoundTrip/ping/ours", "allocs/op"), atMost(0), "0"},
	{"codec: allocs per pong round trip", metric("wire BenchmarkSmallRoundTrip/pong/ours", "allocs/op"), atMost(0), "0"},
	{"handshakes/s c=1, ours ÷ floor", metric("bench BenchmarkHandshake/c=1", "ours/floor-hs/s"), atLeast(0.9), "≥ 0.9"},
	{"handshakes/s c=1, ours ÷ btcd", metric("bench BenchmarkHandshake/c=1", "ours/btcd-hs/s"), atLeast(1.5), "≥ 1.5"},
	{"handshakes/s c=64, ours ÷ floor", metric("bench BenchmarkHandshake/c=64", "ours/floor-hs/s"), atLeast(0.9), "≥ 0.9"},
	{"handshakes/s c=64, ours ÷ btcd", metric("bench BenchmarkHandshake/c=64", "ours/btcd-hs/s"), atLeast(1.5), "≥ 1.5"},
	{"p50 latency c=1, ours ÷ floor", metric("bench BenchmarkHandshake/c=1", "ours/floor-p50"), atMost(1.1), "≤ 1.1"},
	{"RSS per held pair, ours (bytes)", metric("bench BenchmarkHeldPairs/ours", "rss-B/pair"), atMost(16 << 10), "≤ 16384"},
	{"catalog wall time (s)", metric("bench BenchmarkCatalog", "s/catalog"), below(5), "< 5"},
	{"survey of 10,000 peers ÷ loopback connect rate", metric("bench BenchmarkSurvey", "survey/connect"), atLeast(0.5), "≥ 0.5"},
	{"survey peak RSS (MB)", metric("bench BenchmarkSurvey", "peak-rss-MB"), below(300), "< 300"},
	{"survey errors", metric("bench BenchmarkSurvey", "errors"), atMost(0), "0"},
	{"survey leaked goroutines", metric("bench BenchmarkSurvey", "leaked-goroutines"), atMost(0), "0"},
	{"survey leaked descriptors", metric("bench BenchmarkSurvey", "leaked-fds"), atMost(0), "0"},
	// issue 14: v2 (BIP324).
	{"v2 handshakes/s c=1, ours ÷ btcd", metric("bench BenchmarkV2Handshake/c=1", "ours/btcd-hs/s"), atLeast(5), "≥ 5"},
	{"v2 handshakes/s c=16, ours ÷ btcd", metric("bench BenchmarkV2Handshake/c=16", "ours/btcd-hs/s"), atLeast(5), "≥ 5"},
	{"v2 handshakes/s c=1, ours ÷ crypto floor", metric("bench BenchmarkV2Handshake/c=1", "ours/crypto-hs/s"), atLeast(0.8), "≥ 0.8"},
	{"v2 handshakes/s c=16, ours ÷ crypto floor", metric("bench BenchmarkV2Handshake/c=16", "ours/crypto-hs/s"), atLeast(0.8), "≥ 0.8"},
	{"v2 time per handshake c=1, auto (v1-only peer) ÷ v2", metric("bench BenchmarkV2Handshake/c=1", "ours/auto-hs/s"), below(1.5), "< 1.5"},
	{"v2 time per handshake c=16, auto (v1-only peer) ÷ v2", metric("bench BenchmarkV2Handshake/c=16", "ours/auto-hs/s"), below(1.5), "< 1.5"},
	{"v2 allocations per handshake, both ends (reported)", metric("bench BenchmarkV2Handshake/c=1", "ours-allocs/hs"), nil, "reported"},
	{"v2 bytes allocated per handshake against a packet declaring 4,000,000", metric("bench BenchmarkV2Declared", "alloc-B/hs"), atMost(64 << 10), "≤ 65536"},
	{"RSS per held v2 pair, ours (bytes)", metric("bench BenchmarkV2HeldPairs/ours", "rss-B/pair"), atMost(24 << 10), "≤ 24576"},
	{"v2 survey peak RSS (MB)", metric("bench BenchmarkV2Survey", "peak-rss-MB"), below(400), "< 400"},
	{"v2 survey errors", metric("bench BenchmarkV2Survey", "errors"), atMost(0), "0"},
	{"v2 survey leaked goroutines", metric("bench BenchmarkV2Survey", "leaked-goroutines"), atMost(0), "0"},
	{"v2 survey leaked descriptors", metric("bench BenchmarkV2Survey", "leaked-fds"), atMost(0), "0"},
}

// writeSummary writes the machine, every benchmark's figures and the
// targets as Markdown.
func writeSummary(w io.Writer, runs benchRuns) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Machine: %s, %s, %d cores (GOMAXPROCS %d)\n\n", runtime.Version(), cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintln(bw, "### Targets (min / median / max over the runs; pass or miss on the median)")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "| target | runs | min / median / max | want | |")
	fmt.Fprintln(bw, "|---|---|---|---|---|")
	for _, t := range issue5Targets {
		vs := t.value(runs)
		s := spreadOf(vs)
		verdict := "no data"
		switch {
		case len(vs) > 0 && t.ok == nil:
			verdict = "reported"
		case len(vs) > 0:
			verdict = "miss"
			if t.ok(s.med) {
				verdict = "pass"
			}
		}
		fmt.Fprintf(bw, "| %s | %d | %s | %s | %s |\n", t.what, len(vs), s, t.want, verdict)
	}
	fmt.Fprintln(bw)
	if failed := runs[failedKey]; len(failed) > 0 {
		fmt.Fprintln(bw, "### Failed runs (not in the figures)")
		fmt.Fprintln(bw)
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range failed {
				if !yield(k) {
					return
				}
			}
		}) {
			fmt.Fprintf(bw, "- %s: %d\n", name, len(failed[name]))
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, "### Every figure (min / median / max over the runs)")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "| benchmark | unit | runs | min / median / max |")
	fmt.Fprintln(bw, "|---|---|---|---|")
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range runs {
			if !yield(k) {
				return
			}
		}
	}) {
		if name == failedKey {
			continue
		}
		units := runs[name]
		for _, u := range slices.Sorted(func(yield func(string) bool) {
			for k := range units {
				if !yield(k) {
					return
				}
			}
		}) {
			fmt.Fprintf(bw, "| %s | %s | %d | %s |\n", name, u, len(units[u]), spreadOf(units[u]))
		}
	}
	return bw.Flush()
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

const sampleOutput = `goos: linux
goarch: amd64
pkg: github.com/btc-handshake/btc-handshake/wire
cpu: Intel(R) Xeon(R) Processor
BenchmarkVersionRoundTrip/ours-2         	 2315367	       500.0 ns/op	 247.93 MB/s	      16 B/op	       1 allocs/op
BenchmarkVersionRoundTrip/ours-2         	 2315367	       400.0 ns/op	 247.93 MB/s	      16 B/op	       1 allocs/op
BenchmarkVersionRoundTrip/btcd-2         	  432826	      2500 ns/op	  52.27 MB/s	    1056 B/op	      33 allocs/op
BenchmarkVersionRoundTrip/btcd-2         	  432826	      2400 ns/op	  52.27 MB/s	    1056 B/op	      33 allocs/op
PASS
ok  	github.com/btc-handshake/btc-handshake/wire	11.325s
pkg: github.com/btc-handshake/btc-handshake/bench
BenchmarkHandshake/c=1-2 	5170	227277 ns/op	0.6170 ours/floor-hs/s	1.511 ours/floor-p50
BenchmarkHandshake/c=1-2 	5170	227277 ns/op	0.9500 ours/floor-hs/s	1.011 ours/floor-p50
BenchmarkHandshake/c=1-2 	5170	227277 ns/op	0.9100 ours/floor-hs/s	1.050 ours/floor-p50
BenchmarkSurvey-2                	--- FAIL: BenchmarkSurvey
    survey_test.go:43: survey: i/o timeout
--- FAIL: BenchmarkSurvey-2
    survey_test.go:43: survey: i/o timeout
BenchmarkHeldPairs/ours-2 	21	54760798 ns/op	1.000 goroutines/pair	5427 rss-B/pair
BenchmarkV2Handshake/c=16-2 	1	7122037 ns/op	6.098 ours/btcd-hs/s	0.6473 ours/crypto-hs/s	0.5024 ours/auto-hs/s
BenchmarkV2Handshake/c=16-2 	1	7122037 ns/op	6.500 ours/btcd-hs/s	0.8500 ours/crypto-hs/s	0.4500 ours/auto-hs/s
BenchmarkV2Handshake/c=16-2 	1	7122037 ns/op	5.900 ours/btcd-hs/s	0.8100 ours/crypto-hs/s	0.5500 ours/auto-hs/s
`

var _ = Describe("the bench summary", Label("summary"), func() {
	It("groups runs per package, benchmark and unit, and checks targets on the median", func() {
		runs, err := parseBench(strings.NewReader(sampleOutput))
		Expect(err).NotTo(HaveOccurred())
		Expect(runs["wire BenchmarkVersionRoundTrip/ours"]["ns/op"]).To(Equal([]float64{500, 400}))
		Expect(runs["bench BenchmarkHeldPairs/ours"]["rss-B/pair"]).To(Equal([]float64{5427}))
		Expect(runs).NotTo(HaveKey("bench BenchmarkSurvey"), "a failed benchmark has no figures")
		Expect(quotient("wire BenchmarkVersionRoundTrip/ours", "wire BenchmarkVersionRoundTrip/btcd", "ns/op")(runs)).To(Equal([]float64{5, 6}))
		Expect(spreadOf([]float64{0.617, 0.95, 0.91})).To(Equal(spread{0.617, 0.91, 0.95}))

		var out strings.Builder
		Expect(writeSummary(&out, runs)).To(Succeed())
		Expect(out.String()).To(ContainSubstring("| codec: version round trip, btcd ns/op ÷ ours | 2 | 5.00 / 5.50 / 6.00 | ≥ 4 | pass |"))
		Expect(out.String()).To(ContainSubstring("| handshakes/s c=1, ours ÷ floor | 3 | 0.62 / 0.91 / 0.95 | ≥ 0.9 | pass |"))
		Expect(out.String()).To(ContainSubstring("| p50 latency c=1, ours ÷ floor | 3 | 1.01 / 1.05 / 1.51 | ≤ 1.1 | pass |"))
		Expect(out.String()).To(ContainSubstring("| survey errors | 0 | – / – / – | 0 | no data |"))
		Expect(out.String()).To(ContainSubstring("| v2 handshakes/s c=16, ours ÷ btcd | 3 | 5.90 / 6.10 / 6.50 | ≥ 5 | pass |"))
		Expect(out.String()).To(ContainSubstring("| v2 handshakes/s c=16, ours ÷ crypto floor | 3 | 0.65 / 0.81 / 0.85 | ≥ 0.8 | pass |"))
		Expect(out.String()).To(ContainSubstring("| v2 time per handshake c=16, auto (v1-only peer) ÷ v2 | 3 | 0.45 / 0.50 / 0.55 | < 1.5 | pass |"))
		Expect(out.String()).To(ContainSubstring("| bench BenchmarkHeldPairs/ours | rss-B/pair | 1 | 5427 / 5427 / 5427 |"))
		Expect(out.String()).To(ContainSubstring("### Failed runs (not in the figures)\n\n- bench BenchmarkSurvey: 1\n"))
	})

	if *summarizeIn != "" {
		It("summarizes "+*summarizeIn, func() {
			f, err := os.Open(*summarizeIn)
			Expect(err).NotTo(HaveOccurred())
			defer f.Close()
			runs, err := parseBench(f)
			Expect(err).NotTo(HaveOccurred())
			Expect(runs).NotTo(BeEmpty(), "no benchmark results in %s", *summarizeIn)
			w := io.Writer(os.Stdout)
			if *summarizeOut != "" {
				out, err := os.Create(*summarizeOut)
				Expect(err).NotTo(HaveOccurred())
				defer out.Close()
				w = out
			}
			Expect(writeSummary(w, runs)).To(Succeed())
		})
	}
})
