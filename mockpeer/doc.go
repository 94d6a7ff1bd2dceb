// Package mockpeer is an in-process, scriptable Bitcoin peer for tests, shaped
// like net/http/httptest and gomega's ghttp.
//
// # Lifecycle
//
// A Server's lifecycle is httptest's:
//
//	srv := mockpeer.NewServer(mockpeer.WithFailHandler(Fail)) // accepting on 127.0.0.1:0
//	defer srv.Close()
//	srv.AppendScripts(script)     // one script per accepted connection, in order
//	srv.SetDefaultScript(other)   // for connections past the appended ones
//	client.Connect(srv.Addr())
//
// NewServer returns a server that is already accepting on an ephemeral
// loopback port, and panics when it cannot listen: in a test that is a
// broken machine, not a case to handle. NewUnstartedServer returns one that
// does not accept yet: configure it, then Start, which returns an error
// instead (an address a user gave with WithAddr that is in use, say). Set
// its Listener before Start to hand it a listener you already hold, so that
// nothing can take the address in between. Close stops the server, waits
// for every goroutine it started and reports the scripts left unfinished.
//
// # Scripts and steps
//
// A Script is a list of small Step values: expect a message (Expect, with
// Gomega matchers on the decoded wire.Message; Expect(...).Never for one
// that must not come), send messages (Send) or raw bytes, such as a
// deliberately broken wire.RawFrame (SendRaw), play BIP324's handshake
// (V2Handshake), hold the connection open (HoldOpen), or do anything a
// Conn method does (Do: Do((*Conn).Close), Do((*Conn).Reset),
// Do((*Conn).ExpectClosed), ...). Methods of a step say how it writes (one
// write per message by default; Coalesced, Split, Dribble) and how long it
// waits (Within). Every step remembers the file:line where it was built, so
// a failure names the line of the spec, not a line in this package.
//
// Always-on routes (Server.Route, WithRoute) react to a command whatever the
// script is doing while it waits for messages, such as a pong for every
// ping.
//
// # Profiles
//
// Profiles are responders written as one Reaction per received command, in
// the manner of Bitcoin Core's functional test framework (p2p.py):
// CoreResponder follows Bitcoin Core v30 and BtcdResponder follows btcd
// v0.26.2, as documented in docs/PROTOCOL.md. A quirk is one overridden
// reaction (Profile.On) or one rule on what a profile sends
// (Profile.Without, Profile.Before, Profile.After); what a profile announces
// is one of its methods (Version, V2Transport, HandshakeTimeout, ...).
//
// CoreResponder differs by platform in one point. Core does not answer a
// verack whose sender has already closed the connection (its socket thread
// has seen the close). On unix the mock sees that close without waiting,
// with a non-blocking read of the socket, and answers nothing, as Core
// does; elsewhere it cannot tell without blocking and answers the verack
// with its post-verack messages. Writes differ in cost, not in behaviour: on
// unix a write that fits in the socket buffer arms no deadline.
//
// # Records and failures
//
// Everything sent and received is recorded with its time (Server.Transcript,
// Server.Received; WithRecording bounds it). Failures (an expectation not
// met, a script cut off by Close, a connection nobody scripted) go to a fail
// handler (WithFailHandler: Ginkgo's Fail, or a function calling a
// testing.TB's Error) or, without one, are returned by Close. Handlers are
// called from server goroutines inside a recover, as ghttp does, because
// Ginkgo's Fail panics by design outside the spec goroutine.
//
// Dial plays the same scripts as the initiating side, to probe real nodes.
//
// The default network is regtest: a mock peer is a test double, and regtest
// is the network our tests and integration nodes use. Use WithNetwork to
// change it.
//
// Cost per connection is one goroutine, a 256-byte read buffer that grows
// only for larger frames, and no timers left running between steps.
//
// # Examples
//
// Runnable examples (go test runs them; example_test.go and pkg.go.dev show
// them with their code): ExampleServer (a mock with a script: expect,
// reply, hang up), ExampleNewUnstartedServer and
// ExampleNewUnstartedServer_listener (the lifecycle), ExampleCoreResponder
// (Core v30 with one quirk) and ExampleDial (the mock as the side that
// connects). The harness package's examples run the whole catalog against
// a client.
package mockpeer
