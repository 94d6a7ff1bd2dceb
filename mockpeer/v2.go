package mockpeer

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// V2 says how the mock speaks BIP324's v2 transport: as a responder
// (V2Accept, a profile with WithV2Transport) after v1 detection, or as an
// initiator (V2Connect). The zero value is a correct peer sending no
// garbage; each field varies one thing a v2 peer can vary, byte by byte.
type V2 struct {
	// Garbage is how many garbage bytes follow our key (legal: 0..4095;
	// more is what a broken peer sends). RandomGarbage picks 0..4095 per
	// connection instead, as Core and btcd do.
	Garbage       int
	RandomGarbage bool
	// GarbageBytes, when set, is the garbage itself (Garbage is then
	// ignored): a garbage holding a prefix of the terminator, say.
	GarbageBytes []byte
	// DecoysBefore and DecoysAfter are decoy packets (ignore bit set) of
	// DecoySize bytes of contents sent before and after the version
	// packet. The first packet after the terminator carries the AAD,
	// decoy or not.
	DecoysBefore, DecoysAfter, DecoySize int
	// VersionContents are the contents of the version packet (BIP324:
	// empty; a future version may put something there, to be ignored).
	VersionContents []byte
	// WrongTerminator sends 16 other bytes in place of the terminator.
	WrongTerminator bool
	// NoTerminator sends the key and garbage and nothing more of the
	// handshake (the step returns; what follows decides how the mock goes on).
	NoTerminator bool
	// TamperAAD authenticates the first packet with other bytes than the
	// garbage sent; NoAAD with no AAD at all.
	TamperAAD, NoAAD bool
	// TerminatorPrefix (responder) ends the garbage with the first
	// TerminatorPrefix bytes (1..15) of our terminator, as a scan that
	// matches partially and moves on must handle. The key and garbage then
	// go out once the other side's key is in, since the terminator
	// depends on it.
	TerminatorPrefix int
	// OtherNetwork salts the key schedule with another network's magic
	// than the connection's: the terminators and keys differ from the
	// other side's, so nothing it reads matches.
	OtherNetwork bool
	// EarlyKey (responder) sends our key and garbage as soon as the
	// connection is accepted, before reading anything: there is then no v1
	// detection.
	EarlyKey bool
	// Chunk, when positive, writes our key and garbage Chunk bytes at a
	// time, ChunkDelay apart.
	Chunk      int
	ChunkDelay time.Duration
	// ScanLimit bounds how many bytes of the other side's garbage and
	// terminator are searched (0: 4095+16, BIP324's). btcd's v2transport
	// searches one byte less, so it misses the terminator after 4095
	// bytes of garbage; WithV2Transport gives BtcdResponder that limit.
	ScanLimit int
	// LateV1Check (responder) tells another network's v1 version header
	// only once 64 bytes are in, after our key went out, as btcd's
	// v2transport does (RespondV2Handshake sends its key at the first byte
	// that differs from the v1 prefix; prepareResponderHandshake then
	// compares bytes 4..15). Core tells it at 16 bytes and sends no key
	// when they arrive together. BtcdResponder's v2 sets it.
	LateV1Check bool
	// MaxContents is the largest packet contents length accepted (0:
	// Core's, bip324.MaxContentsLen). btcd's v2transport accepts any
	// length the 3-byte field can hold (maxContentLen, 2^24-1) and waits
	// for that many bytes; BtcdResponder's v2 sets that.
	MaxContents int
}

// btcdMaxContents is btcd v2transport's maxContentLen.
const btcdMaxContents = 1<<24 - 1

// btcdScanLimit is where btcd's v2transport stops looking for the
// terminator (v1.0.1, v1.1.0): one byte short of 4095+16.
const btcdScanLimit = bip324.MaxGarbageLen + bip324.TerminatorLen - 1

// v1VersionCommand is bytes 4..15 of a v1 version header.
var v1VersionCommand = wire.CommandBytes(wire.CmdVersion)

