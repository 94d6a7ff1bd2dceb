// Package bip324 is btc-handshake's codec for the BIP324 v2 encrypted
// transport: the key exchange, the cipher suite, packet encryption and
// decryption, the contents of a packet (message type and payload), the
// garbage terminator search and a responder's detection of a v1 peer.
//
// It does no I/O: a client or mock peer reads and writes the bytes, and the
// package tells it what they mean and how many more to read. Every limit is
// checked before memory is committed: a packet's declared length is judged
// from its 3-byte length field alone (DecryptLength), and the garbage
// terminator is never looked for past MaxGarbageLen+TerminatorLen bytes.
//
// A connection, after each side has sent its 64-byte ElligatorSwift key and
// 0..MaxGarbageLen bytes of garbage:
//
//	c, err := bip324.NewCipher(ours, theirKey, initiator, wire.Mainnet)
//	// send c.SendTerminator(), then packets made with c.Encrypt; the first
//	// packet carries our garbage as AAD.
//	// read the peer's garbage until c.FindTerminator reports its end; then per packet:
//	n, err := c.DecryptLength([bip324.LengthLen]byte(buf))  // error before any allocation
//	// read n+bip324.Expansion-bip324.LengthLen more bytes into rest
//	contents, ignore, err := c.Decrypt(rest, aad)
//	cmd, payload, err := bip324.ParseContents(contents)
//
// The rules follow BIP324 and Bitcoin Core (src/bip324.cpp, src/net.cpp
// V2Transport). ElligatorSwift and the x-only ECDH come from btcec's
// ellswift package, ChaCha20 and ChaCha20-Poly1305 from golang.org/x/crypto,
// HKDF from the standard library. btcd's v2transport is a test oracle only.
package bip324
