package scenarios_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
)

// recordedPeerTimeout is the -peertimeout the recorded node ran with.
const recordedPeerTimeout = 5 * time.Second

// recorded reads a conform --json recording: probe name → observation.
func recorded(file string) map[string]harness.Observation {
	GinkgoHelper()
	f, err := os.Open(filepath.Join("testdata", "core-v30", file))
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	out := map[string]harness.Observation{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 || sc.Bytes()[0] != '{' {
			continue // the CLI's closing line on stderr, captured with the run
		}
		var line struct {
			Type        string `json:"type"`
			Probe       string `json:"probe"`
			Observation struct {
				harness.Observation
				ClosedAfterMS float64 `json:"closed_after_ms"`
			} `json:"observation"`
		}
		Expect(json.Unmarshal(sc.Bytes(), &line)).To(Succeed())
		if line.Type != "probe" {
			continue
		}
		o := line.Observation.Observation
		o.ClosedAfter = time.Duration(line.Observation.ClosedAfterMS * float64(time.Millisecond))
		o.PeerTimeout = recordedPeerTimeout
		out[line.Probe] = o
	}
	Expect(sc.Err()).NotTo(HaveOccurred())
	return out
}

// Issue 11, item 7: the core and core-v2 expectations agree with what a
// real Bitcoin Core v30.0 did, probe by probe (testdata/core-v30).
var _ = Describe("the probes' Core expectations against the recordings of Core v30.0", func() {
	DescribeTable("every recorded observation meets the profile's expectation",
		func(file string, profile scenarios.Model) {
			obs := recorded(file)
			Expect(obs).To(HaveLen(len(scenarios.Probes().Transport("v1"))), "one recorded observation per probe")
			for _, p := range scenarios.Probes().Transport("v1") {
				o, ok := obs[p.Name]
				Expect(ok).To(BeTrue(), "no recording of %s", p.Name)
				exp, ok := p.ExpectFor(profile)
				Expect(ok).To(BeTrue(), "%s has no %s expectation", p.Name, profile)
				Expect(o.Judge(exp)).To(BeEmpty(), "%s: expected %s, Core v30.0 did %s", p.Name, exp, o.Summary())
			}
		},
		Entry("-v2transport=0, profile core", "core-profile-vs-v2transport-off.ndjson", scenarios.ModelCore),
		Entry("-v2transport=1, profile core-v2", "core-v2-profile-vs-v2transport-on.ndjson", scenarios.ModelCoreV2),
	)

	It("has Core v30 with -v2transport=1 hang up on a v1 version under another network's magic, without a BIP324 key", func() {
		obs := recorded("core-v2-profile-vs-v2transport-on.ndjson")
		for _, name := range []string{"wrong-magic", "wrong-magic-frame"} {
			Expect(obs[name].Summary()).To(Equal("nothing → closed"), name)
			p, _ := scenarios.Probes().Get(name)
			exp, _ := p.ExpectFor(scenarios.ModelCoreV2)
			Expect(exp).To(Equal(scenarios.Expectation{Silent: true, End: scenarios.EndClosed}), name)
		}
		// Any other first bytes get the key: the v2 expectation stays there.
		Expect(obs["v2-key"].Summary()).To(Equal("non-v1 bytes → open"))
	})
})
