package mockpeer

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/btc-handshake/btc-handshake/wire"
)

// What btcd v0.26.2 announces by default (server.go defaultServices
// without P2P_V2, which needs --v2transport; peer.go; version.go).
const (
	BtcdUserAgent = "/btcwire:0.5.0/btcd:0.26.2/"
	// BtcdServices is NETWORK|BLOOM|WITNESS|COMPACT_FILTERS|NETWORK_LIMITED (0x44d).
	BtcdServices = wire.NodeNetwork | wire.NodeBloom | wire.NodeWitness | wire.NodeCompactFilters | wire.NodeNetworkLimited
	// BtcdMinProtocolVersion is peer.MinAcceptableProtocolVersion
	// (wire.MultipleAddressVersion).
	BtcdMinProtocolVersion int32 = 209
)

// btcdKnown are the commands btcd's wire decodes (wire/message.go
// makeEmptyMessage); anything else is wire.ErrUnknownMessage, which btcd
// skips once the version is in. sendcmpct, wtxidrelay, sendtxrcncl and
// alert are unknown to it.
var btcdKnown = map[string]bool{
	"version": true, "verack": true, "sendaddrv2": true, "getaddr": true, "addr": true,
	"addrv2": true, "getblocks": true, "block": true, "inv": true, "getdata": true,
	"notfound": true, "tx": true, "ping": true, "pong": true, "getheaders": true,
	"headers": true, "mempool": true, "filteradd": true, "filterclear": true,
	"filterload": true, "merkleblock": true, "reject": true, "sendheaders": true,
	"feefilter": true, "getcfilters": true, "getcfheaders": true, "getcfcheckpt": true,
	"cfilter": true, "cfheaders": true, "cfcheckpt": true,
}

// btcdEmpty are known commands whose maximum payload is 0: btcd rejects
// any byte in them (MaxPayloadLength, then "extra bytes after decode").
var btcdEmpty = map[string]bool{
	"verack": true, "sendaddrv2": true, "getaddr": true, "sendheaders": true,
	"mempool": true, "filterclear": true,
}

// BtcdResponder behaves as btcd v0.26.2's inbound peer (peer/peer.go
// negotiateInboundProtocol, inHandler; server.go), as BITCOIN.md records:
//
//   - First message: a version, or else a known command gets a reject
//     ("a version message must precede all others") and a disconnect, an
//     unknown command a silent disconnect.
//   - version: trailing bytes, a broken frame or an undecodable payload
//     disconnect; a nonce this server sent is a self connection
//     (disconnect); below 209 a reject (obsolete) then disconnect; 209 and
//     up are accepted. It replies version (70016, services 0x44d,
//     /btcwire:0.5.0/btcd:0.26.2/), sendaddrv2 when the common version is
//     ≥ 70016, verack, each message as two writes (header, then payload).
//   - Until verack: sendaddrv2 is noted, unknown commands (sendcmpct,
//     wtxidrelay, ...) are skipped, any other known command (sendheaders,
//     ping, a second version, ...) disconnects.
//   - verack: established; btcd then sends nothing, unless the peer claims
//     a start height above ours (getheaders).
//   - After the handshake: ping → pong; a second version or verack gets a
//     reject (duplicate) and a disconnect; sendaddrv2 disconnects; unknown
//     and other commands are ignored; a malformed message gets a reject
//     ("malformed") and a disconnect.
//   - No handshake within the peer timeout (DefaultPeerTimeout; btcd's is
//     BtcdNegotiateTimeout): disconnect.
//
// Differences left out: btcd reads the payload of a frame over 4,000,000
// bytes (up to its 32 MiB limit) before disconnecting, where the mock's
// reader stops at the header; a reject after the handshake carries btcd's
// error text only approximately.
func BtcdResponder(opts ...ProfileOption) Profile {
	cfg := newProfileConfig(wire.Version{
		ProtocolVersion: wire.ProtocolVersion,
		Services:        BtcdServices,
		UserAgent:       BtcdUserAgent,
		Relay:           true,
	}, opts)
	if cfg.version.AddrFrom.IsZero() {
		cfg.version.AddrFrom = wire.NetAddress{Services: cfg.version.Services}
	}
	p := NewProfile("btcd-responder")
	p.reactions = map[string]Reaction{
		wire.CmdVersion:    cfg.btcdVersion,
		wire.CmdVerack:     cfg.btcdVerack,
		wire.CmdPing:       btcdPing,
		wire.CmdSendAddrV2: btcdSendAddrV2,
	}
	p.otherwise = btcdOther
	p.broken = btcdBroken
	p.handshakeTimeout = cfg.timeout
	p.idleTimeout = cfg.idle
	p.writeMode = WriteSplit
	return p
}

// btcdPhase is where btcd's negotiation stands.
type btcdPhase uint8

const (
	btcdAwaitVersion btcdPhase = iota // readRemoteVersionMsg
	btcdNegotiating                   // waitToFinishNegotiation
	btcdEstablished                   // inHandler
)

func phaseOf(st *State) btcdPhase {
	switch {
	case st.Established:
		return btcdEstablished
	case st.PeerVersion != nil:
		return btcdNegotiating
	}
	return btcdAwaitVersion
}

// btcdNotVersion is readRemoteVersionMsg's answer to another first message.
func btcdNotVersion() ([]wire.Message, error) {
	return []wire.Message{Reject(wire.CmdVersion, RejectMalformed, "a version message must precede all others")}, ErrDisconnect
}