// Events of v2 connections.
const (
	EventV2    = "v2"    // the connection switched to v2 (Note: who initiated)
	EventDecoy = "decoy" // a decoy packet was received (Size: its bytes)
	// EventV2Key (In): the other side's first bytes are not a v1 header
	// but (the start of) a v2 key, whether or not the mock speaks v2.
	EventV2Key = "v2-key"
)

// ErrV2Handshake is wrapped by the error of a v2 handshake the other side
// broke (no terminator within the scan limit, a first packet that does not
// authenticate, a version packet that is a decoy forever, ...).
var ErrV2Handshake = errors.New("mockpeer: v2 handshake failed")

// v2State is a connection's v2 session: received bytes not yet consumed,
// the cipher, and what the first packet must authenticate.
type v2State struct {
	c     *bip324.Cipher
	in    []byte // received, unconsumed bytes are in[off:]
	off   int
	aad   []byte // the other side's garbage, AAD of its first packet
	plain []byte // contents being encrypted
	ks    [bip324.LengthLen]byte
	// decoysIn counts the decoys received.
	decoysIn int
	// maxContents is V2.MaxContents, defaulted.
	maxContents int
}

func (v *V2) garbage() []byte {
	if v.GarbageBytes != nil {
		return v.GarbageBytes
	}
	n := v.Garbage
	if v.RandomGarbage {
		n = mrand.IntN(bip324.MaxGarbageLen + 1)
	}
	g := make([]byte, max(n, 0))
	_, _ = rand.Read(g) // never fails (crypto/rand)
	return g
}

// V2Accept is the responder's side of BIP324 with Core's v1 detection: on
// the first 16 bytes a v1 version header leaves the connection in v1 for
// the steps that follow; another network's v1 header closes it ("V1 peer
// with wrong MessageStart"); anything else is an initiator's key: the mock
// sends its key and garbage, then (once the key is in) its terminator and
// version packet, and reads the other side's garbage, terminator and
// version packet. The steps that follow then send and read messages in
// encrypted packets. A v2 handshake the other side breaks fails the step
// (ErrV2Handshake) and closes the connection, as Core would.
func V2Accept(v V2) Step {
	return newStep("V2Accept()", func(c *Conn, within time.Duration) error {
		deadline, within := c.deadline(within)
		_, err := c.acceptV2(&v, deadline)
		return v2StepError(err, within)
	})
}

// V2Connect is the initiator's side of BIP324: our key and garbage, the
// other side's key, our terminator and version packet, the other side's
// garbage, terminator and version packet. Then steps speak in packets.
func V2Connect(v V2) Step {
	return newStep("V2Connect()", func(c *Conn, within time.Duration) error {
		deadline, within := c.deadline(within)
		if err := c.v2Handshake(&v, true, nil, deadline); err != nil {
			return v2StepError(c.v2Failed(err), within)
		}
		return nil
	})
}

// ConnectV2 is V2Connect's handshake inside a Do step, within the step
// timeout: for a probe, the other side leaving during the handshake is a
// reaction to observe, not a failed step. The error is the read's
// (io.EOF, a reset), ErrV2Handshake's or the deadline's.
func (c *Conn) ConnectV2(v V2) error {
	deadline, _ := c.deadline(0)
	if err := c.v2Handshake(&v, true, nil, deadline); err != nil {
		return c.v2Failed(err)
	}
	return nil
}

// Packet is a v2 packet spelled out, for SendPacket.
type Packet struct {
	// Contents are the packet's contents: a message type (a short id, or
	// 0 and 12 command bytes) and a payload, or anything at all.
	Contents []byte
	// Ignore sets the ignore bit (a decoy).
	Ignore bool
	// Declared, when positive, is the length the length field declares in
	// place of len(Contents); only the 3-byte field and Contents as they
	// are (unencrypted, the rest of a lie) are sent then.
	Declared int
}

// SendPacket writes one v2 packet, in one Write call. The connection must
// be in v2 (after V2Accept or V2Connect).
func SendPacket(p Packet) Step {
	return newStep(fmt.Sprintf("SendPacket(%d bytes)", len(p.Contents)), func(c *Conn, _ time.Duration) error {
		return c.WritePacket(p)
	})
}

