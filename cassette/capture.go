package cassette

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Names of Core's -capturemessages files (src/net.cpp, CaptureMessageToFile).
const (
	captureRecv = "msgs_recv.dat"
	captureSent = "msgs_sent.dat"
)

// maxCaptureFile bounds one capture file: its records are held in memory.
const maxCaptureFile = 256 << 20

// captureRecordHead is a record's fixed part: time, command, length.
const captureRecordHead = 8 + wire.CommandSize + 4

// ImportCapture reads Bitcoin Core's -capturemessages output: a directory
// holding msgs_recv.dat and msgs_sent.dat of one connection, or a
// directory of such directories (Core names each after the peer's
// address, ADDR_PORT). The cassette has messages only (no bytes, no
// framing: Core captures messages when it processes them, not socket
// segments), one event per message with its payload; Header.Source is
// SourceCapture. Core's side is the node unless Core sent the first
// message (then Core dialled out and is the client); the directory's name
// gives the other party's endpoint, Core's own is unknown.
func ImportCapture(dir string, o ImportOptions) (*Cassette, error) {
	dirs, err := captureDirs(dir)
	if err != nil {
		return nil, err
	}
	net := o.Network
	if net == 0 {
		net = wire.Mainnet
	}
	c := &Cassette{Header: Header{Format: FormatVersion, Network: net.String(), Source: SourceCapture, Tool: o.Tool, Origin: filepath.Base(dir)}}
	for _, d := range dirs {
		peer := peerFromDir(filepath.Base(d))
		if !o.wantedPeer(peer) {
			continue
		}
		cn, err := readCaptureConn(d, peer)
		if err != nil {
			return nil, err
		}
		cn.ID = len(c.Conns) + 1
		c.Conns = append(c.Conns, cn)
	}
	if o.Network == 0 {
		// Core captured the version payloads, not the magic: the network
		// cannot be read from a capture; the caller names it.
		c.Header.Network = net.String()
	}
	if !o.NoRedact {
		Redact(c)
	}
	return c, nil
}

// wantedPeer applies the filters to a capture directory's peer address;
// a filter on Core's own port cannot be checked and keeps everything.
func (o ImportOptions) wantedPeer(peer netip.AddrPort) bool {
	if o.Host.IsValid() && peer.Addr().Unmap() != o.Host.Unmap() {
		return false
	}
	return true
}

// captureDirs lists the connection directories under dir, sorted.
func captureDirs(dir string) ([]string, error) {
	if isCaptureDir(dir) {
		return []string{dir}, nil
	}
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && isCaptureDir(path) {
			out = append(out, path)
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no %s or %s found", dir, captureRecv, captureSent)
	}
	slices.Sort(out)
	return out, nil
}

func isCaptureDir(dir string) bool {
	for _, f := range []string{captureRecv, captureSent} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// peerFromDir reads Core's ADDR_PORT directory name (IPv6 addresses have
// their colons replaced too, so only IPv4 round-trips exactly).
func peerFromDir(name string) netip.AddrPort {
	i := strings.LastIndexByte(name, '_')
	if i < 0 {
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(name[:i] + ":" + name[i+1:])
	return ap
}

type captured struct {
	at      int64
	sent    bool // by Core
	cmd     [wire.CommandSize]byte
	payload []byte
}

func readCaptureConn(dir string, peer netip.AddrPort) (Conn, error) {
	var recs []captured
	for _, f := range []struct {
		name string
		sent bool
	}{{captureRecv, false}, {captureSent, true}} {
		r, err := readCaptureFile(filepath.Join(dir, f.name), f.sent)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Conn{}, err
		}
		recs = append(recs, r...)
	}
	// Stable: each file is in order already; between the files, time decides.
	slices.SortStableFunc(recs, func(a, b captured) int { return int(min(max(a.at-b.at, -1), 1)) })
	cn := Conn{End: End{How: EndUnknown}}
	coreIs := Node
	if len(recs) > 0 && recs[0].sent {
		coreIs = Client
	}
	if coreIs == Node {
		cn.Client = endpoint(peer)
	} else {
		cn.Node = endpoint(peer)
	}
	if len(recs) == 0 {
		return cn, nil
	}
	start := recs[0].at
	cn.Start = time.UnixMicro(start).UTC()
	for _, r := range recs {
		from := coreIs
		if !r.sent {
			from = other(coreIs)
		}
		m := Message{Cmd: cmdText(r.cmd), Len: len(r.payload), Payload: r.payload}
		describe(&m, r.payload)
		cn.Events = append(cn.Events, Event{From: from, At: r.at - start, Msgs: []Message{m}})
	}
	cn.End.At = cn.Events[len(cn.Events)-1].At
	return cn, nil
}

func endpoint(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	return ap.String()
}

func other(party string) string {
	if party == Client {
		return Node
	}
	return Client
}

// readCaptureFile reads every record of one capture file. A record that
// claims more than a frame can hold, or a file cut inside a record, is an
// error naming the file and the offset.
func readCaptureFile(path string, sent bool) ([]captured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxCaptureFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxCaptureFile)
	}
	br := bufio.NewReader(f)
	var out []captured
	var off int64
	var head [captureRecordHead]byte
	for {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("%s: record at offset %d: truncated header", path, off)
		}
		n := binary.LittleEndian.Uint32(head[8+wire.CommandSize:])
		if n > wire.MaxPayload {
			return nil, fmt.Errorf("%s: record at offset %d: payload length %d over %d", path, off, n, wire.MaxPayload)
		}
		r := captured{at: int64(binary.LittleEndian.Uint64(head[:8])), sent: sent, cmd: [wire.CommandSize]byte(head[8:20]), payload: make([]byte, n)}
		if _, err := io.ReadFull(br, r.payload); err != nil {
			return nil, fmt.Errorf("%s: record at offset %d: truncated payload", path, off)
		}
		out = append(out, r)
		off += captureRecordHead + int64(n)
	}
}
