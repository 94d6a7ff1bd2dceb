package handshake

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Defaults used when a Config field is zero; each field's comment says
// its default.
const (
	defaultTimeout   = 5 * time.Second
	defaultUserAgent = "/btc-handshake:0.1.0/"
	// defaultMaxTranscript bounds the transcript so that a peer flooding
	// messages cannot make the client grow without limit.
	defaultMaxTranscript = 1000
)

// Config sets up a handshake. The zero value is usable: mainnet, protocol
// 70016, no services, our default user agent, 5 s timeout, minimum peer
// version 31800.
type Config struct {
	// Network selects the magic (default mainnet).
	Network wire.Network
	// ProtocolVersion we announce (default 70016).
	ProtocolVersion int32
	// Services we announce (default 0: we serve nothing).
	Services uint64
	// UserAgent we announce (default "/btc-handshake:0.1.0/").
	UserAgent string
	// StartHeight we announce.
	StartHeight int32
	// NoRelay announces relay=false (BIP37); by default we announce true.
	NoRelay bool
	// Timeout bounds the whole handshake after connecting (default 5 s).
	Timeout time.Duration
	// DialTimeout bounds connecting (default: Timeout).
	DialTimeout time.Duration
	// VersionTimeout and VerackTimeout bound each phase on its own; zero
	// means only Timeout applies.
	VersionTimeout, VerackTimeout time.Duration
	// MinPeerVersion is the lowest protocol version accepted (default 31800,
	// Core's MIN_PEER_PROTO_VERSION).
	MinPeerVersion int32
	// MaxPayload caps frames from the peer (default and maximum 4,000,000).
	MaxPayload uint32
	// Linger keeps reading for this long after the handshake completes, to
	// record what the peer sends next (pings are answered). Zero: none.
	Linger time.Duration
	// Nonce returns the nonce for our version (default: random).
	Nonce func() uint64
	// DialContext opens Dial's connections, as net.Dialer's method of
	// that name does (default: a net.Dialer with TCP keep-alive off, which
	// a connection that lasts one handshake never needs). Wrap it to
	// record or shape the connections (cassette.Recorder.Dialer does).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxTranscript bounds the recorded messages (default 1000).
	MaxTranscript int
	// Transport is how messages travel: TransportV1 (the default here),
	// TransportV2 (BIP324, encrypted) or TransportAuto (v2, and for Dial a
	// new connection with v1 when the peer hangs up on our key having sent
	// nothing, as Core does). Run cannot reconnect: there TransportAuto is
	// TransportV2, and a v1-only peer fails the handshake with peer-closed
	// in phase v2-handshake.
	Transport Transport
	// V2GarbageLen is how much garbage follows our v2 key: 0 picks a
	// length uniformly in 0..4095, as Core does; 1..4095 is that length;
	// a negative value sends none. Lengths over 4095 are sent as 4095.
	V2GarbageLen int
	// Logger receives debug events (default: discard). Peer-controlled
	// text (the user agent) is passed as attribute values, never in
	// messages: use a handler that escapes control characters in values,
	// as slog's TextHandler and JSONHandler do.
	Logger *slog.Logger
	// Now returns the current time (default time.Now); tests replace it.
	Now func() time.Time
}

// Transport selects the transport of a handshake (Config.Transport) and
// names the one used (Result.Transport).
type Transport string

// The transports.
const (
	TransportV1   Transport = "v1"   // the original unencrypted framing
	TransportV2   Transport = "v2"   // BIP324's encrypted transport
	TransportAuto Transport = "auto" // v2, falling back to v1 as Core does (Config.Transport)
)

// discardLogger is the default Logger.
var discardLogger = slog.New(slog.DiscardHandler)

func (c Config) withDefaults() Config {
	if c.Network == 0 {
		c.Network = wire.Mainnet
	}
	if c.ProtocolVersion == 0 {
		c.ProtocolVersion = wire.ProtocolVersion
	}
	if c.UserAgent == "" {
		c.UserAgent = defaultUserAgent
	}
	if c.Timeout <= 0 {
		c.Timeout = defaultTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = c.Timeout
	}
	if c.MinPeerVersion == 0 {
		c.MinPeerVersion = wire.MinPeerProtoVersion
	}
	if c.MaxPayload == 0 || c.MaxPayload > wire.MaxPayload {
		c.MaxPayload = wire.MaxPayload
	}
	if c.Nonce == nil {
		c.Nonce = rand.Uint64
	}
	if c.MaxTranscript <= 0 {
		c.MaxTranscript = defaultMaxTranscript
	}
	if c.Logger == nil {
		c.Logger = discardLogger
	}
	if c.Transport == "" {
		c.Transport = TransportV1
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}
