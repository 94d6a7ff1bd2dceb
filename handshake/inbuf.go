package handshake

import (
	"errors"
	"io"
)

// inbuf is the v2 transport's receive buffer. It grows only when it is
// full of received bytes and still short of what is needed, at most
// doubling and never beyond that need: a peer that declares a large
// packet and sends little makes us allocate little.
type inbuf struct {
	r          io.Reader
	buf        []byte
	start, end int
	// received counts every byte read, for Core's fallback rule (nothing
	// received) and the garbage bound.
	received int
}

func (b *inbuf) bytes() []byte { return b.buf[b.start:b.end] }
func (b *inbuf) len() int      { return b.end - b.start }

func (b *inbuf) consume(n int) {
	b.start += n
	if b.start == b.end {
		b.start, b.end = 0, 0
	}
}

// fill makes sure n bytes are buffered, and reports whether it read.
func (b *inbuf) fill(n int) (fresh bool, err error) {
	for b.len() < n {
		fresh = true
		if b.start+n > len(b.buf) && b.start > 0 {
			b.end = copy(b.buf, b.buf[b.start:b.end])
			b.start = 0
		}
		if b.end == len(b.buf) {
			grown := make([]byte, min(2*len(b.buf), n))
			b.end = copy(grown, b.buf[b.start:b.end])
			b.start, b.buf = 0, grown
		}
		if err := b.read(len(b.buf)); err != nil {
			if b.len() >= n {
				return fresh, nil
			}
			return fresh, err
		}
	}
	return fresh, nil
}

// readUpTo reads once, without buffering more than limit bytes (limit is
// at most the buffer's size): the garbage is never read past its bound.
func (b *inbuf) readUpTo(limit int) error {
	if b.start+limit > len(b.buf) {
		b.end = copy(b.buf, b.buf[b.start:b.end])
		b.start = 0
	}
	return b.read(b.start + limit)
}

// read reads once into buf[end:to]. A stream that ends inside what is
// needed is io.ErrUnexpectedEOF once bytes have come, io.EOF before.
func (b *inbuf) read(to int) error {
	k, err := b.r.Read(b.buf[b.end:to])
	b.end += k
	b.received += k
	if k > 0 {
		return nil
	}
	if errors.Is(err, io.EOF) && b.received > 0 {
		return io.ErrUnexpectedEOF
	}
	if err == nil {
		return io.ErrNoProgress
	}
	return err
}
