package wire

import "errors"

// Exported for the wire_test package only.
const VersionMinSize = versionMinSize

var (
	ReadCompactSize   = readCompactSize
	AppendCompactSize = appendCompactSize
	DefaultReaderSize = defaultReaderSize
)

// IsRecoverable reports whether err is a FrameError that leaves the
// Reader in sync.
func IsRecoverable(err error) bool {
	fe, ok := errors.AsType[*FrameError](err)
	return ok && fe.Recoverable
}
