package cassette

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// V2Info is what the client of a BIP324 v2 connection knew of it that
// its encrypted bytes cannot tell (Conn.V2). Garbage and decoys are named
// by the party that sent them.
type V2Info struct {
	// SessionID is the session id in hex (the same on both sides), empty
	// when the handshake failed before the keys were exchanged. Redact
	// replaces it with a placeholder, equal ids by equal placeholders.
	SessionID string `json:"session_id,omitempty"`
	// ClientGarbage and NodeGarbage are the lengths of the garbage each
	// party sent after its key (NodeGarbage 0 until its terminator came).
	ClientGarbage int `json:"client_garbage"`
	NodeGarbage   int `json:"node_garbage"`
	// NodeDecoys counts the decoy packets of the node that the client
	// skipped.
	NodeDecoys int `json:"node_decoys"`
	// MessagesDropped counts messages beyond the client's transcript
	// bound: the decrypted events lack them.
	MessagesDropped int `json:"messages_dropped,omitempty"`
}

// Annotate adds to the recorded connection of res, a handshake that our
// client dialed through r's Dialer over the v2 transport, what only the
// client knew: the session (Conn.V2) and each message it sent or received,
// decrypted, as an event of its own (Event.Decrypted) beside the encrypted
// byte events. A Result keeps no payloads: these events carry the command,
// the payload size, the time and any error, and the node's version its
// decoded fields (Result.Peer). The connection is the one dialed at
// res.Addr whose client sent a v2 key and that has no annotation yet,
// the one that started nearest after res.Started when the same address
// was dialed more than once. Annotate reports whether it found one; a v1
// handshake (a fallback included) needs none, its bytes decode.
func (r *Recorder) Annotate(res *handshake.Result) bool {
	if res == nil || res.Transport != handshake.TransportV2 {
		return false
	}
	rc := r.v2Conn(res.Addr, res.Started)
	if rc == nil {
		return false
	}
	info := &V2Info{ClientGarbage: res.GarbageSent, NodeGarbage: res.GarbageRecv, NodeDecoys: res.Decoys,
		MessagesDropped: res.TranscriptDropped}
	if res.SessionID != ([bip324.SessionIDLen]byte{}) {
		info.SessionID = hex.EncodeToString(res.SessionID[:])
	}
	var events []Event
	var last int64
	peerVersion := res.Peer
	for _, te := range res.Transcript {
		from := Client
		if te.Received {
			from = Node
		}
		// The Result's clock started before the dial, the recording's
		// at it: shift, and keep the transcript's order where the two
		// clocks' readings disagree by a few microseconds.
		at := max(res.Started.Add(te.At).Sub(rc.start).Microseconds(), last, 0)
		last = at
		m := Message{Cmd: te.Command, Len: max(te.Size, 0), Err: te.Err}
		if from == Node && m.Cmd == wire.CmdVersion && m.Err == "" && peerVersion != nil {
			m.Version = versionInfo(peerVersion)
			peerVersion = nil
		}
		events = append(events, Event{From: from, At: at, Msgs: []Message{m}, Decrypted: true})
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.conn.V2 != nil {
		return false // annotated meanwhile
	}
	placeSent(events, rc.conn.Events, res.GarbageSent)
	rc.conn.V2 = info
	rc.decrypted = events
	return true
}

// v2Conn finds the connection Annotate is for: dialed at addr, a v2 key
// first from the client, not annotated yet, started nearest after
// started (the last such when started is later than all of them).
func (r *Recorder) v2Conn(addr string, started time.Time) *recConn {
	r.mu.Lock()
	conns := append([]*recConn(nil), r.conns...)
	r.mu.Unlock()
	// better: a connection started after the Result's start beats one
	// before it; of two after, the earlier; of two before, the later.
	better := func(a, b *recConn) bool {
		aAfter, bAfter := !a.start.Before(started), !b.start.Before(started)
		if aAfter != bAfter {
			return aAfter
		}
		if aAfter {
			return a.start.Before(b.start)
		}
		return a.start.After(b.start)
	}
	var best *recConn
	for _, rc := range conns {
		if rc.dialed != addr || rc.we != Client || !rc.startsV2() {
			continue
		}
		if best == nil || better(rc, best) {
			best = rc
		}
	}
	return best
}

// startsV2 says whether the client's first bytes are a v2 key and the
// connection has no annotation yet.
func (c *recConn) startsV2() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn.V2 != nil {
		return false
	}
	var first []byte
	for _, e := range c.conn.Events {
		if e.From == Client && len(first) < decideLen {
			first = append(first, e.Bytes...)
		}
	}
	return len(first) > 0 && classify(first[:min(len(first), decideLen)]) == TransportV2
}

