package bip324_test

import (
	"fmt"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// A whole v2 handshake and one message, both sides in memory: keys,
// garbage, terminator, the version packet with the garbage as AAD, then a
// ping.
func Example() {
	ik, _ := bip324.NewKey() // initiator
	rk, _ := bip324.NewKey() // responder

	// The responder judges the initiator's first bytes.
	fmt.Println(bip324.Detect(ik.EllSwift[:], wire.Mainnet))

	initiator, _ := bip324.NewCipher(ik, rk.EllSwift, true, wire.Mainnet)
	responder, _ := bip324.NewCipher(rk, ik.EllSwift, false, wire.Mainnet)

	// What the initiator sends after its key: garbage, terminator, version
	// packet (AAD: the garbage), then a ping.
	garbage := []byte("any 0..4095 bytes")
	term := initiator.SendTerminator()
	stream := append(append([]byte{}, garbage...), term[:]...)
	stream, _ = initiator.Encrypt(stream, nil, garbage, false)
	stream, _ = initiator.Encrypt(stream, bip324.AppendContents(nil, "ping", make([]byte, 8)), nil, false)

	// The responder's side.
	g, found, _ := responder.FindTerminator(stream)
	aad := stream[:g]
	stream = stream[g+bip324.TerminatorLen:]
	for range 2 {
		n, err := responder.DecryptLength([bip324.LengthLen]byte(stream))
		if err != nil {
			fmt.Println(err)
			return
		}
		end := n + bip324.Expansion
		contents, ignore, err := responder.Decrypt(stream[bip324.LengthLen:end], aad)
		if err != nil {
			fmt.Println(err)
			return
		}
		stream, aad = stream[end:], nil
		if len(contents) == 0 {
			fmt.Println("version packet, ignore:", ignore)
			continue
		}
		cmd, payload, _ := bip324.ParseContents(contents)
		fmt.Println(cmd, len(payload))
	}
	fmt.Println(found, g, initiator.SessionID() == responder.SessionID())
	// Output:
	// v2
	// version packet, ignore: false
	// ping 8
	// true 17 true
}
