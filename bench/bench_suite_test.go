package bench_test

import (
	"errors"
	"flag"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/btc-handshake/btc-handshake/scenarios"
)

func TestBench(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "bench")
}

// Every spec starts servers, peers and clients; none may outlive it.
var _ = BeforeEach(func() {
	gleak.IgnoreGinkgoParallelClient()
	before := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).WithTimeout(5 * time.Second).
			ShouldNot(gleak.HaveLeaked(before))
	})
})

// smoke runs a benchmark once through testing.Benchmark with a fixed
// iteration count (-test.benchtime Nx for the call), and returns its
// result and the error its body returned. It asserts nothing about time:
// the smoke runs keep the benchmarks compiling and working, `make bench`
// measures.
func smoke(iterations string, body func(b *testing.B) error) (testing.BenchmarkResult, error) {
	f := flag.Lookup("test.benchtime")
	Expect(f).NotTo(BeNil(), "the testing flags are registered")
	old := f.Value.String()
	Expect(flag.Set("test.benchtime", iterations)).To(Succeed())
	defer func() { _ = flag.Set("test.benchtime", old) }()
	var errs []error
	res := testing.Benchmark(func(b *testing.B) { errs = append(errs, body(b)) })
	return res, errors.Join(errs...)
}

var _ = Describe("the benchmarks, run small", Label("bench"), Serial, func() {
	It("BenchmarkHandshake: every implementation completes its handshakes at c=1 and c=64", func() {
		for _, c := range handshakeConcurrency {
			res, err := smoke("64x", func(b *testing.B) error { return benchHandshakes(b, handshakeImpls(), c, v1Rounds(c)) })
			Expect(err).NotTo(HaveOccurred())
			Expect(res.N).To(Equal(64))
			for _, im := range handshakeImpls() {
				Expect(res.Extra).To(HaveKeyWithValue(im.name+"-hs/s", BeNumerically(">", 0)))
				Expect(res.Extra).To(HaveKeyWithValue(im.name+"-p50-µs", BeNumerically(">", 0)))
				Expect(res.Extra[im.name+"-p99-µs"]).To(BeNumerically(">=", res.Extra[im.name+"-p50-µs"]))
			}
			Expect(res.Extra).To(HaveKey("ours/floor-hs/s"))
			Expect(res.Extra).To(HaveKey("ours/btcd-hs/s"))
			Expect(res.Extra).To(HaveKey("ours/floor-p50"))
			Expect(res.Extra).To(HaveKey("ours/floor-timeouts-hs/s"))
			Expect(res.Extra).To(HaveKey("ours/floor-lean-hs/s"))
		}
	})

	It("BenchmarkHeldPairs: holds pairs of every implementation, one mock goroutine per pair of ours", func() {
		for _, im := range impls() {
			res, err := smoke("2x", func(b *testing.B) error { return benchHeldPairs(b, im, 20) })
			Expect(err).NotTo(HaveOccurred(), im.name)
			Expect(res.Extra).To(HaveKey("rss-B/pair"), im.name)
			Expect(res.Extra).To(HaveKey("heap-B/pair"), im.name)
			Expect(res.Extra).To(HaveKey("stack-B/pair"), im.name)
			if im.name == "ours" {
				// The client keeps no goroutine once Run returns; the
				// mock's profile waits for more in one.
				Expect(res.Extra).To(HaveKeyWithValue("goroutines/pair", BeNumerically("~", 1, 0.1)))
			}
		}
	})

	It("BenchmarkCatalog: our client passes every scenario of the catalog", func() {
		scs := scenarios.All().Transport("v1")
		res, err := smoke("1x", func(b *testing.B) error { return benchCatalog(b, scs) })
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Extra).To(HaveKeyWithValue("scenarios", BeNumerically("==", len(scs))))
		Expect(res.Extra).To(HaveKeyWithValue("s/catalog", BeNumerically(">", 0)))
	})

	It("BenchmarkSurvey: surveys a fleet without errors and leaves no goroutine or descriptor behind", func() {
		res, err := smoke("1x", func(b *testing.B) error { return benchSurvey(b, 200, 16, surveyConfig) })
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Extra).To(HaveKeyWithValue("errors", BeZero()))
		Expect(res.Extra).To(HaveKeyWithValue("leaked-goroutines", BeZero()))
		Expect(res.Extra).To(HaveKeyWithValue("leaked-fds", BeZero()))
		Expect(res.Extra).To(HaveKeyWithValue("survey-hs/s", BeNumerically(">", 0)))
		Expect(res.Extra).To(HaveKeyWithValue("connect/s", BeNumerically(">", 0)))
		Expect(res.Extra).To(HaveKeyWithValue("peak-rss-MB", BeNumerically(">", 0)))
	})

	It("BenchmarkV2Handshake: ours, btcd's v2 peers, the crypto floor and auto complete their handshakes at c=1 and c=16", func() {
		for _, c := range v2Concurrency {
			res, err := smoke("16x", func(b *testing.B) error { return benchHandshakes(b, v2Impls(), c, rounds{size: 8}) })
			Expect(err).NotTo(HaveOccurred())
			Expect(res.N).To(Equal(16))
			for _, im := range v2Impls() {
				Expect(res.Extra).To(HaveKeyWithValue(im.name+"-hs/s", BeNumerically(">", 0)))
			}
			Expect(res.Extra).To(HaveKey("ours/btcd-hs/s"))
			Expect(res.Extra).To(HaveKey("ours/crypto-hs/s"))
			Expect(res.Extra).To(HaveKey("ours/auto-hs/s"))
			Expect(res.Extra).To(HaveKeyWithValue("ours-allocs/hs", BeNumerically(">", 0)))
		}
	})

	It("BenchmarkV2HeldPairs and BenchmarkV2Declared: v2 pairs are held; a packet's declared length is not allocated", func() {
		res, err := smoke("2x", func(b *testing.B) error { return benchHeldPairs(b, oursV2Impl(), 20) })
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Extra).To(HaveKey("rss-B/pair"))
		res, err = smoke("4x", benchV2Declared)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Extra).To(HaveKeyWithValue("alloc-B/hs", BeNumerically("<", declaredLen/16)))
	})

	It("BenchmarkV2Survey: surveys a fleet over v2 without errors and leaves nothing behind", func() {
		res, err := smoke("1x", func(b *testing.B) error { return benchSurvey(b, 100, 16, surveyV2Config) })
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Extra).To(HaveKeyWithValue("errors", BeZero()))
		Expect(res.Extra).To(HaveKeyWithValue("leaked-goroutines", BeZero()))
		Expect(res.Extra).To(HaveKeyWithValue("leaked-fds", BeZero()))
	})

	It("BenchmarkClientCPU: our client completes against a canned Core answer", func() {
		res, err := smoke("10x", func(b *testing.B) error { return benchClientCPU(b) })
		Expect(err).NotTo(HaveOccurred())
		Expect(res.N).To(Equal(10))
	})
})
