package mockpeer

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// v2hello is our side of a handshake in progress: the key and garbage to
// send, and whether they went out yet.
type v2hello struct {
	v         *V2
	initiator bool
	key       bip324.Key
	hello     []byte // our key, garbage (and, late, a terminator prefix)
	garbage   []byte // the garbage part of hello
	// late: the hello waits for the other side's key (TerminatorPrefix).
	late bool
	// whole: the hello goes out with the terminator and version packet.
	whole bool
}

// v2Handshake runs the handshake; first are bytes already received (the
// start of the initiator's key, for a responder after detection).
func (c *Conn) v2Handshake(v *V2, initiator bool, first []byte, deadline time.Time) error {
	h, err := newV2Hello(v, initiator, first)
	if err != nil {
		return err
	}
	if !h.late && !h.whole {
		if err := c.sendHello(h.hello, v); err != nil {
			return err
		}
	}
	st := &v2State{in: first, maxContents: v.MaxContents}
	if st.maxContents <= 0 {
		st.maxContents = bip324.MaxContentsLen
	}
	if err := c.setReadDeadline(deadline); err != nil {
		return err
	}
	if err := c.v2Cipher(st, h); err != nil {
		return err
	}
	if initiator {
		c.env.record(Record{Time: c.lastRead, Conn: c.index, Event: EventV2Key})
	}
	if v.NoTerminator {
		c.recordEvent(EventHalfClose, "v2: key and garbage sent, no terminator", nil)
		c.v2 = nil
		return nil
	}
	if err := c.sendTerminator(st.c, h); err != nil {
		return err
	}
	if err := c.findTerminator(st, v.ScanLimit); err != nil {
		return err
	}
	return c.readVersionPacket(st, initiator)
}

func newV2Hello(v *V2, initiator bool, first []byte) (*v2hello, error) {
	key, err := bip324.NewKey()
	if err != nil {
		return nil, err
	}
	h := &v2hello{v: v, initiator: initiator, key: key, garbage: v.garbage()}
	h.hello = append(append(make([]byte, 0, bip324.KeyLen+len(h.garbage)+bip324.TerminatorLen), key.EllSwift[:]...), h.garbage...)
	h.late = v.TerminatorPrefix > 0 && !initiator
	// Core sends its key and garbage as soon as it knows the peer speaks
	// v2, and its terminator and version packet once the peer's whole key
	// is in: a key that came whole with the first bytes is answered with
	// all four in one segment (recorded: the v2-key probe got 180 bytes
	// in one segment, btcd's handshake with Core 849). A responder does the
	// same; dribbled or late hellos, a hello without a terminator, and
	// btcd's order (key and garbage, then the other side's key checked,
	// then the rest: LateV1Check) keep their own writes.
	h.whole = !initiator && !h.late && v.Chunk == 0 && !v.NoTerminator && !v.LateV1Check && len(first) >= bip324.KeyLen
	return h, nil
}

// v2Cipher reads the other side's key and sets up the cipher; a late
// hello goes out then, ending with a prefix of our terminator.
func (c *Conn) v2Cipher(st *v2State, h *v2hello) error {
	if err := c.v2fill(st, bip324.KeyLen); err != nil {
		return err
	}
	theirs := [bip324.KeyLen]byte(st.in[st.off:])
	st.off += bip324.KeyLen
	v := h.v
	if !h.initiator && v.LateV1Check && bytes.Equal(theirs[4:bip324.DetectSize], v1VersionCommand[:]) {
		return fmt.Errorf("%w: a v1 version header with another network's magic (btcd: peer is v1 and using the wrong network)", ErrV2Handshake)
	}
	net := c.env.network()
	if v.OtherNetwork {
		net = wire.Testnet3
		if c.env.network() == wire.Testnet3 {
			net = wire.Mainnet
		}
	}
	cipher, err := bip324.NewCipher(h.key, theirs, h.initiator, net)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrV2Handshake, err)
	}
	st.c = cipher
	if !h.late {
		return nil
	}
	term := cipher.SendTerminator()
	k := min(v.TerminatorPrefix, bip324.TerminatorLen-1)
	h.hello = append(h.hello, term[:k]...)
	h.garbage = h.hello[bip324.KeyLen:]
	return c.sendHello(h.hello, v)
}

// sendTerminator writes our terminator and version packet, with the
// decoys and defects V2 asks for (and the hello, when whole).
func (c *Conn) sendTerminator(cipher *bip324.Cipher, h *v2hello) error {
	v := h.v
	out := make([]byte, 0, bip324.TerminatorLen+len(v.VersionContents)+(v.DecoysBefore+v.DecoysAfter)*(v.DecoySize+bip324.Expansion)+bip324.Expansion)
	term := cipher.SendTerminator()
	if v.WrongTerminator {
		for i := range term {
			term[i] ^= 0x5a
		}
	}
	out = append(out, term[:]...)
	aad := h.garbage
	switch {
	case v.NoAAD:
		aad = nil
	case v.TamperAAD:
		aad = append(bytes.Clone(h.garbage), 0x01)
	}
	decoy := make([]byte, v.DecoySize)
	for range v.DecoysBefore {
		out, _ = cipher.Encrypt(out, decoy, aad, true)
		aad = nil
	}
	var err error
	if out, err = cipher.Encrypt(out, v.VersionContents, aad, false); err != nil {
		return err
	}
	for range v.DecoysAfter {
		out, _ = cipher.Encrypt(out, decoy, nil, true)
	}
	if h.whole {
		out = append(h.hello, out...)
	}
	err = c.write(out)
	c.recordOut("", out, c.writes, true, err)
	return err
}

// findTerminator searches the other side's garbage for its terminator
// within limit bytes (0: BIP324's 4095+16).
func (c *Conn) findTerminator(st *v2State, limit int) error {
	if limit <= 0 {
		limit = bip324.MaxGarbageLen + bip324.TerminatorLen
	}
	for {
		buf := st.in[st.off:]
		if len(buf) > limit {
			buf = buf[:limit]
		}
		if g, found, _ := st.c.FindTerminator(buf); found {
			st.aad = bytes.Clone(buf[:g])
			st.off += g + bip324.TerminatorLen
			return nil
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
}

// readVersionPacket reads the other side's version packet, after any
// decoys; the connection is in v2 once it is in.
func (c *Conn) readVersionPacket(st *v2State, initiator bool) error {
	c.v2 = st
	for {
		// The contents are ignored, as BIP324 says of version packets.
		_, ignore, err := c.v2packet(st)
		if err != nil {
			c.v2 = nil
			if _, ok := errors.AsType[*wire.FrameError](err); ok {
				return fmt.Errorf("%w: version packet: %v", ErrV2Handshake, err)
			}
			return err
		}
		if !ignore {
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
	err := c.write(hello)
	c.recordOut("", hello, c.writes, true, err)
	return err
}