// WritePacket writes one v2 packet (see Packet) in one Write call.
func (c *Conn) WritePacket(p Packet) error {
	if c.v2 == nil {
		return errors.New("mockpeer: WritePacket on a v1 connection (V2Accept or V2Connect first)")
	}
	var b []byte
	if p.Declared > 0 {
		// The length field's keystream is what a packet with empty
		// contents shows in its field: XOR the declared length into it,
		// without encrypting (and allocating) that many bytes.
		b, _ = c.v2.c.Encrypt(nil, nil, nil, false)
		n := p.Declared
		b = append(b[:0], b[0]^byte(n), b[1]^byte(n>>8), b[2]^byte(n>>16))
		b = append(b, p.Contents...)
	} else {
		var err error
		if b, err = c.v2.c.Encrypt(nil, p.Contents, nil, p.Ignore); err != nil {
			return err
		}
	}
	err := c.write(b)
	c.recordOut("", b, c.writes, true, err)
	return err
}

// V2Session is the v2 session id, or false on a v1 connection.
func (c *Conn) V2Session() ([bip324.SessionIDLen]byte, bool) {
	if c.v2 == nil {
		return [bip324.SessionIDLen]byte{}, false
	}
	return c.v2.c.SessionID(), true
}

// acceptV2 detects v1 and, for a v2 initiator, runs the responder's
// handshake. It reports whether the connection is now in v2. A v1 header
// for another network closes the connection (nil error, as for a profile
// that disconnects).
func (c *Conn) acceptV2(v *V2, deadline time.Time) (bool, error) {
	if v.EarlyKey {
		if err := c.v2Handshake(v, false, nil, deadline); err != nil {
			return false, c.v2Failed(err)
		}
		return true, nil
	}
	first, det, err := c.detect(deadline)
	switch {
	case err != nil:
		return false, c.readEnded(err, time.Now())
	case det == bip324.V1:
		return false, nil
	case det == bip324.V1OtherNetwork && !v.LateV1Check:
		c.recordEvent(EventClose, "v1 header with another network's magic (Core: V1 peer with wrong MessageStart)", nil)
		_ = c.Close()
		return false, nil
	}
	if err := c.v2Handshake(v, false, first, deadline); err != nil {
		return false, c.v2Failed(err)
	}
	return true, nil
}

// detect reads the first bytes until bip324.Detect decides. For a v1
// initiator the bytes go to the v1 reader, which parses them as if it had
// read them itself: the v1 path costs no allocation (the scratch buffer is
// pooled) and no more reads than before, the first read taking as much as
// the reader's would. For a v2 initiator they are returned.
func (c *Conn) detect(deadline time.Time) ([]byte, bip324.Detection, error) {
	if err := c.setReadDeadline(deadline); err != nil {
		return nil, 0, err
	}
	bp := c.env.getBuf()
	defer func() { c.env.putBuf(bp, (*bp)[:0]) }()
	buf := (*bp)[:readerSize]
	n := 0
	for {
		k, err := c.nc.Read(buf[n:])
		n += k
		if k > 0 {
			c.lastRead = time.Now()
		}
		det := bip324.Detect(buf[:n], c.env.network())
		switch det {
		case bip324.V1:
			c.pre.b = buf[:n]
			_, _ = c.r.FillFrom(&c.pre)
			c.pre.b = nil
			return nil, det, nil
		case bip324.V2:
			c.env.record(Record{Time: c.lastRead, Conn: c.index, Dir: In, Event: EventV2Key})
			// Core sends its key at the first byte that differs from a
			// v1 header (it tells another network's v1 header at 16).
			return bytes.Clone(buf[:n]), det, nil
		case bip324.V1OtherNetwork:
			// A responder with LateV1Check takes them for a key first.
			return bytes.Clone(buf[:n]), det, nil
		}
		if err != nil {
			return nil, det, err
		}
	}
}

// byteSrc hands the detected bytes to the v1 reader in one Read.
type byteSrc struct{ b []byte }

