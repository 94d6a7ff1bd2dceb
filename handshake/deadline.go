package handshake

import (
	"context"
	"time"
)

// deadlines are the deadlines set on the session's connection, so that
// each is set only when it changes: setting one reads the clock twice,
// and a clock read costs hundreds of nanoseconds on some virtual
// machines (BENCHMARKS.md).
type deadlines struct {
	readDeadline, writeDeadline time.Time
}

// flush writes the transport's output in one Write call, so that messages
// we send together arrive together, as Core sends them.
func (s *session) flush(ctx context.Context, deadline time.Time) error {
	return s.write(ctx, deadline, false)
}

// write sends the queued output; last says nothing follows but the close
// (see lastWriter).
func (s *session) write(ctx context.Context, deadline time.Time, last bool) error {
	if !deadline.Equal(s.writeDeadline) {
		read := s.readDeadline
		if read.IsZero() {
			// The first write: the read that follows it gets its
			// deadline in the same call.
			read = s.phaseDeadline
		}
		if err := s.setDeadlines(deadline, read); err != nil {
			return err
		}
	}
	// Checked after setting the deadline: a cancellation that fired
	// before it has had its past deadline overwritten.
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if last {
		err = s.last.write(s.conn, s.t.output())
	} else {
		_, err = s.conn.Write(s.t.output())
	}
	s.t.written()
	return err
}

// setReadDeadline sets the read deadline, then checks the context, for the
// same reason as write.
func (s *session) setReadDeadline(ctx context.Context, deadline time.Time) error {
	if !deadline.Equal(s.readDeadline) {
		if err := s.setDeadlines(s.writeDeadline, deadline); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// setDeadlines sets the write and read deadlines that changed, both in
// one call when they are the same (as they are unless a phase timeout is
// configured).
func (s *session) setDeadlines(write, read time.Time) error {
	var err error
	switch {
	case write.Equal(s.writeDeadline):
		if !read.Equal(s.readDeadline) {
			err = s.conn.SetReadDeadline(read)
		}
	case read.Equal(s.readDeadline):
		err = s.conn.SetWriteDeadline(write)
	case write.Equal(read):
		err = s.conn.SetDeadline(write)
	default:
		err = s.conn.SetWriteDeadline(write)
		if err == nil {
			err = s.conn.SetReadDeadline(read)
		}
	}
	if err != nil {
		return err
	}
	s.writeDeadline, s.readDeadline = write, read
	return nil
}
