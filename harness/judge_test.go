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
	"unicode/utf8"

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
			reasons := o.Judge(v, time.Second)
			if want == "" {
				Expect(reasons).To(BeEmpty())
			} else {
				Expect(strings.Join(reasons, "; ")).To(ContainSubstring(want))
			}
		},
		Entry("completes as expected", scenarios.Completes("a"), detailed(true, "", "done", "a", "b"), ""),
		Entry("a missing quirk is a diagnostic, not a reason", scenarios.Completes("a", "c"), detailed(true, "", "done", "a"), ""),
		Entry("failed instead of completing", scenarios.Completes(), detailed(false, "timeout", "verack"), "expected the handshake to complete"),
		Entry("completed instead of failing", scenarios.Fails("timeout"), detailed(true, "", "done"), "reported success"),
		Entry("wrong kind", scenarios.Fails("bad-magic"), detailed(false, "timeout", "version"), `expected error kind "bad-magic", got "timeout"`),
		Entry("wrong phase", scenarios.Fails("timeout", "verack"), detailed(false, "timeout", "version"), `expected failure in phase "verack"`),
		Entry("exit-status-only client: kind not judged", scenarios.Fails("bad-magic"), harness.Outcome{Completed: false}, ""),
		Entry("exit-status-only client: quirks not judged", scenarios.Completes("a"), harness.Outcome{Completed: true}, ""),
		Entry("too slow to fail", scenarios.Fails("timeout"), harness.Outcome{Duration: 3 * time.Second}, "more than the bound"),
		Entry("an alternative outcome is accepted",
			scenarios.Verdict{Complete: true, Behaviour: scenarios.Tolerant, Or: []scenarios.Verdict{{Kind: "timeout", Phase: "verack", Behaviour: scenarios.CoreLike}}},
			detailed(false, "timeout", "verack"), ""),
		Entry("none of the alternatives: judged against the closest",
			scenarios.Verdict{Complete: true, Behaviour: scenarios.Tolerant, Or: []scenarios.Verdict{{Kind: "timeout", Phase: "verack", Behaviour: scenarios.CoreLike}}},
			detailed(false, "bad-magic", "verack"), `expected error kind "timeout", got "bad-magic"`),
		Entry("an interrupted run is never a pass", scenarios.Completes(), harness.Outcome{Completed: true, Interrupted: true}, "interrupted"),
	)
})

