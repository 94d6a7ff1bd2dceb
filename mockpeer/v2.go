package mockpeer

import (
	"bytes"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// V2 says how the mock speaks BIP324's v2 transport (V2Handshake,
// Profile.V2Transport): as the responder after v1 detection on a Server's
// connection, as the initiator on a Dial's. The zero value is a correct peer sending no
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
	// bytes of garbage; V2Transport gives BtcdResponder that limit.
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

// V2Handshake is BIP324's handshake; the steps that follow then send and
// read messages in encrypted packets. On a Server's connection the mock is
// the responder, with Core's v1 detection on the first 16 bytes: a v1
// version header leaves the connection in v1 for the steps that follow;
// another network's v1 header closes it ("V1 peer with wrong
// MessageStart"); anything else is an initiator's key, and the mock sends
// its key and garbage, then (once the key is in) its terminator and version
// packet, and reads the other side's garbage, terminator and version
// packet. On a Dial's connection the mock is the initiator: its key and
// garbage, the other side's key, its terminator and version packet, the
// other side's garbage, terminator and version packet. A v2 handshake the
// other side breaks fails the step (ErrV2Handshake) and closes the
// connection, as Core would.
func V2Handshake(v V2) Step {
	return newStep("V2Handshake()", func(c *Conn, within time.Duration) error {
		deadline, within := c.deadline(within)
		return v2StepError(c.handshakeV2(&v, deadline), within)
	})
}

// V2Handshake is the step V2Handshake inside a Do, within the step
// timeout, for a probe to which the other side leaving during the
// handshake is a reaction to observe, not a failed step. The error is the
// read's (io.EOF, a reset), ErrV2Handshake's or the deadline's.
func (c *Conn) V2Handshake(v V2) error {
	deadline, _ := c.deadline(0)
	return c.handshakeV2(&v, deadline)
}

// handshakeV2 plays the mock's role: the initiator's on a dialled
// connection, the responder's (after v1 detection) on an accepted one.
func (c *Conn) handshakeV2(v *V2, deadline time.Time) error {
	if c.dialed {
		if err := c.v2Handshake(v, true, nil, deadline); err != nil {
			return c.v2Failed(err)
		}
		return nil
	}
	_, err := c.acceptV2(v, deadline)
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
// read them itself: the v1 path costs no allocation beyond the connection's
// write buffer (Conn.wbuf) and no more reads than before, the first read taking as much as
// the reader's would. For a v2 initiator they are returned.
func (c *Conn) detect(deadline time.Time) ([]byte, bip324.Detection, error) {
	if err := c.setReadDeadline(deadline); err != nil {
		return nil, 0, err
	}
	buf := slices.Grow(c.wbuf[:0], readerSize)[:readerSize]
	defer c.keepBuf(buf)
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
			c.env.record(Record{Time: c.lastRead, Conn: c.index, Event: EventV2Key})
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
