package harness_test

import (
	"context"
	"net"
	"time"

	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/peer"
	btcwire "github.com/btcsuite/btcd/wire/v2"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/wire"
)

// btcdClient is a second client that no one here wrote: btcd v0.26.2's
// peer package, as an outbound peer, with the same handshake timeout as
// ours. It reports only completion (its verack listener fired) or failure.
func btcdClient(timeout time.Duration) harness.Client { return btcdClientWith(timeout, false) }

// btcdV2Client is btcd's peer with BIP324 (peer.Config.UsingV2Conn, which
// btcd honours only with NODE_P2P_V2 among our own services). It does not
// fall back to v1 itself: btcd's connection manager redials.
func btcdV2Client(timeout time.Duration) harness.Client { return btcdClientWith(timeout, true) }

func btcdClientWith(timeout time.Duration, v2 bool) harness.Client {
	return harness.Client(func(ctx context.Context, addr string, n wire.Network) harness.Outcome {
		start := time.Now()
		params := &chaincfg.RegressionNetParams
		switch n {
		case wire.Mainnet:
			params = &chaincfg.MainNetParams
		case wire.Testnet3:
			params = &chaincfg.TestNet3Params
		case wire.Signet:
			params = &chaincfg.SigNetParams
		}
		verack := make(chan struct{}, 1)
		p, err := peer.NewOutboundPeer(&peer.Config{
			UserAgentName:    "harness-btcd",
			UserAgentVersion: "0.26.2",
			ChainParams:      params,
			Services:         services(v2),
			UsingV2Conn:      v2,
			TrickleInterval:  time.Second,
			Listeners: peer.MessageListeners{
				OnVerAck: func(*peer.Peer, *btcwire.MsgVerAck) {
					select {
					case verack <- struct{}{}:
					default:
					}
				},
			},
		}, addr)
		if err != nil {
			return harness.Outcome{Message: err.Error(), Duration: time.Since(start)}
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return harness.Outcome{Message: err.Error(), Duration: time.Since(start)}
		}
		p.AssociateConnection(conn)
		defer func() {
			p.Disconnect()
			p.WaitForDisconnect()
		}()
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-verack:
			return harness.Outcome{Completed: true, Duration: time.Since(start)}
		case <-p.Done():
			select {
			case <-verack: // both ready: the verack came first
				return harness.Outcome{Completed: true, Duration: time.Since(start)}
			default:
			}
			return harness.Outcome{Message: "btcd peer disconnected", Duration: time.Since(start)}
		case <-timer.C:
			return harness.Outcome{Message: "no verack within the timeout", Duration: time.Since(start)}
		case <-ctx.Done():
			return harness.Outcome{Message: ctx.Err().Error(), Duration: time.Since(start)}
		}
	})
}

func services(v2 bool) btcwire.ServiceFlag {
	if v2 {
		return btcwire.SFNodeP2PV2
	}
	return 0
}
