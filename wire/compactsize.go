package wire

import (
	"encoding/binary"
	"fmt"
)

// appendCompactSize appends v in Bitcoin's CompactSize encoding.
func appendCompactSize(dst []byte, v uint64) []byte {
	switch {
	case v < 0xfd:
		return append(dst, byte(v))
	case v <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(dst, 0xfd), uint16(v))
	case v <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(dst, 0xfe), uint32(v))
	}
	return binary.LittleEndian.AppendUint64(append(dst, 0xff), v)
}

// readCompactSize decodes a CompactSize from the start of b and returns the
// value and the number of bytes used. Non-canonical encodings are rejected,
// as in Core's readCompactSize (src/serialize.h).
func readCompactSize(b []byte) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: CompactSize missing", ErrTruncated)
	}
	switch b[0] {
	case 0xfd:
		if len(b) < 3 {
			return 0, 0, fmt.Errorf("%w: CompactSize needs 3 bytes", ErrTruncated)
		}
		v := uint64(binary.LittleEndian.Uint16(b[1:]))
		if v < 0xfd {
			return 0, 0, fmt.Errorf("%w: %d in 3 bytes", ErrNonCanonical, v)
		}
		return v, 3, nil
	case 0xfe:
		if len(b) < 5 {
			return 0, 0, fmt.Errorf("%w: CompactSize needs 5 bytes", ErrTruncated)
		}
		v := uint64(binary.LittleEndian.Uint32(b[1:]))
		if v <= 0xffff {
			return 0, 0, fmt.Errorf("%w: %d in 5 bytes", ErrNonCanonical, v)
		}
		return v, 5, nil
	case 0xff:
		if len(b) < 9 {
			return 0, 0, fmt.Errorf("%w: CompactSize needs 9 bytes", ErrTruncated)
		}
		v := binary.LittleEndian.Uint64(b[1:])
		if v <= 0xffffffff {
			return 0, 0, fmt.Errorf("%w: %d in 9 bytes", ErrNonCanonical, v)
		}
		return v, 9, nil
	}
	return uint64(b[0]), 1, nil
}
