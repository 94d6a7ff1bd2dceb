package mockpeer

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Timeouts of the real implementations, and the short default our profiles
// use so that tests stay fast.
const (
	// CorePeerTimeout is Bitcoin Core's -peertimeout default (src/net.h
	// DEFAULT_PEER_CONNECT_TIMEOUT).
	CorePeerTimeout = 60 * time.Second
	// BtcdNegotiateTimeout is btcd's negotiateTimeout (peer/peer.go).
	BtcdNegotiateTimeout = 30 * time.Second
	// DefaultPeerTimeout is the handshake timeout of CoreResponder and
	// BtcdResponder unless WithPeerTimeout says otherwise.
	DefaultPeerTimeout = 2 * time.Second
)

// What Bitcoin Core v30 announces (src/clientversion.cpp, src/init.cpp).
const (
	CoreUserAgent = "/Satoshi:30.0.0/"
	// CoreServices is NETWORK|WITNESS|NETWORK_LIMITED|P2P_V2 (0xc09).
	CoreServices = wire.NodeNetwork | wire.NodeWitness | wire.NodeNetworkLimited | wire.NodeP2PV2
	// CoreFeeRate is the feefilter CoreResponder sends by default, in
	// sat/kvB: v30's minimum relay fee. A real node still in initial block
	// download sends a much larger, rounded MAX_MONEY instead.
	CoreFeeRate = 100
	// cmpctBlocksVersion is CMPCTBLOCKS_VERSION (src/blockencodings.h).
	cmpctBlocksVersion = 2
)

// ProfileOption configures CoreResponder and BtcdResponder.
type ProfileOption func(*profileConfig)

type profileConfig struct {
	version wire.Version // template of the version we send
	timeout time.Duration
	idle    time.Duration
	feeRate int64
	// sentNonces: every nonce the server sends is remembered and a version
	// carrying one is a self connection (btcd's sentNonces). Core checks
	// only its own unfinished outbound connections (WithNonce).
	sentNonces bool
	// v2 is the v2 transport (nil: v1 only); v2Set says WithV2Transport
	// chose it, not the profile's default.
	v2    *V2
	v2Set bool
}

