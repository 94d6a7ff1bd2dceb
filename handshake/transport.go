package handshake

import "github.com/btc-handshake/btc-handshake/wire"

// transport is the seam between the handshake's state machine and the
// bytes on the connection: it turns messages into bytes to send and
// received bytes into messages. v1Transport frames them as wire does;
// v2Transport carries them in BIP324 packets. A transport neither sets
// deadlines nor writes: the session sets the deadline before each call
// that may read, and writes output() itself (deadline.go, lastwrite_*.go),
// so the platform write path and the deadline cache serve both.
type transport interface {
	// queue encodes m to go out with the next write and returns its
	// payload size, for the transcript.
	queue(m wire.Message) int
	// output is what the next write sends; written says it was sent.
	output() []byte
	written()
	// next reads the next message from the connection.
	next() (message, error)
	// ready reports whether next can return without reading from the
	// connection.
	ready() bool
	// buffered is how many received bytes wait to be parsed.
	buffered() int
	// verackBuffered reports whether a verack is buffered and reading up
	// to it cannot fail (see session.onVersion).
	verackBuffered() bool
}

// message is one message received by a transport. Payload aliases the
// transport's buffer and is valid until the next call to next.
type message struct {
	cmd     string
	payload []byte
	// size is what the message took on the wire (with any decoy packets
	// skipped before it): the coalescing check compares it with buffered.
	size int
	// fresh says next read from the connection to get it; otherwise it
	// arrived with the last read.
	fresh bool
	// dropped is a broken message that Core drops while keeping the
	// connection, with the quirk it counts as; cmd may be empty.
	dropped error
	quirk   Quirk
}
