// Package handshake is the btc-handshake client: it performs the Bitcoin
// P2P version/verack handshake with a peer, over v1 or BIP324's v2
// transport, and reports what the peer did.
//
// Dial connects, handshakes and closes; Run handshakes on a connection you
// already have and hands it back as a Conn that reads and writes messages
// on from where the handshake stopped; Survey handshakes with many peers at
// once, and Seed.Resolve turns a DNS seed into their addresses. Each gives
// a Result, whose Report is its JSON form.
//
// It is tolerant where Bitcoin Core is tolerant (messages before verack,
// duplicates, unknown commands, verack before version) and records each
// such behaviour as a named Quirk; it is strict where it must be (a closed
// connection is never a success, wrong magic and oversized frames end the
// handshake, a version below the minimum is refused, our own nonce coming
// back is a self-connection). Every read has a deadline derived from the
// per-phase timeouts and the context. A failure's error names the peer
// and the Phase, and carries its Kind, a stable name usable with
// errors.Is.
package handshake