func newProfileConfig(v wire.Version, opts []ProfileOption) profileConfig {
	cfg := profileConfig{version: v, timeout: DefaultPeerTimeout, feeRate: CoreFeeRate}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// WithPeerTimeout sets the handshake timeout: the profile disconnects a
// peer that has not completed the handshake d after connecting (0: never).
// Real values: CorePeerTimeout, BtcdNegotiateTimeout.
func WithPeerTimeout(d time.Duration) ProfileOption { return func(c *profileConfig) { c.timeout = d } }

// WithIdleTimeout disconnects an established peer silent for d (default:
// never; Core's is 20 minutes, btcd's 5).
func WithIdleTimeout(d time.Duration) ProfileOption { return func(c *profileConfig) { c.idle = d } }

// WithOurVersion edits the version the profile sends (protocol version,
// services, user agent, start height, relay, nonce, optional groups...).
// A zero nonce or timestamp is filled in per connection.
func WithOurVersion(edit func(v *wire.Version)) ProfileOption {
	return func(c *profileConfig) { edit(&c.version) }
}

// WithProtocolVersion sets the protocol version the profile announces; the
// profile then behaves as an implementation at that version would (for
// Core at 70012: no wtxidrelay/sendaddrv2, no sendcmpct, no feefilter, an alert).
func WithProtocolVersion(v int32) ProfileOption {
	return func(c *profileConfig) { c.version.ProtocolVersion = v }
}

// WithServices sets the service bits the profile announces.
func WithServices(s uint64) ProfileOption { return func(c *profileConfig) { c.version.Services = s } }

// WithUserAgent sets the user agent the profile announces.
func WithUserAgent(ua string) ProfileOption {
	return func(c *profileConfig) { c.version.UserAgent = ua }
}

// WithStartHeight sets the start height the profile announces.
func WithStartHeight(h int32) ProfileOption {
	return func(c *profileConfig) { c.version.StartHeight = h }
}

// WithNonce fixes the nonce of the profile's version (default: random per
// connection), so a test can echo it back: both profiles take a version
// carrying it for a self connection (for the Core profile it stands for
// the nonce of one of the node's own outbound connections still in its
// handshake, the only nonces Core checks).
func WithNonce(n uint64) ProfileOption { return func(c *profileConfig) { c.version.Nonce = n } }

// WithV2Transport makes the profile a v2-capable responder speaking BIP324
// as v says (nil: v1 only), with NODE_P2P_V2 in its services exactly when
// v2 is on. A v2-capable profile reads the first 16 bytes of a connection
// as Core does: a v1 version header gets the v1 profile, another network's
// v1 header a disconnect, anything else the v2 handshake and then the
// same profile over encrypted packets. CoreResponder is v2-capable by
// default (Core v30: -v2transport=1, with random garbage);
// WithV2Transport(nil) is -v2transport=0. BtcdResponder is v1 only by
// default; with v2 (btcd's --v2transport) its terminator search keeps
// btcd's defect unless v.ScanLimit says otherwise.
func WithV2Transport(v *V2) ProfileOption {
	return func(c *profileConfig) {
		c.v2, c.v2Set = nil, true
		if v != nil {
			cp := *v
			c.v2 = &cp
		}
	}
}

// applyV2 sets the profile's transport and the P2P_V2 service bit.
func (cfg *profileConfig) applyV2(p *Profile, def *V2) {
	if !cfg.v2Set {
		cfg.v2 = def
	} else if cfg.v2 != nil {
		cfg.version.Services |= wire.NodeP2PV2
	} else {
		cfg.version.Services &^= wire.NodeP2PV2
	}
	p.v2 = cfg.v2
}

// WithFeeRate sets the feefilter CoreResponder sends after verack (sat/kvB).
func WithFeeRate(r int64) ProfileOption { return func(c *profileConfig) { c.feeRate = r } }

// ourVersion completes the template for this connection and, for a
// profile that checks sent nonces, remembers its nonce.
func (cfg *profileConfig) ourVersion(c *Conn, addrRecv wire.NetAddress) *wire.Version {
	v := cfg.version
	// The version answers (or, OnConnect, opens) the exchange: the time
	// of the last read is the time now, give or take a reaction.
	v.Timestamp = c.lastRead.Unix()
	v.AddrRecv = addrRecv
	if v.Nonce == 0 {
		v.Nonce = c.newNonce()
	}
	if cfg.sentNonces {
		c.env.nonces.add(v.Nonce)
	}
	return &v
}

// isSelf reports a nonce this profile uses (WithNonce) or, for a profile
// that checks sent nonces, one this server sent in a version recently.
func (cfg *profileConfig) isSelf(c *Conn, nonce uint64) bool {
	return (cfg.version.Nonce != 0 && nonce == cfg.version.Nonce) || (cfg.sentNonces && c.env.nonces.has(nonce))
}

// CoreResponder is a faithful Bitcoin Core v30 responder (docs/PROTOCOL.md; NP
// is src/net_processing.cpp):
//
//   - It sends nothing until the other side's version.
//   - version: a second one is ignored; below 31800 it disconnects without
//     sending its own; the nonce set by WithNonce is a self connection and
//     disconnects (src/net.cpp CheckIncomingNonce, which checks the nonces
//     of the node's own unfinished outbound connections only: a nonce the
//     mock sent on an inbound connection coming back is not one). Otherwise
//     one write per message (each in a TCP segment of its own, as the
//     recordings of Core v30.0 show): version (70016, services 0xc09, /Satoshi:30.0.0/),
//     wtxidrelay and sendaddrv2 when the common version is ≥ 70016, verack,
//     and the final alert when it is ≤ 70012.
//   - A version that does not decode (truncated, user agent over 256) is
//     dropped, so the peer later times out.
//   - Messages before version are ignored. Between version and verack only
//     verack, sendheaders, sendcmpct, wtxidrelay, sendaddrv2 and
//     sendtxrcncl are processed (none gets a reply); others are ignored, so
//     a ping gets no pong.
//   - verack: the handshake is established; then, one write each: sendcmpct
//     (announce false, version 2) when common ≥ 70014, ping, getheaders
//     when the peer advertises NETWORK or NETWORK_LIMITED, feefilter when
//     common ≥ 70013. A second verack is ignored. When the other side has
//     already closed (its end of stream or reset is waiting behind the
//     verack), nothing is sent: Core's socket thread marks such a peer for
//     disconnection and its message handler skips it (ThreadMessageHandler,
//     src/net.cpp).
//   - After the handshake: ping → pong with the same nonce; wtxidrelay or
//     sendaddrv2 disconnect; everything else is ignored.
//   - Bad checksum, invalid command bytes, unknown commands: dropped, the
//     connection stays. Wrong magic or a length over 4,000,000: disconnect
//     right after the header.
//   - No handshake within the peer timeout (DefaultPeerTimeout, Core's is
//     CorePeerTimeout): disconnect.
func CoreResponder(opts ...ProfileOption) Profile {
	cfg := newProfileConfig(wire.Version{
		ProtocolVersion: wire.ProtocolVersion,
		Services:        CoreServices,
		UserAgent:       CoreUserAgent,
		Relay:           true,
	}, opts)
	p := NewProfile("core-responder")
	cfg.applyV2(&p, &V2{RandomGarbage: true})
	if cfg.version.AddrFrom.IsZero() {
		cfg.version.AddrFrom = wire.NetAddress{Services: cfg.version.Services}
	}
	p.reactions = map[string]Reaction{
		wire.CmdVersion:     cfg.coreVersion,
		wire.CmdVerack:      cfg.coreVerack,
		wire.CmdPing:        corePing,
		wire.CmdWtxidRelay:  coreBeforeVerackOnly,
		wire.CmdSendAddrV2:  coreBeforeVerackOnly,
		wire.CmdSendHeaders: Ignore(),
		wire.CmdSendCmpct:   Ignore(),
		wire.CmdSendTxRcncl: Ignore(),
	}
	p.otherwise = Ignore()
	p.broken = coreBroken
	p.handshakeTimeout = cfg.timeout
	p.idleTimeout = cfg.idle
	// Core writes every message in a TCP segment of its own: PushMessage
	// sends a message at once when the send queue is empty, and the
	// socket thread sends the queue one message at a time (src/net.cpp
	// CConnman::PushMessage, SocketSendData). Every handshake recorded
	// from Core v30.0 shows version, wtxidrelay, sendaddrv2 and verack in
	// four segments, and sendcmpct, ping, feefilter in three. Coalescing
	// is a scenario of its own (Writes(WriteCoalesced)).
	p.writeMode = WriteEach
	return p
}

func (cfg *profileConfig) coreVersion(c *Conn, in Incoming) ([]wire.Message, error) {
	st := c.State()
	if st.PeerVersion != nil {
		return nil, nil // NP: "redundant version message"
	}
	v := in.Version()
	if v.ProtocolVersion < wire.MinPeerProtoVersion {
		return nil, ErrDisconnect // NP: "peer using obsolete version"
	}
	if cfg.isSelf(c, v.Nonce) {
		return nil, ErrDisconnect // "connected to self", src/net.cpp CheckIncomingNonce
	}
	// PushNodeVersion: addr_you only when routable, services NONE for an
	// inbound peer; addr_me carries our services and no address.
	var addrYou wire.NetAddress
	if ap, ok := c.remoteAddrPort(); ok && routable(ap.Addr()) {
		addrYou = wire.NewNetAddress(ap, 0)
	}
	ours := cfg.ourVersion(c, addrYou)
	st.PeerVersion, st.OurVersion = v, ours
	st.Common = min(v.ProtocolVersion, ours.ProtocolVersion)
	msgs := append(c.replies[:0], ours) // the longest reply: version, wtxidrelay, sendaddrv2, verack (+ alert)
	if st.Common >= wire.WtxidRelayVersion {
		msgs = append(msgs, wire.WtxidRelay{}, wire.SendAddrV2{})
	}
	msgs = append(msgs, wire.Verack{})
	if st.Common <= wire.SendHeadersVersion {
		msgs = append(msgs, FinalAlert())
	}
	return msgs, nil
}

func (cfg *profileConfig) coreVerack(c *Conn, _ Incoming) ([]wire.Message, error) {
	st := c.State()
	if st.PeerVersion == nil || st.VerackReceived {
		return nil, nil // before version, or redundant
	}
	st.VerackReceived, st.Established = true, true
	if c.peerLeft() {
		// The other side closed right after its verack (a client that
		// only handshakes): Core's socket thread has seen the close and
		// its message handler skips the peer (ThreadMessageHandler,
		// src/net.cpp), so the post-verack messages never go out.
		return nil, nil
	}
	msgs := c.replies[:0]
	if st.Common >= wire.ShortIDsBlocksVersion {
		msgs = append(msgs, wire.SendCmpct{Announce: false, Version: cmpctBlocksVersion})
	}
	// SendMessages: MaybeSendPing (the first ping goes out at once),
	// then headers sync, then MaybeSendFeefilter.
	if st.Common > wire.BIP31Version {
		msgs = append(msgs, wire.Ping{Nonce: nonZero()})
	} else {
		msgs = append(msgs, wire.Ping{NoNonce: true})
	}
	if st.PeerVersion.Services&(wire.NodeNetwork|wire.NodeNetworkLimited) != 0 {
		msgs = append(msgs, GetHeaders(c.Network()))
	}
	if st.Common >= wire.FeeFilterVersion {
		msgs = append(msgs, wire.FeeFilter{FeeRate: cfg.feeRate})
	}
	return msgs, nil
}

func corePing(c *Conn, in Incoming) ([]wire.Message, error) {
	st := c.State()
	p, _ := in.Message.(wire.Ping)
	if !st.Established || p.NoNonce || st.Common <= wire.BIP31Version {
		return nil, nil
	}
	return []wire.Message{wire.Pong{Nonce: p.Nonce}}, nil
}

// coreBeforeVerackOnly: wtxidrelay and sendaddrv2 are accepted between
// version and verack, and disconnect after it (NP).
func coreBeforeVerackOnly(c *Conn, _ Incoming) ([]wire.Message, error) {
	if c.State().Established {
		return nil, ErrDisconnect
	}
	return nil, nil
}

// coreBroken: V1Transport drops a message with a bad checksum or command
// and keeps the connection; a wrong magic or oversized length disconnects
// right after the header (src/net.cpp).
func coreBroken(_ *Conn, in Incoming) ([]wire.Message, error) {
	if in.Fatal {
		return nil, ErrDisconnect
	}
	return nil, nil
}

func nonZero() uint64 {
	for {
		if n := rand.Uint64(); n != 0 {
			return n
		}
	}
}

// routable approximates CNetAddr::IsRoutable for the addresses a mock sees.
func routable(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsUnspecified() &&
		!a.IsLinkLocalUnicast() && !a.IsMulticast()
}
