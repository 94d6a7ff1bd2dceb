package mockpeer

import (
	"math/rand/v2"
	"net/netip"

	"github.com/btc-handshake/btc-handshake/wire"
)

// CoreResponder is a faithful Bitcoin Core v30 responder (docs/PROTOCOL.md; NP
// is src/net_processing.cpp):
//
//   - It sends nothing until the other side's version.
//
//   - version: a second one is ignored; below 31800 it disconnects without
//     sending its own; the nonce set with Version is a self connection and
//     disconnects (src/net.cpp CheckIncomingNonce, which checks the nonces
//     of the node's own unfinished outbound connections only: a nonce the
//     mock sent on an inbound connection coming back is not one). Otherwise
//     one write per message (each in a TCP segment of its own, as the
//     recordings of Core v30.0 show): version (70016, services 0xc09, /Satoshi:30.0.0/),
//     wtxidrelay and sendaddrv2 when the common version is ≥ 70016, verack,
//     and the final alert when it is ≤ 70012.
//
//   - A version that does not decode (truncated, user agent over 256) is
//     dropped, so the peer later times out.
//
//   - Messages before version are ignored. Between version and verack only
//     verack, sendheaders, sendcmpct, wtxidrelay, sendaddrv2 and
//     sendtxrcncl are processed (none gets a reply); others are ignored, so
//     a ping gets no pong.
//
//   - verack: the handshake is established; then, one write each: sendcmpct
//     (announce false, version 2) when common ≥ 70014, ping, getheaders
//     when the peer advertises NETWORK or NETWORK_LIMITED, feefilter when
//     common ≥ 70013. A second verack is ignored. When the other side has
//     already closed (its end of stream or reset is waiting behind the
//     verack), nothing is sent: Core's socket thread marks such a peer for
//     disconnection and its message handler skips it (ThreadMessageHandler,
//     src/net.cpp).
//
//   - After the handshake: ping → pong with the same nonce; wtxidrelay or
//     sendaddrv2 disconnect; everything else is ignored.
//
//   - Bad checksum, invalid command bytes, unknown commands: dropped, the
//     connection stays. Wrong magic or a length over 4,000,000: disconnect
//     right after the header.
//
//   - No handshake within the peer timeout (DefaultPeerTimeout, Core's is
//     CorePeerTimeout; Profile.HandshakeTimeout changes it): disconnect.
//
//   - It speaks v2 (BIP324) to an initiator's key, with random garbage, as
//     Core v30's -v2transport=1 does; V2Transport(nil) makes it v1 only.
//
// It reads the first 16 bytes as Core does (v1 detection), and answers a
// verack without its post-verack messages when the other side has already
// closed: on unix that is seen without waiting, with a non-blocking read
// of the socket; elsewhere the mock cannot tell and answers the verack.
func CoreResponder() Profile {
	cfg := &profileConfig{kind: "core", feeRate: CoreFeeRate, version: wire.Version{
		ProtocolVersion: wire.ProtocolVersion,
		Services:        CoreServices,
		UserAgent:       CoreUserAgent,
		Relay:           true,
	}}
	p := newProfile("core-responder")
	p.cfg = cfg
	p.v2 = &V2{RandomGarbage: true}
	p.reactions = map[string]Reaction{
		wire.CmdVersion:     cfg.bind((*profileConfig).coreVersion),
		wire.CmdVerack:      cfg.bind((*profileConfig).coreVerack),
		wire.CmdPing:        corePing,
		wire.CmdWtxidRelay:  coreBeforeVerackOnly,
		wire.CmdSendAddrV2:  coreBeforeVerackOnly,
		wire.CmdSendHeaders: ignore,
		wire.CmdSendCmpct:   ignore,
		wire.CmdSendTxRcncl: ignore,
	}
	p.otherwise = ignore
	p.broken = coreBroken
	p.handshakeTimeout = DefaultPeerTimeout
	// Core writes every message in a TCP segment of its own: PushMessage
	// sends a message at once when the send queue is empty, and the
	// socket thread sends the queue one message at a time (src/net.cpp
	// CConnman::PushMessage, SocketSendData). Every handshake recorded
	// from Core v30.0 shows version, wtxidrelay, sendaddrv2 and verack in
	// four segments, and sendcmpct, ping, feefilter in three. Coalescing
	// is a scenario of its own (Coalesced).
	p.w.mode = writeEach
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
		addrYou = wire.NetAddress{IP: ap.Addr().As16(), Port: ap.Port()}
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
		msgs = append(msgs, wire.Alert{})
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
		msgs = append(msgs, wire.GetHeaders{Locator: [][32]byte{c.Network().GenesisHash()}})
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
