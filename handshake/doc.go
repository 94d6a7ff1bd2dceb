// Package handshake is the btc-handshake client: it performs the Bitcoin v1
// version/verack handshake with a peer and reports what the peer did.
//
// It is tolerant where Bitcoin Core is tolerant (messages before verack,
// duplicates, unknown commands, verack before version) and records each
// such behaviour as a named Quirk; it is strict where it must be (a closed
// connection is never a success, wrong magic and oversized frames end the
// handshake, a version below the minimum is refused, our own nonce coming
// back is a self-connection). Every read has a deadline derived from the
// per-phase timeouts and the context. Errors are *Error values whose Kind
// is a stable name usable with errors.Is.
package handshake