func (s *byteSrc) Read(p []byte) (int, error) {
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// v2Failed closes the connection after a v2 handshake the other side
// broke, and classifies read errors as Next does.
func (c *Conn) v2Failed(err error) error {
	switch {
	case errors.Is(err, errClosing):
		return err
	case errors.Is(err, ErrV2Handshake):
		c.recordEvent(EventClose, err.Error(), nil)
		_ = c.Close()
		return err
	}
	return c.readEnded(err, time.Now())
}

// v2StepError is a step's error for what acceptV2 or v2Failed returned.
func v2StepError(err error, within time.Duration) error {
	if err == nil || errors.Is(err, ErrV2Handshake) {
		return err
	}
	return waitError(err, "in the v2 handshake", within, nil)
}

// v2Handshake runs the handshake; first are bytes already received (the
// start of the initiator's key, for a responder after detection).
func (c *Conn) v2Handshake(v *V2, initiator bool, first []byte, deadline time.Time) error {
	key, err := bip324.NewKey()
	if err != nil {
		return err
	}
	st := &v2State{in: first, maxContents: v.MaxContents}
	if st.maxContents <= 0 {
		st.maxContents = bip324.MaxContentsLen
	}
	garbage := v.garbage()
	hello := append(append(make([]byte, 0, bip324.KeyLen+len(garbage)+bip324.TerminatorLen), key.EllSwift[:]...), garbage...)
	late := v.TerminatorPrefix > 0 && !initiator
	// Core sends its key and garbage as soon as it knows the peer speaks
	// v2, and its terminator and version packet once the peer's whole key
	// is in: a key that came whole with the first bytes is answered with
	// all four in one segment (recorded: the v2-key probe got 180 bytes
	// in one segment, btcd's handshake with Core 849). A responder does the
	// same; dribbled or late hellos, a hello without a terminator, and
	// btcd's order (key and garbage, then the other side's key checked,
	// then the rest: LateV1Check) keep their own writes.
	whole := !initiator && !late && v.Chunk == 0 && !v.NoTerminator && !v.LateV1Check && len(first) >= bip324.KeyLen
	if !late && !whole {
		if err := c.sendHello(hello, v); err != nil {
			return err
		}
	}
	if err := c.setReadDeadline(deadline); err != nil {
		return err
	}
	if err := c.v2fill(st, bip324.KeyLen); err != nil {
		return err
	}
	theirs := [bip324.KeyLen]byte(st.in[st.off:])
	st.off += bip324.KeyLen
	if !initiator && v.LateV1Check && bytes.Equal(theirs[4:bip324.DetectSize], v1VersionCommand[:]) {
		return fmt.Errorf("%w: a v1 version header with another network's magic (btcd: peer is v1 and using the wrong network)", ErrV2Handshake)
	}
	net := c.env.network()
	if v.OtherNetwork {
		net = wire.Testnet3
		if c.env.network() == wire.Testnet3 {
			net = wire.Mainnet
		}
	}
	cipher, err := bip324.NewCipher(key, theirs, initiator, net)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrV2Handshake, err)
	}
	st.c = cipher
	if late {
		term := cipher.SendTerminator()
		k := min(v.TerminatorPrefix, bip324.TerminatorLen-1)
		hello = append(hello, term[:k]...)
		garbage = hello[bip324.KeyLen:]
		if err := c.sendHello(hello, v); err != nil {
			return err
		}
	}
	if initiator {
		c.env.record(Record{Time: c.lastRead, Conn: c.index, Dir: In, Event: EventV2Key})
	}
	if v.NoTerminator {
		c.recordEvent(EventHalfClose, "v2: key and garbage sent, no terminator", nil)
		c.v2 = nil
		return nil
	}
	out := make([]byte, 0, bip324.TerminatorLen+len(v.VersionContents)+(v.DecoysBefore+v.DecoysAfter)*(v.DecoySize+bip324.Expansion)+bip324.Expansion)
	term := cipher.SendTerminator()
	if v.WrongTerminator {
		for i := range term {
			term[i] ^= 0x5a
		}
	}
	out = append(out, term[:]...)
	aad := garbage
	switch {
	case v.NoAAD:
		aad = nil
	case v.TamperAAD:
		aad = append(bytes.Clone(garbage), 0x01)
	}
	decoy := make([]byte, v.DecoySize)
	for range v.DecoysBefore {
		out, _ = cipher.Encrypt(out, decoy, aad, true)
		aad = nil
	}
	if out, err = cipher.Encrypt(out, v.VersionContents, aad, false); err != nil {
		return err
	}
	for range v.DecoysAfter {
		out, _ = cipher.Encrypt(out, decoy, nil, true)
	}
	if whole {
		out = append(hello, out...)
	}
	err = c.write(out)
	c.recordOut("", out, c.writes, true, err)
	if err != nil {
		return err
	}
	// The other side's garbage and terminator, searched within the limit.
	limit := v.ScanLimit
	if limit <= 0 {
		limit = bip324.MaxGarbageLen + bip324.TerminatorLen
	}
	for {
		buf := st.in[st.off:]
		if len(buf) > limit {
			buf = buf[:limit]
		}
		if g, found, _ := cipher.FindTerminator(buf); found {
			st.aad = bytes.Clone(buf[:g])
			st.off += g + bip324.TerminatorLen
			break
		}
		if len(buf) >= limit {
			if limit < bip324.MaxGarbageLen+bip324.TerminatorLen {
				// btcd's scan (ScanLimit) compares 4,110 bytes but reads a
				// 4,111th before it gives up: until that byte comes, it
				// waits (real btcd --v2transport, probe v2-4110-zero-bytes).
				if err := c.v2fill(st, limit+1); err != nil {
					return err
				}
			}
			return fmt.Errorf("%w: no garbage terminator in %d bytes", ErrV2Handshake, limit)
		}
		if err := c.v2fill(st, len(buf)+1); err != nil {
			return err
		}
	}
	// Its version packet, after any decoys.
	c.v2 = st
	for {
		contents, ignore, err := c.v2packet(st)
		if err != nil {
			c.v2 = nil
			if _, ok := errors.AsType[*wire.FrameError](err); ok {
				return fmt.Errorf("%w: version packet: %v", ErrV2Handshake, err)
			}
			return err
		}
		if !ignore {
			_ = contents // ignored, as BIP324 says of version packet contents
			role := "responder"
			if initiator {
				role = "initiator"
			}
			c.recordEvent(EventV2, role, nil)
			return nil
		}
		st.decoysIn++
	}
}