func btcdMalformed(c *Conn, err error) ([]wire.Message, error) {
	if phaseOf(c.State()) != btcdEstablished {
		return nil, ErrDisconnect
	}
	reason := fmt.Sprintf("Can't read message from %s (inbound): %v", c.RemoteAddr(), err)
	return []wire.Message{Reject("malformed", RejectMalformed, reason)}, ErrDisconnect
}

// btcdExtraBytes reports a payload btcd's decoder would not consume whole.
func btcdExtraBytes(in Incoming) error {
	n := len(in.Payload)
	switch {
	case btcdEmpty[in.Command] && n > 0:
	case (in.Command == wire.CmdPing || in.Command == wire.CmdPong || in.Command == wire.CmdFeeFilter) && n != 8:
	case in.Command == wire.CmdVersion && in.Version() != nil && in.Version().TrailingBytes > 0:
	default:
		return nil
	}
	return fmt.Errorf("message payload has extra bytes after decode (%s, %d bytes)", in.Command, n)
}

func (cfg *profileConfig) btcdVersion(c *Conn, in Incoming) ([]wire.Message, error) {
	st := c.State()
	switch phaseOf(st) {
	case btcdNegotiating:
		return nil, ErrDisconnect // wire.ErrInvalidHandshake
	case btcdEstablished:
		return []wire.Message{Reject(wire.CmdVersion, RejectDuplicate, "duplicate version message")}, ErrDisconnect
	}
	if err := btcdExtraBytes(in); err != nil {
		return nil, ErrDisconnect
	}
	v := in.Version()
	if cfg.isSelf(c, v.Nonce) {
		return nil, ErrDisconnect // "disconnecting peer connected to self"
	}
	if v.ProtocolVersion < BtcdMinProtocolVersion {
		return []wire.Message{Reject(wire.CmdVersion, RejectObsolete,
			fmt.Sprintf("protocol version must be %d or greater", BtcdMinProtocolVersion))}, ErrDisconnect
	}
	// localVersionMsg: addr_recv is the peer's address, addr_from only our services.
	var theirs wire.NetAddress
	if ap, ok := c.remoteAddrPort(); ok {
		theirs = wire.NewNetAddress(ap, 0)
	}
	ours := cfg.ourVersion(c, theirs)
	st.PeerVersion, st.OurVersion = v, ours
	st.Common = min(v.ProtocolVersion, ours.ProtocolVersion)
	msgs := []wire.Message{ours}
	if st.Common >= wire.WtxidRelayVersion { // wire.AddrV2Version
		msgs = append(msgs, wire.SendAddrV2{})
	}
	return append(msgs, wire.Verack{}), nil
}

func (cfg *profileConfig) btcdVerack(c *Conn, in Incoming) ([]wire.Message, error) {
	st := c.State()
	switch phaseOf(st) {
	case btcdAwaitVersion:
		return btcdNotVersion()
	case btcdEstablished:
		return []wire.Message{Reject(wire.CmdVerack, RejectDuplicate, "duplicate verack message")}, ErrDisconnect
	}
	if err := btcdExtraBytes(in); err != nil {
		return nil, ErrDisconnect
	}
	st.VerackReceived, st.Established = true, true
	if st.PeerVersion.StartHeight > st.OurVersion.StartHeight {
		return []wire.Message{GetHeaders(c.Network())}, nil // the sync manager starts syncing from it
	}
	return nil, nil
}

func btcdPing(c *Conn, in Incoming) ([]wire.Message, error) {
	st := c.State()
	switch phaseOf(st) {
	case btcdAwaitVersion:
		return btcdNotVersion()
	case btcdNegotiating:
		return nil, ErrDisconnect
	}
	if err := btcdExtraBytes(in); err != nil {
		return btcdMalformed(c, err)
	}
	p := in.Message.(wire.Ping)
	if st.Common <= wire.BIP31Version {
		return nil, nil
	}
	return []wire.Message{wire.Pong{Nonce: p.Nonce}}, nil
}

func btcdSendAddrV2(c *Conn, in Incoming) ([]wire.Message, error) {
	switch phaseOf(c.State()) {
	case btcdAwaitVersion:
		return btcdNotVersion()
	case btcdEstablished:
		return nil, ErrDisconnect
	}
	if err := btcdExtraBytes(in); err != nil {
		return nil, ErrDisconnect
	}
	return nil, nil
}

func btcdOther(c *Conn, in Incoming) ([]wire.Message, error) {
	known := btcdKnown[in.Command]
	switch phaseOf(c.State()) {
	case btcdAwaitVersion:
		if known {
			return btcdNotVersion()
		}
		return nil, ErrDisconnect // readMessage: wire.ErrUnknownMessage
	case btcdNegotiating:
		if known {
			return nil, ErrDisconnect // wire.ErrInvalidHandshake
		}
		return nil, nil
	}
	if !known {
		return nil, nil
	}
	if err := btcdExtraBytes(in); err != nil {
		return btcdMalformed(c, err)
	}
	return nil, nil
}

// btcdBroken: every read error ends btcd's negotiation; once established
// it sends a reject first. Command bytes that are valid UTF-8 but not
// printable ASCII are merely unknown to btcd.
func btcdBroken(c *Conn, in Incoming) ([]wire.Message, error) {
	if !in.Fatal && in.Message == nil && errors.Is(in.Err, wire.ErrBadCommand) && utf8.ValidString(in.Command) {
		return btcdOther(c, in)
	}
	return btcdMalformed(c, in.Err)
}
