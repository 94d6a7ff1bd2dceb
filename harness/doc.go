// Package harness runs handshake clients against the scenario catalog and
// judges each run against the scenario's expected verdict.
//
// A client is a Go function or an external command; the harness starts one
// mock peer per scenario, points the client at it, and compares what the
// client reports (completion, error kind, quirks) with the verdict. Results
// come out as a human table, NDJSON or JUnit XML. Gomega matchers
// (CompleteHandshake, FailWith, HaveQuirk) work on both handshake results
// and harness outcomes.
//
// The other way round, RunProbes plays the conformance probes of package
// scenarios against a node, as a client, and judges what the node does
// against a node model (scenarios.ModelCore, ModelBtcd, ...). Both runs
// return their judgements as a list (Judgements, ProbeJudgements) that
// counts itself and writes itself as a table or NDJSON (scenarios also as
// JUnit XML).
//
// With plain testing, Run judges a client against the catalog (see the
// examples). With Ginkgo, one Entry per scenario gives each its own
// spec, its own line in the report and its own focus; the harness's own
// suite runs our client this way (catalog_test.go):
//
//	var _ = Describe("my client against the catalog", func() {
//		client := harness.Client(func(ctx context.Context, addr string, net wire.Network) harness.Outcome {
//			res, _ := handshake.Dial(ctx, addr, handshake.Config{Network: net})
//			return harness.FromResult(res)
//		})
//		var entries []TableEntry
//		for _, sc := range scenarios.All().Transport("v1") {
//			entries = append(entries, Entry(sc.Name, sc))
//		}
//		DescribeTable("each scenario's verdict",
//			func(ctx SpecContext, sc scenarios.Scenario) {
//				js := harness.Run(ctx, client, harness.Options{ClientTimeout: time.Second}, sc)
//				Expect(js).To(harness.PassVerdict())
//			},
//			entries,
//		)
//	})
package harness
