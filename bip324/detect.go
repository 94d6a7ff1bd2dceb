package bip324

import (
	"bytes"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Detection is a responder's verdict on the first bytes an initiator sent.
type Detection int

const (
	// Undecided: the bytes so far are a prefix of a v1 version header; read more.
	Undecided Detection = iota
	// V1: the first 16 bytes are the magic followed by "version" NUL-padded;
	// continue with the v1 transport on the same connection.
	V1
	// V2: the bytes differ from a v1 version header; they start a v2 key.
	V2
	// V1OtherNetwork: bytes 4..15 are the v1 "version" command but the
	// magic is another network's. Core disconnects ("V1 peer with wrong
	// MessageStart"). Only reported once 16 bytes are available; before
	// that such bytes are V2 (Core has already answered with its key then).
	V1OtherNetwork
)

// v1Command is bytes 4..15 of a v1 version header.
var v1Command = wire.CommandBytes(wire.CmdVersion)

// DetectSize is how many bytes Detect needs to reach any verdict.
const DetectSize = 4 + wire.CommandSize

// Detect judges the first bytes received by a responder on network net, as
// Core does (V2Transport::ProcessReceivedMaybeV1Bytes and, for
// V1OtherNetwork, ProcessReceivedKeyBytes). Only the first DetectSize bytes
// of b are read.
func Detect(b []byte, net wire.Network) Detection {
	if len(b) > DetectSize {
		b = b[:DetectSize]
	}
	var prefix [DetectSize]byte
	magic := net.Magic()
	copy(prefix[:4], magic[:])
	copy(prefix[4:], v1Command[:])
	if bytes.Equal(b, prefix[:len(b)]) {
		if len(b) == DetectSize {
			return V1
		}
		return Undecided
	}
	if len(b) == DetectSize && bytes.Equal(b[4:], v1Command[:]) {
		return V1OtherNetwork
	}
	return V2
}

// String names the verdict.
func (d Detection) String() string {
	switch d {
	case Undecided:
		return "undecided"
	case V1:
		return "v1"
	case V2:
		return "v2"
	case V1OtherNetwork:
		return "v1-other-network"
	}
	return "detection(?)"
}
