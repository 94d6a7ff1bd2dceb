package wire

import (
	"encoding/binary"
	"fmt"
)

// Commands of the messages this package knows by name.
const (
	CmdVersion     = "version"
	CmdVerack      = "verack"
	CmdPing        = "ping"
	CmdPong        = "pong"
	CmdSendHeaders = "sendheaders"
	CmdSendCmpct   = "sendcmpct"
	CmdWtxidRelay  = "wtxidrelay"
	CmdSendAddrV2  = "sendaddrv2"
	CmdSendTxRcncl = "sendtxrcncl"
	CmdFeeFilter   = "feefilter"
	CmdGetAddr     = "getaddr"
	CmdGetHeaders  = "getheaders"
	CmdAlert       = "alert"
	CmdReject      = "reject"
	CmdInv         = "inv"
	CmdAddr        = "addr"
	CmdAddrV2      = "addrv2"
)

// Protocol versions that change the handshake (src/node/protocol_version.h).
const (
	ProtocolVersion       int32 = 70016 // PROTOCOL_VERSION
	MinPeerProtoVersion   int32 = 31800 // MIN_PEER_PROTO_VERSION
	BIP31Version          int32 = 60000 // ping/pong carry a nonce above this
	SendHeadersVersion    int32 = 70012
	FeeFilterVersion      int32 = 70013
	ShortIDsBlocksVersion int32 = 70014 // sendcmpct
	WtxidRelayVersion     int32 = 70016 // wtxidrelay, and sendaddrv2 by Core's convention
)

// Service bits (src/protocol.h).
const (
	NodeNetwork        uint64 = 1
	NodeBloom          uint64 = 4
	NodeWitness        uint64 = 8
	NodeCompactFilters uint64 = 64
	NodeNetworkLimited uint64 = 1024
	NodeP2PV2          uint64 = 2048
)

// Message is any message this package can encode.
type Message interface {
	// Command is the message's command string, at most 12 bytes.
	Command() string
	// AppendPayload appends the encoded payload to dst.
	AppendPayload(dst []byte) []byte
}

// AppendMessage appends a complete, valid frame (header and payload) for m
// on network net to dst. It is generic so that small message values are not
// boxed into an interface, keeping the path allocation-free for callers
// that reuse dst.
func AppendMessage[M Message](dst []byte, net Network, m M) []byte {
	start := len(dst)
	dst = append(dst, zeroHeader[:]...)
	dst = m.AppendPayload(dst)
	sealFrame(dst[start:], net, m.Command())
	return dst
}

var zeroHeader [HeaderSize]byte

// sealFrame fills in the header of frame (header space followed by payload).
func sealFrame(frame []byte, net Network, cmd string) {
	payload := frame[HeaderSize:]
	binary.LittleEndian.PutUint32(frame[0:4], uint32(net))
	c := CommandBytes(cmd)
	copy(frame[4:16], c[:])
	binary.LittleEndian.PutUint32(frame[16:20], uint32(len(payload)))
	sum := Checksum(payload)
	copy(frame[20:24], sum[:])
}

// Decode decodes a payload by command. Commands without a typed message
// (including alert) decode to Raw, with the payload copied.
func Decode(cmd string, payload []byte) (Message, error) {
	switch cmd {
	case CmdVersion:
		v := new(Version)
		if err := v.DecodePayload(payload); err != nil {
			return nil, err
		}
		return v, nil
	case CmdVerack:
		return Verack{}, nil
	case CmdSendHeaders:
		return SendHeaders{}, nil
	case CmdWtxidRelay:
		return WtxidRelay{}, nil
	case CmdSendAddrV2:
		return SendAddrV2{}, nil
	case CmdGetAddr:
		return GetAddr{}, nil
	case CmdPing:
		var m Ping
		if err := m.DecodePayload(payload); err != nil {
			return nil, err
		}
		return m, nil
	case CmdPong:
		var m Pong
		if err := m.DecodePayload(payload); err != nil {
			return nil, err
		}
		return m, nil
	case CmdSendCmpct:
		var m SendCmpct
		if err := m.DecodePayload(payload); err != nil {
			return nil, err
		}
		return m, nil
	case CmdSendTxRcncl:
		var m SendTxRcncl
		if err := m.DecodePayload(payload); err != nil {
			return nil, err
		}
		return m, nil
	case CmdFeeFilter:
		var m FeeFilter
		if err := m.DecodePayload(payload); err != nil {
			return nil, err
		}
		return m, nil
	}
	return Raw{Cmd: cmd, Payload: append([]byte(nil), payload...)}, nil
}

func need(b []byte, n int, cmd, field string) error {
	if len(b) < n {
		return payloadErr(ErrTruncated, cmd, fmt.Sprintf("%s needs %d bytes, %d left", field, n, len(b)))
	}
	return nil
}
