package integration

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"sync"
)

// logBuffer keeps a process's console output and wakes waiters whenever
// more arrives.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
	tee     io.Writer
}

func newLogBuffer(tee io.Writer) *logBuffer {
	return &logBuffer{changed: make(chan struct{}), tee: tee}
}

// Write implements io.Writer.
func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	if l.tee != nil {
		_, _ = l.tee.Write(p) // a failing copy must not stop the node
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitMatch waits until every pattern matches the log, and returns the
// first submatch of each (or the whole match when a pattern has no group).
// It gives up when ctx ends or exited is closed.
func (l *logBuffer) waitMatch(ctx context.Context, exited <-chan struct{}, patterns ...*regexp.Regexp) ([]string, error) {
	for {
		l.mu.Lock()
		data := l.buf.Bytes()
		found := make([]string, 0, len(patterns))
		for _, re := range patterns {
			m := re.FindSubmatch(data)
			if m == nil {
				break
			}
			found = append(found, string(m[len(m)-1]))
		}
		changed := l.changed
		l.mu.Unlock()
		if len(found) == len(patterns) {
			return found, nil
		}
		select {
		case <-changed:
		case <-exited:
			return nil, errExited
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