// sendHello writes our key and garbage, dribbled if v says so.
func (c *Conn) sendHello(hello []byte, v *V2) error {
	if v.Chunk > 0 {
		return c.dribble(hello, v.Chunk, v.ChunkDelay, nil, nil)
	}
	return c.WriteRaw(hello)
}

// v2fill makes sure n unconsumed bytes are buffered. The buffer grows
// with what arrives (at most doubling), never to a length the other side
// only declared.
func (c *Conn) v2fill(st *v2State, n int) error {
	for len(st.in)-st.off < n {
		if st.off > 0 && cap(st.in)-st.off < n {
			st.in = append(st.in[:0], st.in[st.off:]...)
			st.off = 0
		}
		if len(st.in) == cap(st.in) {
			// Doubling (a byte-by-byte terminator search must not copy
			// its buffer per byte), up to what is needed past 8 KiB.
			grown := make([]byte, len(st.in), min(max(2*cap(st.in), 4096), max(st.off+n, 8192)))
			copy(grown, st.in)
			st.in = grown
		}
		k, err := c.nc.Read(st.in[len(st.in):cap(st.in)])
		st.in = st.in[:len(st.in)+k]
		if k > 0 {
			c.lastRead = time.Now()
		}
		if err != nil && len(st.in)-st.off < n {
			return err
		}
	}
	return nil
}

