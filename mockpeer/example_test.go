package mockpeer_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// A mock peer that plays one script: it expects our version, answers with
// its own version and a verack, then expects our verack and hangs up. Close
// reports a script left unfinished; here the script ran to its end,
// because the client lingers until the mock hangs up (without Linger, Dial
// may return before the mock has read its verack, and Close would cut the
// script off).
func ExampleServer() {
	// In a test: mockpeer.NewServer(mockpeer.WithFailHandler(Fail)) with
	// Ginkgo, or a handler calling t.Error, and defer srv.Close().
	srv := mockpeer.NewServer()
	srv.AppendScripts(mockpeer.NewScript("minimal node",
		mockpeer.Expect(wire.CmdVersion, gomega.HaveField("ProtocolVersion", gomega.BeNumerically(">=", 70001))),
		mockpeer.ReplyVersion(nil),
		mockpeer.Send(wire.Verack{}),
		mockpeer.Expect(wire.CmdVerack),
	))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, _ := handshake.Dial(ctx, srv.Addr(), handshake.Config{Network: wire.Regtest, Timeout: 2 * time.Second,
		Linger: 2 * time.Second})
	fmt.Println("handshake ok:", res.OK())

	// Close waits for the script to end and reports what went wrong.
	fmt.Println("close:", srv.Close())
	for _, r := range srv.Received() {
		if r.Command == wire.CmdVersion || r.Command == wire.CmdVerack {
			fmt.Println("mock received", r.Command)
		}
	}
	// Output:
	// handshake ok: true
	// close: <nil>
	// mock received version
	// mock received verack
}

// NewUnstartedServer and Start, as in net/http/httptest: configure, then
// start; Start returns an error where NewServer would fail the test (an
// address in use, say).
func ExampleNewUnstartedServer() {
	srv := mockpeer.NewUnstartedServer(mockpeer.WithAddr("127.0.0.1:0"))
	defer srv.Close()
	srv.SetDefaultScript(mockpeer.NewScript("", mockpeer.Send(wire.Ping{Nonce: 7}), mockpeer.HoldOpen()))
	if err := srv.Start(); err != nil {
		fmt.Println("cannot serve:", err)
		return
	}

	// A second server on the same address cannot start: an error, no panic.
	taken := mockpeer.NewUnstartedServer(mockpeer.WithAddr(srv.Addr()))
	defer taken.Close()
	var op *net.OpError
	err := taken.Start()
	fmt.Println("second server:", errors.As(err, &op), op.Op)
	// Output:
	// second server: true listen
}

// Server.Listener, set before Start, hands the server a listener the
// caller already holds, so the address it reported is the one served, with
// no moment in which another process could take it.
func ExampleNewUnstartedServer_listener() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := mockpeer.NewUnstartedServer()
	srv.Listener = l
	defer srv.Close() // closes l too
	srv.SetDefaultScript(mockpeer.CoreResponder().Script())
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(srv.Addr() == l.Addr().String())
	// Output: true
}

// A faithful Bitcoin Core v30 responder with one quirk: it sends
// sendheaders before its verack. The client tolerates it and names it.
func ExampleCoreResponder() {
	srv := mockpeer.NewServer()
	defer srv.Close()
	srv.SetDefaultScript(mockpeer.CoreResponder().
		Before(wire.CmdVerack, wire.SendHeaders{}).
		Script())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := handshake.Dial(ctx, srv.Addr(), handshake.Config{Network: wire.Regtest, Timeout: 2 * time.Second})
	fmt.Println("ok", err == nil, "peer", res.Peer.UserAgent)
	fmt.Println("quirk noted:", res.HasQuirk(handshake.QuirkSendHeadersBeforeVerack))
	// Output:
	// ok true peer /Satoshi:30.0.0/
	// quirk noted: true
}

// Dial plays a script as the side that connects, here against another
// mock: steps are small values, and how a step writes is one of its
// methods (Coalesced: version and verack in one TCP write).
func ExampleDial() {
	node := mockpeer.NewServer()
	defer node.Close()
	node.SetDefaultScript(mockpeer.CoreResponder().Script())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sess, err := mockpeer.Dial(ctx, node.Addr(), mockpeer.NewScript("probe",
		mockpeer.ReplyVersion(nil),
		mockpeer.Expect(wire.CmdVerack),
		mockpeer.Send(wire.Verack{}, wire.Ping{Nonce: 1}).Coalesced(),
		mockpeer.Expect(wire.CmdPong, gomega.Equal(wire.Pong{Nonce: 1})),
	))
	fmt.Println("probe:", err)
	for _, r := range sess.Received() {
		if r.Command == wire.CmdVersion || r.Command == wire.CmdPong {
			fmt.Println("node sent", r.Command)
		}
	}
	// Output:
	// probe: <nil>
	// node sent version
	// node sent pong
}
