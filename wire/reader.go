package wire

import (
	"errors"
	"fmt"
	"io"
	"iter"
)

// defaultReaderSize is the initial buffer of a Reader: enough for every
// handshake-phase message, so a handshake never grows it.
const defaultReaderSize = 1024

// Frame is one frame read from a stream. Payload aliases the Reader's
// buffer and is valid only until the next call to Next.
type Frame struct {
	Header  Header
	Payload []byte
}

// Command is the frame's command without NUL padding.
func (f Frame) Command() string { return f.Header.CommandName() }

// Reader reads frames from a byte stream. Bytes that arrive together with
// a frame are kept for the next one; bytes that arrive one at a time are
// reassembled. A read error (such as a deadline) mid-frame leaves the
// partial frame buffered, so Next can be called again.
//
// The buffer grows only when it is full of received bytes, so a peer that
// declares a large payload and sends little makes us allocate little.
type Reader struct {
	r     io.Reader
	net   Network
	max   uint32
	buf   []byte
	start int // first unread byte
	end   int // end of buffered bytes
	fatal error
	eof   bool // the stream ended: read nothing more from it
	size  int  // the initial buffer size, which Reset returns to
}

// NewReader returns a Reader for network net with the default buffer and
// the MaxPayload limit.
func NewReader(r io.Reader, net Network) *Reader {
	return NewReaderSize(r, net, defaultReaderSize, MaxPayload)
}

// NewReaderSize returns a Reader with an initial buffer of size bytes (0:
// the default of NewReader, 1 KiB; at least HeaderSize) that rejects
// frames declaring more than maxPayload bytes (0 or anything above
// MaxPayload means MaxPayload).
func NewReaderSize(r io.Reader, net Network, size int, maxPayload uint32) *Reader {
	switch {
	case size == 0:
		size = defaultReaderSize
	case size < HeaderSize:
		size = HeaderSize
	}
	if maxPayload == 0 || maxPayload > MaxPayload {
		maxPayload = MaxPayload
	}
	return &Reader{r: r, net: net, max: maxPayload, buf: make([]byte, size), size: size}
}

// Reset makes r a Reader of src for network net with the payload limit
// maxPayload, as NewReaderSize would, but keeps its buffer unless a large
// frame grew it: pooled Readers read a handshake without allocating.
func (r *Reader) Reset(src io.Reader, net Network, maxPayload uint32) {
	if maxPayload == 0 || maxPayload > MaxPayload {
		maxPayload = MaxPayload
	}
	buf := r.buf
	if len(buf) != r.size {
		buf = make([]byte, r.size)
	}
	*r = Reader{r: src, net: net, max: maxPayload, buf: buf, size: r.size}
}

// FillFrom reads once from src into r's buffer, as Next reads from r's own
// reader, and returns what that read returned: a caller that reads without
// waiting (a non-blocking socket read) learns whether bytes or the end of
// the stream are already there, and Next then parses what it brought. An
// io.EOF is kept: once the buffered frames are used, Next reports the end
// without reading again.
func (r *Reader) FillFrom(src io.Reader) (int, error) {
	if r.eof {
		return 0, io.EOF
	}
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if r.end == len(r.buf) {
		return 0, nil // full: Next has frames to parse first
	}
	k, err := src.Read(r.buf[r.end:])
	r.end += k
	if errors.Is(err, io.EOF) {
		r.eof = true
	}
	return k, err
}

// Buffered returns how many received bytes are waiting to be parsed.
func (r *Reader) Buffered() int { return r.end - r.start }

// Pending yields the headers of the whole frames already buffered, in
// order, the ones Next will return (each with its checksum or command
// error, if any) without reading. It stops at a partial frame or a header
// Next rejects.
func (r *Reader) Pending() iter.Seq[Header] {
	return func(yield func(Header) bool) {
		if r.fatal != nil {
			return
		}
		for off := r.start; r.end-off >= HeaderSize; {
			h, err := ParseHeader(r.buf[off:off+HeaderSize], r.net, r.max)
			if err != nil || r.end-off < HeaderSize+int(h.Length) || !yield(h) {
				return
			}
			off += HeaderSize + int(h.Length)
		}
	}
}