// placeSent moves each message the client sent from the time it was
// queued (the transcript's) to the time of the segment that carried the
// last byte of its packet, as v1 decoding places a frame: our client
// queues its version before the keys are exchanged and sends it after.
// Its stream is its key, its garbage, the terminator, an empty version
// packet and a packet per message, no decoys; when the recorded bytes do
// not add up to that (a handshake cut short, bytes beyond the bound),
// the queue times stay. Then decrypted is sorted by time, stably.
func placeSent(decrypted, segs []Event, garbage int) {
	end := bip324.KeyLen + garbage + bip324.TerminatorLen + bip324.Expansion
	var ends []int
	for _, d := range decrypted {
		if d.From == Client {
			n := 1 + wire.CommandSize
			if _, ok := bip324.ShortID(d.Msgs[0].Cmd); ok {
				n = 1
			}
			end += bip324.Expansion + n + d.Msgs[0].Len
			ends = append(ends, end)
		}
	}
	total := 0
	for _, e := range segs {
		if e.From == Client {
			total += len(e.Bytes)
		}
	}
	if total != end {
		return
	}
	seen, k, next := 0, 0, 0
	for _, e := range segs {
		if e.From != Client || len(e.Bytes) == 0 {
			continue
		}
		seen += len(e.Bytes)
		for ; k < len(ends) && ends[k] <= seen; k++ {
			for decrypted[next].From != Client {
				next++
			}
			decrypted[next].At = max(decrypted[next].At, e.At)
			next++
		}
	}
	sort.SliceStable(decrypted, func(i, j int) bool { return decrypted[i].At < decrypted[j].At })
}

// mergeDecrypted places copies of the decrypted events among the byte
// events by time: a message at the time of a segment goes after it, as
// a message is decrypted once its last byte has arrived.
func mergeDecrypted(events, decrypted []Event) []Event {
	if len(decrypted) == 0 {
		return events
	}
	out := make([]Event, 0, len(events)+len(decrypted))
	i := 0
	for _, d := range decrypted {
		for i < len(events) && events[i].At <= d.At {
			out = append(out, events[i])
			i++
		}
		d.Msgs = append([]Message(nil), d.Msgs...)
		for j := range d.Msgs {
			if v := d.Msgs[j].Version; v != nil {
				cp := *v
				d.Msgs[j].Version = &cp
			}
		}
		out = append(out, d)
	}
	return append(out, events[i:]...)
}

// versionInfo is what a decoded version message says.
func versionInfo(v *wire.Version) *VersionInfo {
	vi := &VersionInfo{
		Protocol: v.ProtocolVersion, Services: v.Services, Timestamp: v.Timestamp,
		AddrRecv: v.AddrRecv.AddrPort().String(), Nonce: v.Nonce,
		UserAgent: strings.ToValidUTF8(v.UserAgent, "\uFFFD"), StartHeight: v.StartHeight, Relay: v.Relay,
	}
	if v.Tail < wire.TailMinimal {
		vi.AddrFrom = v.AddrFrom.AddrPort().String()
	}
	return vi
}

