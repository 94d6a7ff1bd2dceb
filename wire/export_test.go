package wire

// Exported for the wire_test package only.
var (
	ReadCompactSize   = readCompactSize
	AppendCompactSize = appendCompactSize
	DefaultReaderSize = defaultReaderSize
)
