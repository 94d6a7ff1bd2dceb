package mockpeer

import (
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// What the real implementations announce and how long they wait, which
// CoreResponder (Bitcoin Core v30: src/clientversion.cpp, src/init.cpp,
// src/net.h) and BtcdResponder (btcd v0.26.2: server.go defaultServices
// without P2P_V2, which needs --v2transport; peer/peer.go; version.go)
// imitate, and the short handshake timeout they use so that tests stay
// fast.
const (
	CoreUserAgent = "/Satoshi:30.0.0/"
	// CoreServices is NETWORK|WITNESS|NETWORK_LIMITED|P2P_V2 (0xc09).
	CoreServices = wire.NodeNetwork | wire.NodeWitness | wire.NodeNetworkLimited | wire.NodeP2PV2
	// CoreFeeRate is the feefilter CoreResponder sends by default, in
	// sat/kvB: v30's minimum relay fee. A real node still in initial block
	// download sends a much larger, rounded MAX_MONEY instead.
	CoreFeeRate = 100
	// CorePeerTimeout is Bitcoin Core's -peertimeout default (src/net.h
	// DEFAULT_PEER_CONNECT_TIMEOUT).
	CorePeerTimeout = 60 * time.Second

	BtcdUserAgent = "/btcwire:0.5.0/btcd:0.26.2/"
	// BtcdServices is NETWORK|BLOOM|WITNESS|COMPACT_FILTERS|NETWORK_LIMITED (0x44d).
	BtcdServices = wire.NodeNetwork | wire.NodeBloom | wire.NodeWitness | wire.NodeCompactFilters | wire.NodeNetworkLimited
	// BtcdMinProtocolVersion is peer.MinAcceptableProtocolVersion
	// (wire.MultipleAddressVersion).
	BtcdMinProtocolVersion int32 = 209
	// BtcdNegotiateTimeout is btcd's negotiateTimeout (peer/peer.go).
	BtcdNegotiateTimeout = 30 * time.Second

	// DefaultPeerTimeout is the handshake timeout of CoreResponder and
	// BtcdResponder unless Profile.HandshakeTimeout says otherwise.
	DefaultPeerTimeout = 2 * time.Second
)

// cmpctBlocksVersion is CMPCTBLOCKS_VERSION (src/blockencodings.h).
const cmpctBlocksVersion = 2

// profileConfig is what CoreResponder's and BtcdResponder's reactions read:
// the version they send and what else Profile's methods change.
type profileConfig struct {
	kind    string       // "core" or "btcd": whose reactions read it
	version wire.Version // template of the version we send
	feeRate int64
	// sentNonces: every nonce the server sends is remembered and a version
	// carrying one is a self connection (btcd's sentNonces). Core checks
	// only its own unfinished outbound connections (a fixed nonce).
	sentNonces bool
}

// bind makes fn a reaction that reads the configuration of the responder
// playing on the connection, a changed copy of cfg when that responder is
// of cfg's kind (the reaction was not moved to another kind of profile).
func (cfg *profileConfig) bind(fn func(cfg *profileConfig, c *Conn, in Incoming) ([]wire.Message, error)) Reaction {
	return func(c *Conn, in Incoming) ([]wire.Message, error) {
		use := cfg
		if p := c.prof; p != nil && p.cfg != nil && p.cfg.kind == cfg.kind {
			use = p.cfg
		}
		return fn(use, c, in)
	}
}

// Version returns the profile sending a version edited by edit (protocol
// version, services, user agent, start height, relay, nonce, optional
// groups...): CoreResponder and BtcdResponder then behave as their
// implementation at that version would (Core at 70012: no wtxidrelay or
// sendaddrv2, no sendcmpct, no feefilter, an alert). A zero timestamp is
// filled in per connection, and a zero nonce is random per connection; a
// nonce set here is a self connection when the other side echoes it (for
// Core it stands for the nonce of one of the node's own outbound
// connections still in its handshake, the only nonces Core checks).
// Profiles built with newProfile send no version of their own: it changes
// nothing there.
func (p Profile) Version(edit func(v *wire.Version)) Profile {
	if p.cfg != nil {
		cfg := *p.cfg
		edit(&cfg.version)
		p.cfg = &cfg
	}
	return p
}

// FeeRate returns the profile sending a feefilter of r sat/kvB after
// verack (CoreResponder; default CoreFeeRate).
func (p Profile) FeeRate(r int64) Profile {
	if p.cfg != nil {
		cfg := *p.cfg
		cfg.feeRate = r
		p.cfg = &cfg
	}
	return p
}

// V2Transport returns the profile as a v2-capable responder speaking
// BIP324 as v says (nil: v1 only), with NODE_P2P_V2 in the services of its
// version exactly when v2 is on. A v2-capable profile reads the first 16
// bytes of a connection as Core does: a v1 version header gets the v1
// profile, another network's v1 header a disconnect, anything else the v2
// handshake and then the same profile over encrypted packets.
// CoreResponder is v2-capable by default (Core v30: -v2transport=1, with
// random garbage); V2Transport(nil) is -v2transport=0. BtcdResponder is v1
// only by default; with v2 (btcd's --v2transport) its terminator search
// keeps btcd's defect unless v.ScanLimit says otherwise.
func (p Profile) V2Transport(v *V2) Profile {
	p.v2 = nil
	if v != nil {
		cp := *v
		p.v2 = &cp
	}
	if p.cfg == nil {
		return p
	}
	cfg := *p.cfg
	if p.v2 != nil {
		cfg.version.Services |= wire.NodeP2PV2
		if cfg.kind == "btcd" {
			btcdV2(p.v2)
		}
	} else {
		cfg.version.Services &^= wire.NodeP2PV2
	}
	p.cfg = &cfg
	return p
}

// ourVersion completes the template for this connection and, for a
// profile that checks sent nonces, remembers its nonce.
func (cfg *profileConfig) ourVersion(c *Conn, addrRecv wire.NetAddress) *wire.Version {
	v := cfg.version
	// The version answers (or, OnConnect, opens) the exchange: the time
	// of the last read is the time now, give or take a reaction.
	v.Timestamp = c.lastRead.Unix()
	v.AddrRecv = addrRecv
	if v.AddrFrom.IsZero() {
		v.AddrFrom = wire.NetAddress{Services: v.Services}
	}
	if v.Nonce == 0 {
		v.Nonce = c.newNonce()
	}
	if cfg.sentNonces {
		c.env.nonces.add(v.Nonce)
	}
	return &v
}

// isSelf reports a nonce this profile uses (set with Version) or, for a
// profile that checks sent nonces, one this server sent in a version
// recently.
func (cfg *profileConfig) isSelf(c *Conn, nonce uint64) bool {
	return (cfg.version.Nonce != 0 && nonce == cfg.version.Nonce) || (cfg.sentNonces && c.env.nonces.has(nonce))
}
