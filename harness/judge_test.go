package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("Judge", func() {
	detailed := func(completed bool, kind, phase string, quirks ...string) harness.Outcome {
		return harness.Outcome{Completed: completed, Kind: kind, Phase: phase, Quirks: quirks, Detailed: true, Duration: 10 * time.Millisecond}
	}
	DescribeTable("verdicts",
		func(v scenarios.Verdict, o harness.Outcome, want string) {
			reasons := harness.Judge(v, o, time.Second)
			if want == "" {
				Expect(reasons).To(BeEmpty())
			} else {
				Expect(strings.Join(reasons, "; ")).To(ContainSubstring(want))
			}
		},
		Entry("completes as expected", scenarios.Completes("a"), detailed(true, "", "done", "a", "b"), ""),
		Entry("missing quirk", scenarios.Completes("a", "c"), detailed(true, "", "done", "a"), `expected quirk "c"`),
		Entry("failed instead of completing", scenarios.Completes(), detailed(false, "timeout", "verack"), "expected the handshake to complete"),
		Entry("completed instead of failing", scenarios.Fails("timeout"), detailed(true, "", "done"), "reported success"),
		Entry("wrong kind", scenarios.Fails("bad-magic"), detailed(false, "timeout", "version"), `expected error kind "bad-magic", got "timeout"`),
		Entry("wrong phase", scenarios.Fails("timeout", "verack"), detailed(false, "timeout", "version"), `expected failure in phase "verack"`),
		Entry("exit-status-only client: kind not judged", scenarios.Fails("bad-magic"), harness.Outcome{Completed: false}, ""),
		Entry("exit-status-only client: quirks not judged", scenarios.Completes("a"), harness.Outcome{Completed: true}, ""),
		Entry("too slow to fail", scenarios.Fails("timeout"), harness.Outcome{Duration: 3 * time.Second}, "more than the bound"),
	)
})

