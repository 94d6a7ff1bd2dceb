package mockpeer

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
	"unicode/utf8"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
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
// negotiateInboundProtocol, inHandler; server.go), as docs/PROTOCOL.md records:
//
//   - First message: a version, or else a known command gets a reject
//     ("a version message must precede all others") and a disconnect, an
//     unknown command a silent disconnect.
//
//   - version: trailing bytes, a broken frame or an undecodable payload
//     disconnect; a nonce this server sent is a self connection
//     (disconnect); below 209 a reject (obsolete) then disconnect; 209 and
//     up are accepted. It replies version (70016, services 0x44d,
//     /btcwire:0.5.0/btcd:0.26.2/), sendaddrv2 when the common version is
//     ≥ 70016, verack, each message as two writes (header, then payload).
//
//   - Until verack: sendaddrv2 is noted, unknown commands (sendcmpct,
//     wtxidrelay, ...) are skipped, any other known command (sendheaders,
//     ping, a second version, ...) disconnects.
//
//   - verack: established; btcd then sends nothing, unless the peer claims
//     a start height above ours (getheaders).
//
//   - After the handshake: ping → pong; a second version or verack gets a
//     reject (duplicate) and a disconnect; sendaddrv2 disconnects; unknown
//     and other commands are ignored; a malformed message gets a reject
//     ("malformed") and a disconnect.
//
//   - No handshake within the peer timeout (DefaultPeerTimeout; btcd's is
//     BtcdNegotiateTimeout; Profile.HandshakeTimeout changes it): disconnect.
//
//   - It is v1 only; V2Transport gives it btcd's --v2transport, whose
//     terminator search keeps btcd's defect unless the V2's ScanLimit says
//     otherwise.
//
//   - A header with a wrong magic: btcd first reads (discards) the payload
//     the header declares, then fails; a declared length over 4,000,000 is
//     refused before that (wire.MaxProtocolMessageLength).
//
//   - No reject goes to a peer whose negotiated version is below 70002
//     (wire.RejectVersion): btcd cannot encode one, so a version 208 is
//     dropped without a word.
//
//   - On regtest, a malformed message after the handshake from 127.0.0.1
//     exactly (not 127.0.0.2, not a Docker gateway) is logged and skipped
//     rather than rejected (peer.isAllowedReadError).
//
// Differences left out: a reject after the handshake carries btcd's error
// text only approximately; after an oversized header that btcd skips (the
// 127.0.0.1 case above) btcd parses the payload as the next header, where
// the mock drains the stream; bytes that arrive in the same read as a
// wrong-magic frame that btcd skips are lost to the mock.
func BtcdResponder() Profile {
	cfg := &profileConfig{kind: "btcd", version: wire.Version{
		ProtocolVersion: wire.ProtocolVersion,
		Services:        BtcdServices,
		UserAgent:       BtcdUserAgent,
		Relay:           true,
	}}
	cfg.sentNonces = true // peer.sentNonces: every version's nonce, inbound or outbound
	p := newProfile("btcd-responder")
	p.cfg = cfg
	p.reactions = map[string]Reaction{
		wire.CmdVersion:    cfg.bind((*profileConfig).btcdVersion),
		wire.CmdVerack:     cfg.bind((*profileConfig).btcdVerack),
		wire.CmdPing:       btcdPing,
		wire.CmdSendAddrV2: btcdSendAddrV2,
	}
	p.otherwise = btcdOther
	p.broken = btcdBroken
	p.handshakeTimeout = DefaultPeerTimeout
	p.w.mode = writeSplit
	return p
}

