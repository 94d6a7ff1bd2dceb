package handshake_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// deadline is a peer that holds the client up in one phase, with the
// Config that should end it and the limit to compare against.
type deadline struct {
	peer  script
	cfg   handshake.Config
	phase handshake.Phase
	limit time.Duration
}

// trickling sends msgs (after the client's version, and after upfront in
// one write) one byte every 100 ms.
func trickling(upfront []wire.Message, msgs ...wire.Message) script {
	return func(pc *peerConn) error {
		if err := pc.await(wire.CmdVersion); err != nil {
			return err
		}
		if len(upfront) > 0 {
			if err := pc.send(upfront...); err != nil {
				return err
			}
		}
		pc.trickle(frames(msgs...), 100*time.Millisecond)
		return nil
	}
}

// phaseElapsed is how long the client spent in the phase it failed in,
// from the Result's own timings.
func phaseElapsed(res *handshake.Result) time.Duration {
	if res.Phase == handshake.PhaseVerack {
		return res.Timings.Total - res.Timings.Version
	}
	return res.Timings.Total - res.Timings.Connect
}

// Timing margins. Never before the deadline is exact; how soon after it
// the client's goroutine runs depends on the machine, and a loaded CI box
// (or a fuzzer next door on two cores) delays it by up to a second or so.
// So the per-phase specs only show which limit applied, with a wide
// margin, and the ±10 % precision specs of issue 6 retry a few times.
const schedulingMargin = 2 * time.Second

var _ = Describe("Deadlines", func() {
	run := func(d deadline, tolerance time.Duration) *handshake.Result {
		p := startPeer(d.peer)
		res, err := dial(p.Addr(), d.cfg)
		expectFailure(res, err, p.Addr(), handshake.KindTimeout, d.phase)
		AddReportEntry("time past the deadline", phaseElapsed(res)-d.limit)
		Expect(phaseElapsed(res)).To(BeNumerically(">=", d.limit))
		Expect(phaseElapsed(res)).To(BeNumerically("<=", d.limit+tolerance))
		Expect(p.next().err).NotTo(HaveOccurred())
		return res
	}

	DescribeTable("each phase has its own deadline",
		func(d deadline) { run(d, schedulingMargin) },
		Entry("VersionTimeout: a silent peer",
			deadline{peer: silent, phase: handshake.PhaseVersion, limit: 300 * time.Millisecond,
				cfg: handshake.Config{Timeout: 10 * time.Second, VersionTimeout: 300 * time.Millisecond}}),
		Entry("VerackTimeout: a peer that sends its version and no verack",
			deadline{peer: reply(peerVersion(70016)), phase: handshake.PhaseVerack, limit: 300 * time.Millisecond,
				cfg: handshake.Config{Timeout: 10 * time.Second, VerackTimeout: 300 * time.Millisecond}}),
		Entry("VerackTimeout does not shorten the version phase",
			deadline{peer: silent, phase: handshake.PhaseVersion, limit: 300 * time.Millisecond,
				cfg: handshake.Config{Timeout: 300 * time.Millisecond, VerackTimeout: 100 * time.Millisecond}}),
	)

	// Issue 6, item 6: a trickling peer does not extend the deadline; it
	// is dropped at the configured deadline, within 10 %.
	DescribeTable("a peer trickling one byte every 100 ms is dropped at the deadline (±10 %)", FlakeAttempts(3),
		func(d deadline) { run(d, d.limit/10) },
		Entry("in the version phase (VersionTimeout)",
			deadline{peer: trickling(nil, peerVersion(70016), wire.Verack{}), phase: handshake.PhaseVersion, limit: 500 * time.Millisecond,
				cfg: handshake.Config{Timeout: 10 * time.Second, VersionTimeout: 500 * time.Millisecond}}),
		Entry("in the verack phase (VerackTimeout)",
			deadline{peer: trickling([]wire.Message{peerVersion(70016)}, wire.Verack{}), phase: handshake.PhaseVerack, limit: 500 * time.Millisecond,
				cfg: handshake.Config{Timeout: 10 * time.Second, VerackTimeout: 500 * time.Millisecond}}),
		Entry("in the version phase (Timeout only)",
			deadline{peer: trickling(nil, peerVersion(70016), wire.Verack{}), phase: handshake.PhaseVersion, limit: 500 * time.Millisecond,
				cfg: handshake.Config{Timeout: 500 * time.Millisecond}}),
	)
})
