package mockpeer

import (
	"testing"

	"github.com/btc-handshake/btc-handshake/wire"
)

// TestTypedMatchesWire keeps typed in step with wire.Decode: the mock
// builds a wire.Raw itself for every command typed says wire would decode
// to one, so the two lists must agree.
func TestTypedMatchesWire(t *testing.T) {
	samples := []wire.Message{
		&wire.Version{ProtocolVersion: wire.ProtocolVersion, UserAgent: "/t/", Relay: true},
		wire.Verack{}, wire.SendHeaders{}, wire.WtxidRelay{}, wire.SendAddrV2{}, wire.GetAddr{},
		wire.Ping{Nonce: 1}, wire.Pong{Nonce: 1}, wire.SendCmpct{Version: 2}, wire.SendTxRcncl{Version: 1},
		wire.FeeFilter{FeeRate: 1000},
		wire.Raw{Cmd: wire.CmdGetHeaders}, wire.Raw{Cmd: wire.CmdAlert}, wire.Raw{Cmd: wire.CmdReject},
		wire.Raw{Cmd: wire.CmdInv}, wire.Raw{Cmd: wire.CmdAddr}, wire.Raw{Cmd: wire.CmdAddrV2},
		wire.Raw{Cmd: "getdata"}, wire.Raw{Cmd: "xversion"},
	}
	for _, m := range samples {
		got, err := wire.Decode(m.Command(), m.AppendPayload(nil))
		if err != nil {
			t.Fatalf("%s: %v", m.Command(), err)
		}
		_, raw := got.(wire.Raw)
		if typed(m.Command()) == raw {
			t.Errorf("typed(%q) = %v, but wire.Decode gives %T", m.Command(), typed(m.Command()), got)
		}
	}
}