var _ = Describe("reports", func() {
	js := []harness.Judgement{
		{Scenario: "good", Summary: "s1", Expected: scenarios.Completes(), Outcome: harness.Outcome{Completed: true, Quirks: []string{"q"}}},
		{Scenario: "bad", Summary: "s2", Expected: scenarios.Fails("timeout"), Outcome: harness.Outcome{Completed: true, Output: "client said <hi>"},
			Reasons: []string{"expected a failure"}},
	}

	It("writes a table with a total", func() {
		var b bytes.Buffer
		Expect(harness.WriteTable(&b, js)).To(Succeed())
		Expect(b.String()).To(MatchRegexp(`PASS\s+good\s+complete\s+complete \[q\]`))
		Expect(b.String()).To(MatchRegexp(`FAIL\s+bad\s+fail timeout\s+complete\s+\S+\s+expected a failure`))
		Expect(b.String()).To(HaveSuffix("2 scenarios: 1 passed, 1 failed\n"))
	})

	It("writes NDJSON with a summary", func() {
		var b bytes.Buffer
		Expect(harness.WriteNDJSON(&b, js)).To(Succeed())
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		Expect(lines).To(HaveLen(3))
		var first, last map[string]any
		Expect(json.Unmarshal([]byte(lines[0]), &first)).To(Succeed())
		Expect(json.Unmarshal([]byte(lines[2]), &last)).To(Succeed())
		Expect(first).To(HaveKeyWithValue("scenario", "good"))
		Expect(first).To(HaveKeyWithValue("pass", true))
		Expect(last).To(HaveKeyWithValue("type", "summary"))
		Expect(last).To(HaveKeyWithValue("failed", BeNumerically("==", 1)))
	})

	It("writes JUnit XML that parses, one testcase per scenario, escaped", func() {
		var b bytes.Buffer
		Expect(harness.WriteJUnit(&b, "suite", js)).To(Succeed())
		var doc struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Cases    []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
					} `xml:"failure"`
					Out string `xml:"system-out"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		Expect(xml.Unmarshal(b.Bytes(), &doc)).To(Succeed())
		Expect(doc.Suites[0].Tests).To(Equal(2))
		Expect(doc.Suites[0].Failures).To(Equal(1))
		Expect(doc.Suites[0].Cases[0].Failure).To(BeNil())
		Expect(doc.Suites[0].Cases[1].Failure.Message).To(Equal("expected a failure"))
		Expect(doc.Suites[0].Cases[1].Out).To(Equal("client said <hi>"))
	})
})

var _ = Describe("clients", func() {
	It("CommandClient substitutes {addr} {host} {port} {network} and reads our NDJSON", func() {
		c := harness.CommandClient(`echo '{"type":"peer","ok":false,"error":{"kind":"timeout","message":"m"},"phase":"verack","quirks":["x"],"negotiated_version":70015}' ; echo {addr} {host} {port} {network} >&2; exit 1`)
		o := c.Handshake(context.Background(), "127.0.0.9:1234", wire.Testnet4)
		Expect(o.Detailed).To(BeTrue())
		Expect(o).To(harness.FailWithKind(handshake.KindTimeout))
		Expect(o).To(harness.FailInPhase(handshake.PhaseVerack))
		Expect(o).To(harness.HaveQuirk("x"))
		Expect(o).To(harness.HaveNegotiatedVersion(70015))
		Expect(o.Output).To(ContainSubstring("127.0.0.9:1234 127.0.0.9 1234 testnet4"))
	})

	It("CommandClient uses the exit status when there is no NDJSON, and kills a client that overruns", func() {
		ok := harness.CommandClient("exit 0 # {addr}").Handshake(context.Background(), "127.0.0.1:1", wire.Regtest)
		Expect(ok).To(harness.CompleteHandshake())
		Expect(ok.Detailed).To(BeFalse())
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		hung := harness.CommandClient("exec sleep 30 # {addr}").Handshake(ctx, "127.0.0.1:1", wire.Regtest)
		Expect(hung).NotTo(harness.CompleteHandshake())
		Expect(hung.Message).To(ContainSubstring("killed"))
		Expect(hung.Duration).To(BeNumerically("<", 5*time.Second))
	})

	It("the matchers explain what they got, and refuse what they cannot judge", func() {
		m := harness.CompleteHandshake()
		ok, err := m.Match(harness.Outcome{Kind: "timeout"})
		Expect(err).NotTo(HaveOccurred())
		Expect(ok).To(BeFalse())
		Expect(m.FailureMessage(harness.Outcome{Kind: "timeout"})).To(ContainSubstring("timeout"))
		_, err = m.Match("a string")
		Expect(err).To(MatchError(ContainSubstring("not string")))
	})
})

var _ = Describe("Run", func() {
	It("runs scenarios in parallel and keeps their order; a broken client fails what it should", func() {
		// Connects, says nothing, hangs up its side, waits until the mock
		// has played its script to the end and closed, and claims success.
		alwaysOK := harness.ClientFunc(func(ctx context.Context, addr string, _ wire.Network) harness.Outcome {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return harness.Outcome{Message: err.Error()}
			}
			defer c.Close()
			_ = c.(*net.TCPConn).CloseWrite()
			if dl, ok := ctx.Deadline(); ok {
				_ = c.SetReadDeadline(dl)
			}
			_, _ = io.Copy(io.Discard, c)
			return harness.Outcome{Completed: true}
		})
		scs, _ := scenarios.Select("core-v30-responder", "wrong-magic", "nonce-echoed")
		js := harness.Run(context.Background(), alwaysOK, scs, harness.Options{ClientTimeout: 200 * time.Millisecond, Slack: 100 * time.Millisecond})
		Expect(js).To(HaveLen(3))
		Expect(js[0].Scenario).To(Equal("core-v30-responder"))
		Expect(js[0]).To(harness.PassVerdict())
		Expect(js[1]).NotTo(harness.PassVerdict())
		Expect(js[2]).NotTo(harness.PassVerdict())
		// The client never sent a version, so the mock says so, without judging.
		Expect(strings.Join(js[1].MockNotes, "\n")).To(ContainSubstring(`Expect("version")`))
	})
})
