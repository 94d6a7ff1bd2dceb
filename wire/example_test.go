package wire_test

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Decoding a version message from a stream: the Reader checks the magic,
// the command, the size bound and the checksum; Decode turns the payload
// into a message.
func ExampleDecode() {
	// What a peer would send: a version frame on regtest.
	frame := wire.AppendMessage(nil, wire.Regtest, &wire.Version{
		ProtocolVersion: 70016,
		Services:        wire.NodeNetwork,
		UserAgent:       "/Satoshi:30.0.0/",
		StartHeight:     101,
		Relay:           true,
	})

	r := wire.NewReader(bytes.NewReader(frame), wire.Regtest)
	f, err := r.Next()
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := wire.Decode(f.Command(), f.Payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	v := m.(*wire.Version)
	fmt.Println(f.Command(), v.ProtocolVersion, v.UserAgent, v.StartHeight, v.Relay)
	// Output: version 70016 /Satoshi:30.0.0/ 101 true
}

// A frame with another network's magic is refused before its payload is
// read: the peer is on another network.
func ExampleReader_Next() {
	frame := wire.AppendMessage(nil, wire.Mainnet, wire.Verack{})
	_, err := wire.NewReader(bytes.NewReader(frame), wire.Regtest).Next()
	fmt.Println(errors.Is(err, wire.ErrBadMagic))
	// Output: true
}