// Ready reports whether Next will return without reading: a whole frame
// is buffered, or a header that Next rejects, or the stream has ended, or
// it is out of sync. A caller that bounds each read with a deadline needs
// none for such a Next.
func (r *Reader) Ready() bool {
	if r.fatal != nil || r.eof {
		return true
	}
	n := r.end - r.start
	if n < HeaderSize {
		return false
	}
	h, err := ParseHeader(r.buf[r.start:r.start+HeaderSize], r.net, r.max)
	return err != nil || n >= HeaderSize+int(h.Length)
}

// Next returns the next frame. Errors:
//   - io.EOF when the stream ends on a frame boundary, io.ErrUnexpectedEOF
//     when it ends inside a frame;
//   - a *FrameError wrapping ErrBadMagic or ErrPayloadTooLarge, after which
//     the stream is out of sync and every later call returns the same error;
//   - a recoverable *FrameError wrapping ErrBadChecksum or ErrBadCommand,
//     returned with the frame, which has been consumed;
//   - any error of the underlying reader (a timeout, say), after which Next
//     can be called again.
func (r *Reader) Next() (Frame, error) {
	if r.fatal != nil {
		return Frame{}, r.fatal
	}
	if err := r.fill(HeaderSize); err != nil {
		return Frame{}, err
	}
	h, err := ParseHeader(r.buf[r.start:r.start+HeaderSize], r.net, r.max)
	if err != nil {
		r.fatal = err
		return Frame{Header: h}, err
	}
	total := HeaderSize + int(h.Length)
	if err := r.fill(total); err != nil {
		return Frame{}, err
	}
	f := Frame{Header: h, Payload: r.buf[r.start+HeaderSize : r.start+total : r.start+total]}
	r.start += total
	if r.start == r.end {
		r.start, r.end = 0, 0
	}
	// Arrays go to fmt by value, not sliced: a slice would move h and sum
	// to the heap on every call, not only on the error path.
	// Checksum first, then command bytes: the order of
	// V1Transport::GetReceivedMessage (src/net.cpp), so a frame wrong in
	// both ways is reported as Core would log it.
	if sum := Checksum(f.Payload); sum != h.Checksum {
		return f, &FrameError{Err: ErrBadChecksum, Command: h.CommandName(),
			Detail: fmt.Sprintf("got %x, want %x", h.Checksum, sum), Recoverable: true}
	}
	if !h.ValidCommand() {
		return f, &FrameError{Err: ErrBadCommand, Detail: fmt.Sprintf("%q", h.Command), Recoverable: true}
	}
	return f, nil
}

// fill makes sure n bytes are buffered from r.start.
func (r *Reader) fill(n int) error {
	for r.end-r.start < n {
		if r.eof {
			if r.end == r.start {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		if len(r.buf)-r.start < n && r.start > 0 {
			// Move the partial frame to the front before reading more.
			r.end = copy(r.buf, r.buf[r.start:r.end])
			r.start = 0
		}
		if r.end == len(r.buf) {
			// Full of received bytes and still short: grow, at most
			// doubling, never beyond what the frame needs.
			size := 2 * len(r.buf)
			if size > n {
				size = n
			}
			grown := make([]byte, size)
			r.end = copy(grown, r.buf[r.start:r.end])
			r.start = 0
			r.buf = grown
		}
		k, err := r.r.Read(r.buf[r.end:])
		r.end += k
		if err != nil {
			if r.end-r.start >= n {
				return nil
			}
			if errors.Is(err, io.EOF) {
				r.eof = true
				if r.end == r.start {
					return io.EOF
				}
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
