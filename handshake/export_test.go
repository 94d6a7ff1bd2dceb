package handshake

// What the specs check that users have no need of.

// Kinds and Quirks list every Kind and Quirk.
func Kinds() []Kind   { return kinds[:] }
func Quirks() []Quirk { return quirks[:] }

// Error is the error of a failed handshake, for specs that check its
// fields.
type Error = failure

// KindOf is the Kind of err.
var KindOf = errKind

// Defaults the specs compare with.
const (
	DefaultUserAgent    = defaultUserAgent
	DefaultMaxSeedAddrs = defaultMaxSeedAddrs
)