// redactV2 redacts what the annotation of a v2 connection adds: the
// session id (each distinct id mapped to its own placeholder, in hex so
// that it still reads as one) and the addresses and nonce of version
// messages decoded without a payload to rewrite.
func redactV2(cn *Conn, nonces map[uint64]uint64, sessions map[string]string) {
	if cn.V2 != nil && cn.V2.SessionID != "" {
		v := *cn.V2
		p, ok := sessions[v.SessionID]
		if !ok {
			p = fmt.Sprintf("%x%052x", "REDACT", len(sessions)+1)
			sessions[v.SessionID] = p
		}
		v.SessionID = p
		cn.V2 = &v
	}
	for i := range cn.Events {
		e := &cn.Events[i]
		if len(e.Bytes) > 0 {
			continue
		}
		for j := range e.Msgs {
			m := &e.Msgs[j]
			if m.Version == nil || len(m.Payload) > 0 {
				continue // decoded from a payload, which redactConn rewrote
			}
			v := *m.Version
			v.AddrRecv = redactAddrText(v.AddrRecv, other(e.From))
			v.AddrFrom = redactAddrText(v.AddrFrom, e.From)
			v.Nonce = redactNonce(v.Nonce, nonces)
			m.Version = &v
		}
	}
}

// redactAddrText is redactIP for an address decoded as text: the party's
// placeholder with the port kept, a zero address kept.
func redactAddrText(s, party string) string {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return s // "" (absent) or not an address: nothing to redact
	}
	if ap.Addr().Unmap().IsUnspecified() {
		return s
	}
	a := placeholder(ap.Addr(), party)
	if ap.Addr().Is4In6() {
		a = netip.AddrFrom16(a.As16())
	}
	return netip.AddrPortFrom(a, ap.Port()).String()
}

// redactNonce maps a non-zero version nonce to its placeholder: the
// first distinct one to redactedNonce, each next one a counter above it.
func redactNonce(n uint64, nonces map[uint64]uint64) uint64 {
	if n == 0 {
		return 0 // no nonce: nothing identifies
	}
	r, ok := nonces[n]
	if !ok {
		r = redactedNonce + uint64(len(nonces))<<48
		nonces[n] = r
	}
	return r
}

// checkV2 refuses a session no v2 handshake can have.
func checkV2(v *V2Info) error {
	if v == nil {
		return nil
	}
	if v.SessionID != "" {
		if b, err := hex.DecodeString(v.SessionID); err != nil || len(b) != bip324.SessionIDLen {
			return fmt.Errorf("v2 session id %q: want %d bytes in hex", v.SessionID, bip324.SessionIDLen)
		}
	}
	for _, n := range []int{v.ClientGarbage, v.NodeGarbage} {
		if n < 0 || n > bip324.MaxGarbageLen {
			return fmt.Errorf("v2 garbage of %d bytes: BIP324 allows 0 to %d", n, bip324.MaxGarbageLen)
		}
	}
	if v.NodeDecoys < 0 || v.MessagesDropped < 0 {
		return fmt.Errorf("v2: negative count")
	}
	return nil
}

// v2Summary is the one-line account of a v2 session, for a transcript
// (full session id, escaped with Text) or a diagram (short, escaped with
// mermaid): the id comes from the file, the rest is ours.
func v2Summary(v *V2Info, short bool) string {
	id, esc := v.SessionID, Text
	if short {
		esc = mermaid
		if len(id) > 16 {
			id = id[:16]
		}
	}
	id = esc(id)
	switch {
	case v.SessionID == "":
		id = "none (no keys exchanged)"
	case short:
		id += "…"
	}
	s := fmt.Sprintf("BIP324 v2, session %s, garbage %d/%d B (client/node), decoys %d", id,
		v.ClientGarbage, v.NodeGarbage, v.NodeDecoys)
	if v.MessagesDropped > 0 {
		s += fmt.Sprintf(", %d messages not kept", v.MessagesDropped)
	}
	return s
}
