// Package harness runs handshake clients against the scenario catalog and
// judges each run against the scenario's expected verdict.
//
// A client is a Go function or an external command; the harness starts one
// mock peer per scenario, points the client at it, and compares what the
// client reports (completion, error kind, quirks) with the verdict. Results
// come out as a human table, NDJSON or JUnit XML. Gomega matchers
// (CompleteHandshake, FailWithKind, HaveQuirk, HaveNegotiatedVersion) work
// on both handshake results and harness outcomes.
package harness
