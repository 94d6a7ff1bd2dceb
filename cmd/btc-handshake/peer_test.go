package main_test

import (
	"time"

	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// behaviour is what a test peer does once it has read the client's version.
type behaviour []mockpeer.Step

// testPeer is a mock peer that reads the client's version and then plays
// one behaviour, each step for at most 10 s. The behaviours are written here
// rather than taken from the scenario catalog so the CLI specs don't depend
// on it; the catalog has its own suite.
type testPeer struct{ *mockpeer.Server }

func startPeer(addr string, n wire.Network, b behaviour) *testPeer {
	srv := mockpeer.NewUnstartedServer(mockpeer.WithNetwork(n), mockpeer.WithAddr(addr),
		mockpeer.WithStepTimeout(10*time.Second),
		// A CLI that hangs up early is what several specs are about.
		mockpeer.WithFailHandler(func(string, ...int) {}))
	srv.SetDefaultScript(mockpeer.NewScript("", append([]mockpeer.Step{mockpeer.Expect(wire.CmdVersion)}, b...)...))
	Expect(srv.Start()).To(Succeed())
	return &testPeer{srv}
}

// Close stops the peer; what its scripts reported does not matter here.
func (p *testPeer) Close() { _ = p.Server.Close() }

func version(pver int32, ua string) *wire.Version {
	return &wire.Version{ProtocolVersion: pver, Services: wire.NodeNetwork | wire.NodeWitness,
		Timestamp: time.Now().Unix(), Nonce: 42, UserAgent: ua, StartHeight: 100, Relay: true}
}

// coalesced answers as real peers often arrive (the original tool's log):
// version, wtxidrelay, sendaddrv2 and verack in one write, then holds the
// connection until the client closes it.
func coalesced(ua string) behaviour {
	return behaviour{
		mockpeer.Send(version(70016, ua), wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}).Coalesced(),
		mockpeer.HoldOpen().Within(10 * time.Second),
	}
}

// noVerack sends its version and then holds the connection, silent.
var noVerack = behaviour{
	mockpeer.Send(version(70016, "/Satoshi:0.21.0/")),
	mockpeer.HoldOpen().Within(10 * time.Second),
}
