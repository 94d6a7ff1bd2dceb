package mockpeer

import (
	"errors"
	"fmt"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// appendPacket appends p as the connection's cipher sends it.
func (c *Conn) appendPacket(b []byte, p bip324.Packet) []byte {
	// AppendTo fails only over 16 MiB of contents.
	b, _ = p.AppendTo(b, c.v2.c)
	return b
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
			c.env.record(Record{Time: c.lastRead, Conn: c.index, Event: EventDecoy, Size: len(contents) + bip324.Expansion})
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
	if c.env.cfg.record != recordAll {
		return nil
	}
	return m.AppendPayload(nil)
}

// keyInstead records EventV2Key when the first "frame" a v1 reader
// rejects starts as a v2 key would: a v1-only peer's view of a v2
// initiator, which the witness of a run needs.
func (c *Conn) keyInstead(h wire.Header) {
	var b [bip324.DetectSize]byte
	copy(b[:4], h.Magic[:])
	copy(b[4:], h.Command[:])
	if bip324.Detect(b[:], c.env.network()) == bip324.V2 {
		c.env.record(Record{Time: c.lastRead, Conn: c.index, Event: EventV2Key})
	}
}
