package cassette

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Default limits of Read. A line holds one segment: the largest frame
// (wire.MaxPayload) in base64 with its decoded messages fits in 8 MiB.
const (
	DefaultMaxLine = 8 << 20
	DefaultMaxSize = 256 << 20
)

// ErrInvalid is wrapped by every error Read returns about the content of
// a cassette (as opposed to an error of the underlying reader).
var ErrInvalid = errors.New("invalid cassette")

// maxConns and maxEvents bound what a file within the size limit can make
// us hold in structures beside its bytes.
const (
	maxConns  = 1 << 16
	maxEvents = 1 << 20
)

// ReadOption changes a limit of Read.
type ReadOption func(*readLimits)

type readLimits struct{ line, size int64 }

// WithLimits sets the longest line and the largest file Read accepts, in
// bytes; zero keeps a default.
func WithLimits(maxLine, maxSize int64) ReadOption {
	return func(l *readLimits) {
		if maxLine > 0 {
			l.line = maxLine
		}
		if maxSize > 0 {
			l.size = maxSize
		}
	}
}

// Lines of the file, as written: a "type" beside the fields of a value.
type headerLine struct {
	Type string `json:"type"`
	Header
}

type connLine struct {
	Type string `json:"type"`
	Conn
}

type eventLine struct {
	Type string `json:"type"`
	Conn int    `json:"conn"`
	Event
}

type endLine struct {
	Type string `json:"type"`
	Conn int    `json:"conn"`
	End
}

// Write writes c as JSON Lines: the header, then each connection as its
// conn line, its events and its end line.
func (c *Cassette) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	h := c.Header
	if h.Format == 0 {
		h.Format = FormatVersion
	}
	if err := enc.Encode(headerLine{"cassette", h}); err != nil {
		return err
	}
	for _, cn := range c.Conns {
		if err := writeConn(enc, cn); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func writeConn(enc *json.Encoder, cn Conn) error {
	if err := enc.Encode(connLine{"conn", cn}); err != nil {
		return err
	}
	for _, e := range cn.Events {
		if err := enc.Encode(eventLine{"event", cn.ID, e}); err != nil {
			return err
		}
	}
	end := cn.End
	if end.How == "" {
		end.How = EndOpen
	}
	return enc.Encode(endLine{"end", cn.ID, end})
}

// WriteFile writes c to path, replacing it.
func (c *Cassette) WriteFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := c.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadFile reads the cassette at path with Read.
func ReadFile(path string, opts ...ReadOption) (*Cassette, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, opts...)
}

