// Package scenarios is btc-handshake's catalog of misbehaving peers.
//
// Each Scenario has a kebab-case name, a one-line summary, its origin (a
// line of the original tool's log of real peers, a Bitcoin Core source
// file, or an implementation observed on the wire), the role it plays, the
// mock peer script that plays it, and the verdict a correct counterpart
// must reach. Names and verdicts are a public contract: tests, the CLI and
// reports use them.
package scenarios
