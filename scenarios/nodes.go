package scenarios

import (
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
)

// nodeScripts are the scenarios that play a real node's responder, each
// built for a peer timeout: the node drops a peer that has not completed
// the handshake that long after connecting, as the real node does.
func nodeScripts() map[string]func(peerTimeout time.Duration) mockpeer.Script {
	return map[string]func(time.Duration) mockpeer.Script{
		"core-v30-responder":     coreV30,
		"btcd-v0.26.2-responder": btcdV0262,
	}
}

// coreV30 is Bitcoin Core v30's inbound side: the peer timeout is
// -peertimeout (src/net.cpp InactivityCheck; 60 s by default).
func coreV30(peerTimeout time.Duration) mockpeer.Script {
	// -v2transport=0: the v1 scenario and conform's "core" model;
	// v2-core-v30-responder plays Core's default.
	return mockpeer.CoreResponder().HandshakeTimeout(peerTimeout).V2Transport(nil).Named("core-v30-responder").Script()
}

// btcdV0262 is btcd v0.26.2's inbound side: the peer timeout is its
// negotiate timeout (peer/peer.go negotiateTimeout, 30 s, not configurable).
func btcdV0262(peerTimeout time.Duration) mockpeer.Script {
	return mockpeer.BtcdResponder().HandshakeTimeout(peerTimeout).Named("btcd-v0.26.2-responder").Script()
}

// WithPeerTimeout returns the scenario with its mock dropping a peer that
// has not completed the handshake d after connecting (0: never), as the
// node it plays does with its own peer timeout. In the catalog such a
// scenario keeps the real node's value (core-v30-responder:
// mockpeer.CorePeerTimeout; btcd-v0.26.2-responder:
// mockpeer.BtcdNegotiateTimeout). ok is false for every other scenario:
// those play no node's timeout, so that in timing scenarios the client's
// own deadline decides.
func (s Scenario) WithPeerTimeout(d time.Duration) (sc Scenario, ok bool) {
	build, ok := nodeScripts()[s.Name]
	if !ok {
		return s, false
	}
	s.Script = build(d)
	return s, true
}