// Read reads a cassette. Lines of different connections may interleave
// (a recorder writes them as they happen); each connection's events keep
// their order. It refuses a line longer than the line limit, a file
// larger than the size limit, an unknown format version or line type, an
// event of a connection not opened yet or already ended, times that go
// backwards and lengths no frame can have; every such error wraps
// ErrInvalid and names the line.
func Read(r io.Reader, opts ...ReadOption) (*Cassette, error) {
	lim := readLimits{line: DefaultMaxLine, size: DefaultMaxSize}
	for _, o := range opts {
		o(&lim)
	}
	br := bufio.NewReaderSize(io.LimitReader(r, lim.size+1), 64<<10)
	var (
		c      Cassette
		total  int64
		lineNo int
		index  = map[int]int{} // conn id → index in c.Conns
		ended  = map[int]bool{}
		events int
	)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: line %d: %s", ErrInvalid, lineNo, fmt.Sprintf(format, args...))
	}
	var line []byte
	for {
		var err error
		line, err = readLine(br, line[:0], lim.line)
		lineNo++
		total += int64(len(line)) + 1
		if total > lim.size+1 {
			return nil, fmt.Errorf("%w: larger than the limit of %d bytes", ErrInvalid, lim.size)
		}
		if errors.Is(err, errLongLine) {
			return nil, bad("longer than the limit of %d bytes", lim.line)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			if perr := parseLine(&c, line, lineNo, index, ended, &events, bad); perr != nil {
				return nil, perr
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if lineNo == 0 || c.Header.Format == 0 {
		return nil, fmt.Errorf("%w: no header line", ErrInvalid)
	}
	return &c, nil
}

var errLongLine = errors.New("line too long")

// readLine appends one line (without its newline) to buf, reading at most
// max bytes of it: a longer line is errLongLine before it is all held.
func readLine(br *bufio.Reader, buf []byte, max int64) ([]byte, error) {
	for {
		frag, err := br.ReadSlice('\n')
		if int64(len(buf)+len(frag)) > max+1 {
			return buf, errLongLine
		}
		buf = append(buf, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if n := len(buf); n > 0 && buf[n-1] == '\n' {
			buf = buf[:n-1]
		}
		return buf, err
	}
}

func parseLine(c *Cassette, line []byte, lineNo int, index map[int]int, ended map[int]bool, events *int,
	bad func(string, ...any) error) error {
	var kind struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(line, &kind); err != nil {
		return bad("not a JSON object: %v", err)
	}
	if lineNo == 1 && kind.Type != "cassette" {
		return bad("the first line must be the cassette header, not %q", kind.Type)
	}
	switch kind.Type {
	case "cassette":
		return parseHeaderLine(c, line, lineNo, bad)
	case "conn":
		return parseConnLine(c, line, index, bad)
	case "event":
		return parseEventLine(c, line, index, ended, events, bad)
	case "end":
		return parseEndLine(c, line, index, ended, bad)
	default:
		return bad("unknown line type %q", kind.Type)
	}
}

// parseHeaderLine reads the cassette header, which must be the first line.
func parseHeaderLine(c *Cassette, line []byte, lineNo int, bad func(string, ...any) error) error {
	if lineNo != 1 {
		return bad("a second header")
	}
	var h headerLine
	if err := json.Unmarshal(line, &h); err != nil {
		return bad("header: %v", err)
	}
	if h.Format != FormatVersion {
		return bad("format version %d, this reader knows %d", h.Format, FormatVersion)
	}
	c.Header = h.Header
	return nil
}

// parseConnLine opens a connection.
func parseConnLine(c *Cassette, line []byte, index map[int]int, bad func(string, ...any) error) error {
	var cl connLine
	if err := json.Unmarshal(line, &cl); err != nil {
		return bad("conn: %v", err)
	}
	if cl.ID <= 0 {
		return bad("conn id %d: ids start at 1", cl.ID)
	}
	if _, dup := index[cl.ID]; dup {
		return bad("conn %d opened twice", cl.ID)
	}
	if len(c.Conns) >= maxConns {
		return bad("more than %d connections", maxConns)
	}
	if cl.Transport != "" && cl.Transport != TransportV1 && cl.Transport != TransportV2 {
		return bad("conn %d: unknown transport %q", cl.ID, cl.Transport)
	}
	if err := checkV2(cl.V2); err != nil {
		return bad("conn %d: %v", cl.ID, err)
	}
	cl.Conn.Events, cl.Conn.End = nil, End{}
	if !cl.Start.IsZero() {
		cl.Start = cl.Start.UTC()
	}
	index[cl.ID] = len(c.Conns)
	c.Conns = append(c.Conns, cl.Conn)
	return nil
}

// parseEventLine appends an event to its open connection.
func parseEventLine(c *Cassette, line []byte, index map[int]int, ended map[int]bool, events *int,
	bad func(string, ...any) error) error {
	var el eventLine
	if err := json.Unmarshal(line, &el); err != nil {
		return bad("event: %v", err)
	}
	cn, err := openConn(c, index, ended, el.Conn, bad)
	if err != nil {
		return err
	}
	if err := checkEvent(el.Event, cn); err != nil {
		return bad("conn %d: %v", el.Conn, err)
	}
	if *events++; *events > maxEvents {
		return bad("more than %d events", maxEvents)
	}
	cn.Events = append(cn.Events, el.Event)
	return nil
}

// parseEndLine ends an open connection.
func parseEndLine(c *Cassette, line []byte, index map[int]int, ended map[int]bool, bad func(string, ...any) error) error {
	var en endLine
	if err := json.Unmarshal(line, &en); err != nil {
		return bad("end: %v", err)
	}
	cn, err := openConn(c, index, ended, en.Conn, bad)
	if err != nil {
		return err
	}
	switch en.How {
	case EndFIN, EndRST, EndTimeout, EndOpen, EndUnknown:
	default:
		return bad("conn %d: unknown end %q", en.Conn, en.How)
	}
	if en.By != "" && en.By != Client && en.By != Node {
		return bad("conn %d: unknown party %q", en.Conn, en.By)
	}
	if en.At < 0 {
		return bad("conn %d: negative end time", en.Conn)
	}
	cn.End = en.End
	ended[en.Conn] = true
	return nil
}

func openConn(c *Cassette, index map[int]int, ended map[int]bool, id int, bad func(string, ...any) error) (*Conn, error) {
	i, ok := index[id]
	if !ok {
		return nil, bad("conn %d was not opened", id)
	}
	if ended[id] {
		return nil, bad("conn %d has already ended", id)
	}
	return &c.Conns[i], nil
}

func checkEvent(e Event, cn *Conn) error {
	if e.From != Client && e.From != Node {
		return fmt.Errorf("unknown party %q", e.From)
	}
	if e.At < 0 {
		return fmt.Errorf("negative time %d", e.At)
	}
	if n := len(cn.Events); n > 0 && e.At < cn.Events[n-1].At {
		return fmt.Errorf("time goes back from %d to %d µs", cn.Events[n-1].At, e.At)
	}
	switch e.Close {
	case "", EndFIN, EndRST:
	default:
		return fmt.Errorf("unknown close %q", e.Close)
	}
	if e.Decrypted && (len(e.Bytes) > 0 || e.Close != "" || len(e.Msgs) != 1) {
		return fmt.Errorf("a decrypted event holds one message, no bytes and no close")
	}
	for _, m := range e.Msgs {
		limit := wire.MaxPayload + wire.HeaderSize
		if m.V2 != "" {
			limit = maxV2Part
		}
		if m.Len < 0 || m.Len > limit {
			return fmt.Errorf("message %q: length %d is not a frame's", m.Cmd, m.Len)
		}
		if len(m.Payload) > m.Len {
			return fmt.Errorf("message %q: %d payload bytes, length %d", m.Cmd, len(m.Payload), m.Len)
		}
		switch m.V2 {
		case "", V2Key, V2Encrypted:
		default:
			return fmt.Errorf("unknown v2 part %q", m.V2)
		}
	}
	return nil
}