// btcdV2 gives v btcd v2transport's defects (v1.0.1, v1.1.0), unless v
// sets them otherwise: its terminator scan stops one byte short; it tells
// a wrong-network v1 header after its key; it takes any declared packet
// length (up to 2^24-1).
func btcdV2(v *V2) {
	if v.ScanLimit == 0 {
		v.ScanLimit = btcdScanLimit
	}
	v.LateV1Check = true
	if v.MaxContents == 0 {
		v.MaxContents = btcdMaxContents
	}
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

// btcdRejectVersion is wire.RejectVersion: MsgReject.BtcEncode fails for a
// lower protocol version, and btcd ignores that error, so such a peer gets
// no reject at all.
const btcdRejectVersion int32 = 70002

// btcdReject is the reject btcd manages to send to a peer whose negotiated
// protocol version is pver (0 before the version, when btcd encodes at its
// own, maximum, version).
func btcdReject(pver int32, command string, code byte, reason string) []wire.Message {
	if pver != 0 && pver < btcdRejectVersion {
		return nil
	}
	return []wire.Message{wire.Reject{Message: command, Code: code, Reason: reason}}
}

// btcdNotVersion is readRemoteVersionMsg's answer to another first message.
func btcdNotVersion() ([]wire.Message, error) {
	return btcdReject(0, wire.CmdVersion, wire.RejectMalformed, "a version message must precede all others"), ErrDisconnect
}

func btcdMalformed(c *Conn, err error) ([]wire.Message, error) {
	st := c.State()
	if phaseOf(st) != btcdEstablished {
		return nil, ErrDisconnect
	}
	if btcdAllowedReadError(c, err) {
		return nil, nil // logged as "Allowed test error", the read loop goes on
	}
	reason := fmt.Sprintf("Can't read message from %s (inbound): %v", c.RemoteAddr(), err)
	return btcdReject(st.Common, "malformed", wire.RejectMalformed, reason), ErrDisconnect
}

// btcdAllowedReadError is peer.isAllowedReadError: on regtest, a
// wire.MessageError from a peer whose address is exactly 127.0.0.1 does not
// end the connection. Every error of the mock's reader and of
// btcdExtraBytes is a MessageError in btcd, except a payload too short for
// its message (io.ErrUnexpectedEOF there).
func btcdAllowedReadError(c *Conn, err error) bool {
	if c.Network() != wire.Regtest || errors.Is(err, wire.ErrTruncated) {
		return false
	}
	ap, ok := c.remoteAddrPort()
	return ok && ap.Addr().Unmap() == netip.AddrFrom4([4]byte{127, 0, 0, 1})
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
		return btcdReject(st.Common, wire.CmdVersion, wire.RejectDuplicate, "duplicate version message"), ErrDisconnect
	}
	if err := btcdExtraBytes(in); err != nil {
		return nil, ErrDisconnect
	}
	v := in.Version()
	if cfg.isSelf(c, v.Nonce) {
		return nil, ErrDisconnect // "disconnecting peer connected to self"
	}
	if v.ProtocolVersion < BtcdMinProtocolVersion {
		// The negotiated version is already the peer's, too low for a reject.
		return btcdReject(min(v.ProtocolVersion, cfg.version.ProtocolVersion), wire.CmdVersion, wire.RejectObsolete,
			fmt.Sprintf("protocol version must be %d or greater", BtcdMinProtocolVersion)), ErrDisconnect
	}
	// localVersionMsg: addr_recv is the peer's address, addr_from only our services.
	var theirs wire.NetAddress
	if ap, ok := c.remoteAddrPort(); ok {
		theirs = wire.NetAddress{IP: ap.Addr().As16(), Port: ap.Port()}
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
		return btcdReject(st.Common, wire.CmdVerack, wire.RejectDuplicate, "duplicate verack message"), ErrDisconnect
	}
	if err := btcdExtraBytes(in); err != nil {
		return nil, ErrDisconnect
	}
	st.VerackReceived, st.Established = true, true
	if st.PeerVersion.StartHeight > st.OurVersion.StartHeight {
		return []wire.Message{wire.GetHeaders{Locator: [][32]byte{c.Network().GenesisHash()}}}, nil // the sync manager starts syncing from it
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
// printable ASCII are merely unknown to btcd. A wrong magic makes btcd read
// the declared payload first (readMessageWithEncodingNInternal checks the
// length, then the magic, then discards the payload and fails).
func btcdBroken(c *Conn, in Incoming) ([]wire.Message, error) {
	switch {
	case !in.Fatal && in.Message == nil && errors.Is(in.Err, wire.ErrBadCommand) && utf8.ValidString(in.Command):
		return btcdOther(c, in)
	case errors.Is(in.Err, bip324.ErrUnknownShortID):
		// wire.ReadV2MessageN: an unassigned id is no command,
		// wire.ErrUnknownMessage, which inHandler skips.
		return btcdOther(c, in)
	case errors.Is(in.Err, wire.ErrBadMagic) && in.Declared <= wire.MaxPayload:
		if err := btcdDiscard(c, in.Declared); err != nil {
			return nil, ErrDisconnect // the peer left, or the negotiate timeout passed
		}
		if phaseOf(c.State()) == btcdEstablished && btcdAllowedReadError(c, in.Err) {
			// The stream is back in sync for btcd: read on.
			c.fatal = nil
			c.r = wire.NewReaderSize(c.nc, c.Network(), readerSize, 0)
			return nil, nil
		}
	}
	return btcdMalformed(c, in.Err)
}

// btcdDiscard reads and drops the declared payload of a frame whose
// 24-byte header the reader has buffered, before the negotiate timeout
// while the handshake is not complete.
func btcdDiscard(c *Conn, declared uint32) error {
	need := int64(wire.HeaderSize) + int64(declared) - int64(c.r.Buffered())
	if need <= 0 {
		return nil
	}
	var deadline time.Time
	if phaseOf(c.State()) != btcdEstablished && c.prof != nil && c.prof.handshakeTimeout > 0 {
		deadline = c.start.Add(c.prof.handshakeTimeout)
	}
	if err := c.setReadDeadline(deadline); err != nil {
		return err
	}
	_, err := io.CopyN(io.Discard, c.nc, need)
	return err
}
