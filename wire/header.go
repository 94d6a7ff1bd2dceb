package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Sizes and limits of the v1 transport (src/protocol.h, src/net.h).
const (
	HeaderSize      = 24
	CommandSize     = 12
	MaxPayload      = 4_000_000 // MAX_PROTOCOL_MESSAGE_LENGTH
	MaxUserAgentLen = 256       // MAX_SUBVERSION_LENGTH
)

// emptyChecksum is the checksum of an empty payload.
var emptyChecksum = [4]byte{0x5d, 0xf6, 0xe0, 0xe2}

// Checksum returns the first four bytes of SHA256(SHA256(payload)).
func Checksum(payload []byte) [4]byte {
	if len(payload) == 0 {
		return emptyChecksum
	}
	first := sha256.Sum256(payload)
	second := sha256.Sum256(first[:])
	return [4]byte(second[:4])
}

// Header is the 24-byte v1 message header.
type Header struct {
	Magic    [4]byte
	Command  [CommandSize]byte
	Length   uint32
	Checksum [4]byte
}

// ParseHeader decodes a header from b and checks the magic against net and
// the declared length against max (0 means MaxPayload). It does not check
// the command bytes (see Header.ValidCommand) nor the checksum (it needs the
// payload). Both failures it reports are fatal for the stream.
func ParseHeader(b []byte, net Network, max uint32) (Header, error) {
	var h Header
	if len(b) < HeaderSize {
		return h, &FrameError{Err: ErrShortHeader, Detail: fmt.Sprintf("%d bytes", len(b))}
	}
	copy(h.Magic[:], b[0:4])
	copy(h.Command[:], b[4:16])
	h.Length = binary.LittleEndian.Uint32(b[16:20])
	copy(h.Checksum[:], b[20:24])
	// Error details take h's arrays by value: slicing them would move h to
	// the heap on every call.
	if binary.LittleEndian.Uint32(h.Magic[:]) != uint32(net) {
		return h, &FrameError{Err: ErrBadMagic, Detail: fmt.Sprintf("got %x, want %x (%s)", h.Magic, net.Magic(), net)}
	}
	if max == 0 || max > MaxPayload {
		max = MaxPayload
	}
	if h.Length > max {
		return h, &FrameError{Err: ErrPayloadTooLarge, Command: h.CommandName(), Detail: fmt.Sprintf("%d > %d", h.Length, max)}
	}
	return h, nil
}

// AppendHeader appends the 24 header bytes to dst.
func (h Header) AppendHeader(dst []byte) []byte {
	dst = append(dst, h.Magic[:]...)
	dst = append(dst, h.Command[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, h.Length)
	return append(dst, h.Checksum[:]...)
}

// ValidCommand reports whether the command bytes are printable ASCII
// (0x20–0x7E) followed only by NULs (CMessageHeader::IsMessageTypeValid,
// src/protocol.cpp), and not empty. Core's check lets an all-NUL command
// through and then drops it as an unknown message; rejecting it here has the
// same outcome for the peer (message dropped, connection kept).
func (h Header) ValidCommand() bool {
	c := h.Command
	i := 0
	for ; i < CommandSize && c[i] != 0; i++ {
		if c[i] < 0x20 || c[i] > 0x7e {
			return false
		}
	}
	if i == 0 {
		return false
	}
	for ; i < CommandSize; i++ {
		if c[i] != 0 {
			return false
		}
	}
	return true
}

// CommandName returns the command as a string, without the NUL padding.
// Known commands return constant strings, so the common path does not allocate.
func (h Header) CommandName() string { return commandName(h.Command) }

func commandName(c [CommandSize]byte) string {
	n := 0
	for n < CommandSize && c[n] != 0 {
		n++
	}
	switch string(c[:n]) {
	case CmdVersion:
		return CmdVersion
	case CmdVerack:
		return CmdVerack
	case CmdPing:
		return CmdPing
	case CmdPong:
		return CmdPong
	case CmdSendHeaders:
		return CmdSendHeaders
	case CmdSendCmpct:
		return CmdSendCmpct
	case CmdWtxidRelay:
		return CmdWtxidRelay
	case CmdSendAddrV2:
		return CmdSendAddrV2
	case CmdSendTxRcncl:
		return CmdSendTxRcncl
	case CmdFeeFilter:
		return CmdFeeFilter
	case CmdGetAddr:
		return CmdGetAddr
	case CmdGetHeaders:
		return CmdGetHeaders
	case CmdAlert:
		return CmdAlert
	case CmdReject:
		return CmdReject
	case CmdInv:
		return CmdInv
	case CmdAddr:
		return CmdAddr
	case CmdAddrV2:
		return CmdAddrV2
	}
	return string(c[:n])
}

// CommandBytes pads cmd with NULs to 12 bytes. Commands longer than 12
// bytes are cut; use Frame to send deliberately invalid command bytes.
func CommandBytes(cmd string) [CommandSize]byte {
	var c [CommandSize]byte
	copy(c[:], cmd)
	return c
}