// v2packet reads and decrypts the next packet; its contents alias the
// buffer until the next read. Packet errors are *wire.FrameError (fatal).
func (c *Conn) v2packet(st *v2State) ([]byte, bool, error) {
	if err := c.v2fill(st, bip324.LengthLen); err != nil {
		return nil, false, err
	}
	n, err := st.c.DecryptLength([bip324.LengthLen]byte(st.in[st.off:]))
	if err != nil && !(errors.Is(err, bip324.ErrPacketTooLarge) && n <= st.maxContents) {
		return nil, false, &wire.FrameError{Err: err, Detail: fmt.Sprintf("%d bytes declared", n)}
	}
	st.off += bip324.LengthLen
	rest := n + bip324.Expansion - bip324.LengthLen
	if err := c.v2fill(st, rest); err != nil {
		return nil, false, err
	}
	pkt := st.in[st.off : st.off+rest]
	st.off += rest
	contents, ignore, err := st.c.Decrypt(pkt, st.aad)
	if err != nil {
		return nil, false, &wire.FrameError{Err: err}
	}
	st.aad = nil
	return contents, ignore, nil
}

// nextV2 is Next on a v2 connection: the next non-decoy packet as an
// Incoming.
func (c *Conn) nextV2(deadline time.Time) (Incoming, error) {
	st := c.v2
	if err := c.setReadDeadline(deadline); err != nil {
		return Incoming{}, c.readEnded(err, time.Now())
	}
	for {
		contents, ignore, err := c.v2packet(st)
		if err != nil {
			if fe, ok := errors.AsType[*wire.FrameError](err); ok {
				c.fatal = fe
				in := Incoming{Err: fe, Fatal: true, Time: c.lastRead}
				c.recordIn(in, 0)
				return in, nil
			}
			// The end is now: lastRead is when the last bytes came.
			return Incoming{}, c.readEnded(err, time.Now())
		}
		if ignore {
			st.decoysIn++
			c.env.record(Record{Time: c.lastRead, Conn: c.index, Dir: In, Event: EventDecoy, Size: len(contents) + bip324.Expansion})
			continue
		}
		size := len(contents) + bip324.Expansion
		cmd, payload, perr := bip324.ParseContents(contents)
		in := Incoming{Command: cmd, Payload: payload, Declared: uint32(len(payload)), Time: c.lastRead}
		if perr != nil {
			// Core drops the message and keeps the connection.
			in.Err = &wire.FrameError{Err: perr, Command: cmd, Recoverable: true}
			c.recordIn(in, size)
			return in, nil
		}
		in.Message, in.Err = wire.Decode(cmd, payload)
		if v, ok := in.Message.(*wire.Version); ok {
			c.peerVersion = v
		}
		c.recordIn(in, size)
		if in.Err == nil {
			if routes := c.env.routes.Load(); routes != nil {
				if r, ok := (*routes)[cmd]; ok {
					c.applyRoute(cmd, r, in)
				}
			}
		}
		return in, nil
	}
}

// appendV2 appends m as an encrypted packet.
func (c *Conn) appendV2(b []byte, m wire.Message) []byte {
	st := c.v2
	st.plain = bip324.AppendContents(st.plain[:0], m.Command(), nil)
	st.plain = m.AppendPayload(st.plain)
	// Encrypt fails only over 16 MiB of contents, which no message reaches.
	b, _ = st.c.Encrypt(b, st.plain, nil, false)
	return b
}

// v2Payload is the payload recorded for a message sent in a packet.
func (c *Conn) v2Payload(m wire.Message) []byte {
	if c.env.cfg.record != RecordAll {
		return nil
	}
	return wire.Encode(m)
}

// keyInstead records EventV2Key when the first "frame" a v1 reader
// rejects starts as a v2 key would: a v1-only peer's view of a v2
// initiator, which the witness of a run needs.
func (c *Conn) keyInstead(h wire.Header) {
	var b [bip324.DetectSize]byte
	copy(b[:4], h.Magic[:])
	copy(b[4:], h.Command[:])
	if bip324.Detect(b[:], c.env.network()) == bip324.V2 {
		c.env.record(Record{Time: c.lastRead, Conn: c.index, Dir: In, Event: EventV2Key})
	}
}
