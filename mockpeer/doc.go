// Package mockpeer is an in-process, scriptable Bitcoin peer for tests, shaped
// like net/http/httptest and gomega's ghttp.
//
// A Server listens on loopback and plays one Script per accepted connection
// (AppendScripts, then the default script of SetDefaultScript).
//
// Its lifecycle is httptest's. NewServer returns a server that is already
// accepting on an ephemeral loopback port, and fails the test (WithTB) or
// panics when it cannot listen: in a test that is a broken machine, not a
// case to handle. NewUnstartedServer returns one that does not accept yet:
// configure it, then Start, which returns an error instead (an address a
// user gave that is in use, say). WithListener hands a server a listener
// the caller already holds, so nothing can take its address in between.
// Close stops it, waits for every goroutine it started and reports the
// scripts left unfinished.
//
// A Script is a
// list of small Step values: expect a message (with Gomega matchers on the
// decoded wire.Message), send messages one write each or coalesced into one
// TCP write, send raw bytes or deliberately broken frames, dribble bytes with
// delays, sleep, hold the connection open, half-close, close or reset it.
// Every step remembers the file:line where it was built, so a failure names
// the line of the spec, not a line in this package.
//
// Always-on routes (Server.Route, WithRoute) react to a command whatever the
// script is doing while it waits for messages, for example AnswerPings.
//
// Profiles are responders written as one Reaction per received command, in
// the manner of Bitcoin Core's functional test framework (p2p.py):
// CoreResponder follows Bitcoin Core v30 and BtcdResponder follows btcd
// v0.26.2, as documented in docs/PROTOCOL.md. A quirk is one overridden reaction
// (Profile.On) or one rule on what a profile sends (Profile.Without,
// Profile.Before, Profile.After).
//
// Everything sent and received is recorded with its time (Server.Transcript,
// Server.Received). Failures (an expectation not met, a script cut off by
// Close, a connection nobody scripted) go to a fail handler: Ginkgo's Fail
// (WithFailHandler(Fail)), a testing.TB (WithTB), or, when neither is given,
// they are returned by Close. Handlers are called from server goroutines
// inside a recover, as ghttp does, because Ginkgo's Fail panics by design
// outside the spec goroutine.
//
// Dial plays the same scripts as the initiating side, to probe real nodes.
//
// A Fleet is many Servers on distinct loopback addresses (a survey's mock
// network); on Linux they share one listening socket bound to the loopback
// device, so ten thousand peers cost one descriptor and one goroutine at
// rest.
//
// The default network is regtest: a mock peer is a test double, and regtest
// is the network our tests and integration nodes use. Use WithNetwork to
// change it.
//
// Cost per connection is one goroutine, a 256-byte read buffer that grows
// only for larger frames, and no timers left running between steps.
package mockpeer