var _ = Describe("reports", func() {
	seen := harness.Witness{Connected: true, Connections: 1, Received: []string{"version", "verack"}, Closed: "client-fin"}
	hostile := "\x00\x1b[2J\x1b]0;pwned\x07\xff\xfe\u202e evil"
	js := harness.Judgements{
		{Scenario: "good", Summary: "s1", Expected: scenarios.Verdict{Complete: true, Behaviour: scenarios.Tolerant,
			Or: []scenarios.Verdict{{Kind: "timeout", Behaviour: scenarios.CoreLike}}},
			Outcome: harness.Outcome{Completed: true, Quirks: []string{"q"}}, Witness: seen, Behaviour: scenarios.Tolerant},
		{Scenario: "bad", Summary: "s2", Expected: scenarios.Fails("timeout"), Outcome: harness.Outcome{Completed: true, Output: "client said <hi>"},
			Reasons: []string{"expected a failure"}},
		{Scenario: "hostile", Summary: "s3", Expected: scenarios.Fails("timeout"),
			Outcome: harness.Outcome{Kind: hostile, Quirks: []string{hostile}, Message: hostile, Output: "line 1\n" + hostile + "\nend", Detailed: true},
			Witness: harness.Witness{Connected: true, Connections: 1, Received: []string{"!" + hostile}, Closed: "open"},
			Reasons: []string{"expected error kind \"timeout\", got " + hostile}, MockNotes: []string{hostile}},
		{Scenario: "cut", Summary: "s4", Expected: scenarios.Completes(), Outcome: harness.Outcome{Completed: true, Interrupted: true},
			Reasons: []string{"interrupted"}},
	}

	It("writes a table with the behaviour seen, the witness, interrupted runs and a total, escaped", func() {
		var b bytes.Buffer
		Expect(js.WriteTable(&b)).To(Succeed())
		out := b.String()
		Expect(out).To(MatchRegexp(`RESULT\s+SCENARIO\s+EXPECTED\s+GOT\s+BEHAVIOUR\s+WITNESS\s+TIME\s+WHY`))
		Expect(out).To(MatchRegexp(`PASS\s+good\s+complete \(or 1 more\)\s+complete \[q\]\s+tolerant\s+version,verack; client-fin`))
		Expect(out).To(MatchRegexp(`FAIL\s+bad\s+fail timeout\s+complete\s+-\s+no connection\s+\S+\s+expected a failure`))
		Expect(out).To(MatchRegexp(`INTERRUPTED\s+cut\s+complete\s+interrupted`))
		Expect(out).To(HaveSuffix("4 scenarios: 1 passed, 3 failed (1 interrupted)\n"))
		Expect(out).NotTo(ContainSubstring("\x1b"))
		Expect(out).NotTo(ContainSubstring("\x00"))
		Expect(out).NotTo(ContainSubstring("\u202e"))
		Expect(utf8.ValidString(out)).To(BeTrue())
		Expect(out).To(ContainSubstring(`\x00\x1b[2J\x1b]0;pwned\a\xff\xfe\u202e evil`))
	})

	It("writes NDJSON with the witness, the acceptable outcomes and a summary", func() {
		var b bytes.Buffer
		Expect(js.WriteNDJSON(&b, time.Second)).To(Succeed())
		lines := strings.Split(strings.TrimSpace(b.String()), "\n")
		Expect(lines).To(HaveLen(5))
		var first, cut, last map[string]any
		Expect(json.Unmarshal([]byte(lines[0]), &first)).To(Succeed())
		Expect(json.Unmarshal([]byte(lines[3]), &cut)).To(Succeed())
		Expect(json.Unmarshal([]byte(lines[4]), &last)).To(Succeed())
		Expect(first).To(HaveKeyWithValue("scenario", "good"))
		Expect(first).To(HaveKeyWithValue("pass", true))
		Expect(first).To(HaveKeyWithValue("behaviour", "tolerant"))
		Expect(first).To(HaveKeyWithValue("witness", HaveKeyWithValue("received", ConsistOf("version", "verack"))))
		Expect(first).To(HaveKeyWithValue("witness", HaveKeyWithValue("closed", "client-fin")))
		Expect(first).To(HaveKeyWithValue("acceptable", HaveLen(2)))
		Expect(cut).To(HaveKeyWithValue("result", "interrupted"))
		Expect(cut).To(HaveKeyWithValue("pass", false))
		Expect(last).To(HaveKeyWithValue("type", "summary"))
		Expect(last).To(HaveKeyWithValue("failed", BeNumerically("==", 3)))
		Expect(last).To(HaveKeyWithValue("interrupted", BeNumerically("==", 1)))
	})

	It("writes JUnit XML that parses whatever the client printed: failures, an error for the interrupted run, the witness", func() {
		var b bytes.Buffer
		Expect(js.WriteJUnit(&b, "suite")).To(Succeed())
		Expect(utf8.Valid(b.Bytes())).To(BeTrue())
		Expect(b.String()).NotTo(ContainSubstring("\x00"))
		Expect(b.String()).NotTo(ContainSubstring("\x1b"))
		var doc struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Errors   int `xml:"errors,attr"`
				Cases    []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
						Text    string `xml:",chardata"`
					} `xml:"failure"`
					Error *struct {
						Type string `xml:"type,attr"`
					} `xml:"error"`
					Out string `xml:"system-out"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		Expect(xml.Unmarshal(b.Bytes(), &doc)).To(Succeed())
		suite := doc.Suites[0]
		Expect(suite.Tests).To(Equal(4))
		Expect(suite.Failures).To(Equal(2))
		Expect(suite.Errors).To(Equal(1))
		Expect(suite.Cases[0].Failure).To(BeNil())
		Expect(suite.Cases[0].Out).To(ContainSubstring("behaviour: tolerant\nwitness: version,verack; client-fin"))
		Expect(suite.Cases[1].Failure.Message).To(Equal("expected a failure"))
		Expect(suite.Cases[1].Out).To(ContainSubstring("client said <hi>"))
		Expect(suite.Cases[2].Out).To(ContainSubstring("line 1\n\\x00\\x1b[2J"))
		Expect(suite.Cases[2].Failure.Text).To(ContainSubstring(`\x1b]0;pwned`))
		Expect(suite.Cases[3].Error.Type).To(Equal("interrupted"))
	})
})

var _ = Describe("clients", func() {
	It("CommandClient substitutes {addr} {host} {port} {network} and reads our NDJSON", func() {
		c := harness.CommandClient(`echo '{"type":"peer","ok":false,"error":{"kind":"timeout","message":"m"},"phase":"verack","quirks":["x"],"negotiated_version":70015}' ; echo {addr} {host} {port} {network} >&2; exit 1`)
		o := c(context.Background(), "127.0.0.9:1234", wire.Testnet4)
		Expect(o.Detailed).To(BeTrue())
		Expect(o).To(harness.FailWith(handshake.KindTimeout, handshake.PhaseVerack))
		Expect(o).To(harness.FailWith("", handshake.PhaseVerack)) // "" accepts any kind
		Expect(o).NotTo(harness.FailWith(handshake.KindTimeout, handshake.PhaseVersion))
		Expect(o).NotTo(harness.FailWith(handshake.KindBadMagic))
		Expect(o).To(harness.HaveQuirk("x"))
		Expect(o.NegotiatedVersion).To(Equal(int32(70015)))
		Expect(o.Output).To(ContainSubstring("127.0.0.9:1234 127.0.0.9 1234 testnet4"))
	})

	It("CommandClient uses the exit status when there is no NDJSON, and kills a client that overruns", func() {
		ok := harness.CommandClient("exit 0 # {addr}")(context.Background(), "127.0.0.1:1", wire.Regtest)
		Expect(ok).To(harness.CompleteHandshake())
		Expect(ok.Detailed).To(BeFalse())
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		hung := harness.CommandClient("exec sleep 30 # {addr}")(ctx, "127.0.0.1:1", wire.Regtest)
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
	// Connects, says nothing, hangs up its side, waits until the mock has
	// played its script to the end and closed, and claims success.
	silentOK := harness.Client(func(ctx context.Context, addr string, _ wire.Network) harness.Outcome {
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

	It("runs scenarios in parallel and keeps their order; a client that claims what the mock did not see fails", func() {
		scs, _ := scenarios.All().Select("core-v30-responder", "wrong-magic", "nonce-echoed")
		js := harness.Run(context.Background(), silentOK, harness.Options{ClientTimeout: 200 * time.Millisecond, Slack: 100 * time.Millisecond}, scs...)
		Expect(js).To(HaveLen(3))
		Expect(js[0].Scenario).To(Equal("core-v30-responder"))
		for _, j := range js {
			Expect(j).NotTo(harness.PassVerdict())
			Expect(j.Witness.Connected).To(BeTrue())
			Expect(j.Witness.Received).To(BeEmpty())
			Expect(j.Witness.Closed).To(Equal("client-fin"))
			Expect(strings.Join(j.Reasons, "; ")).To(ContainSubstring("the mock never received its version"))
		}
		// The mock says so too, without judging.
		Expect(strings.Join(js[1].MockNotes, "\n")).To(ContainSubstring(`Expect("version")`))
	})

	It("requires the client's verack for a completion, and its verack before a failure where the scenario allows one", func() {
		// Sends its version, never a verack, and reports what it is told to.
		versionOnly := func(completed bool, kind string) harness.Client {
			return harness.Client(func(ctx context.Context, addr string, n wire.Network) harness.Outcome {
				var d net.Dialer
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					return harness.Outcome{Message: err.Error()}
				}
				defer c.Close()
				Expect(c.Write(wire.AppendMessage(nil, n, &wire.Version{ProtocolVersion: wire.ProtocolVersion, Nonce: 1}))).Error().To(Succeed())
				if dl, ok := ctx.Deadline(); ok {
					_ = c.SetReadDeadline(dl)
				}
				_, _ = io.Copy(io.Discard, c)
				return harness.Outcome{Completed: completed, Kind: kind, Phase: "verack", Detailed: kind != ""}
			})
		}
		opts := harness.Options{ClientTimeout: 200 * time.Millisecond, Slack: 200 * time.Millisecond}
		sc, _ := scenarios.All().Get("close-after-verack")
		j := harness.Run(context.Background(), versionOnly(true, ""), opts, sc)[0]
		Expect(j).NotTo(harness.PassVerdict())
		Expect(j.Witness.Received).To(Equal([]string{"version"}))
		// The mock waits longer for the verack than the client stays.
		Expect(j.Witness.Closed).To(Equal("client-fin"))
		Expect(strings.Join(j.Reasons, "; ")).To(ContainSubstring("never received its verack after its version"))

		sc, _ = scenarios.All().Get("verack-skipped-held")
		j = harness.Run(context.Background(), versionOnly(false, "timeout"), opts, sc)[0]
		Expect(j).NotTo(harness.PassVerdict())
		Expect(strings.Join(j.Reasons, "; ")).To(ContainSubstring("without taking part as far as the scenario allows"))
	})

	It("shows a connection the client left open as open", func() {
		held := make(chan net.Conn, 1)
		leaves := harness.Client(func(ctx context.Context, addr string, n wire.Network) harness.Outcome {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return harness.Outcome{Message: err.Error()}
			}
			held <- c
			// The mock's answer shows it has accepted the connection.
			Expect(c.Write(wire.AppendMessage(nil, n, &wire.Version{ProtocolVersion: wire.ProtocolVersion, Nonce: 1}))).Error().To(Succeed())
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = c.Read(make([]byte, 1))
			Expect(err).NotTo(HaveOccurred())
			return harness.Outcome{Completed: true}
		})
		sc, _ := scenarios.All().Get("verack-skipped-held")
		j := harness.Run(context.Background(), leaves, harness.Options{ClientTimeout: 100 * time.Millisecond, Slack: 100 * time.Millisecond}, sc)[0]
		(<-held).Close()
		Expect(j.Witness.Closed).To(Equal("open"))
		Expect(j).NotTo(harness.PassVerdict())
	})

	It("judges runs cut short by the caller, and runs never started, as interrupted", func() {
		ctx, cancel := context.WithCancel(context.Background())
		connected := make(chan struct{})
		waits := harness.Client(func(cctx context.Context, addr string, _ wire.Network) harness.Outcome {
			var d net.Dialer
			c, err := d.DialContext(cctx, "tcp", addr)
			if err != nil {
				return harness.Outcome{Message: err.Error()}
			}
			defer c.Close()
			close(connected)
			<-cctx.Done()
			// A client that takes the cancellation for success.
			return harness.Outcome{Completed: true}
		})
		go func() {
			defer GinkgoRecover()
			<-connected
			cancel()
		}()
		scs, _ := scenarios.All().Select("core-v30-responder", "wrong-magic")
		js := harness.Run(ctx, waits, harness.Options{Parallel: 1, ClientTimeout: 10 * time.Second}, scs...)
		for _, j := range js {
			Expect(j.Outcome.Interrupted).To(BeTrue(), j.Scenario)
			Expect(j).NotTo(harness.PassVerdict())
		}
		var b bytes.Buffer
		Expect(js.WriteTable(&b)).To(Succeed())
		Expect(b.String()).To(HaveSuffix("2 scenarios: 0 passed, 2 failed (2 interrupted)\n"))
	})
})
