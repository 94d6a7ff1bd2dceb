package scenarios

import (
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
)

// PeerTimeout is how long a node of the model waits for a silent or
// verack-less peer before it drops it, by default: Core's -peertimeout
// (mockpeer.CorePeerTimeout), btcd's negotiate timeout
// (mockpeer.BtcdNegotiateTimeout).
func (m Model) PeerTimeout() time.Duration {
	if m == ModelBtcd || m == ModelBtcdV2 {
		return mockpeer.BtcdNegotiateTimeout
	}
	return mockpeer.CorePeerTimeout
}

// Probes returns the probes conform runs for the model: the v1 probes,
// then the v2 ones for a model that speaks BIP324 (V2).
func (m Model) Probes() Catalog[Probe] {
	if m.V2() {
		return Probes()
	}
	return Probes().Transport("v1")
}
