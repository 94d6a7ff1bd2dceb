package mockpeer

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// writeMode is how a step or a profile writes the messages it sends
// (Step.Coalesced, Step.Split, Step.Separately and Profile's).
type writeMode uint8

const (
	writeEach      writeMode = iota // one Write call per message
	writeCoalesced                  // all in one Write call
	writeSplit                      // header and payload apart
)

// writing is how a step writes: a mode, or chunks of bytes with delays.
type writing struct {
	mode  writeMode
	chunk int // > 0: dribble chunk bytes at a time, delay apart
	delay time.Duration
}

// Send writes each message as a valid frame (an encrypted packet on a v2
// connection), one Write call per message unless Step.Coalesced, Step.Split
// or Step.Dribble says otherwise. A Packet among them is sent as it is spelled
// out.
func Send(msgs ...wire.Message) Step {
	return newStep("Send("+commandList(msgs)+")", func(c *Conn, _ time.Duration) error {
		return c.Send(msgs...)
	})
}

// SendRaw writes bytes as they are, in one Write call unless Step.Dribble
// says otherwise: a deliberately broken frame (SendRaw(frame.Bytes()) of a
// wire.RawFrame), or a stream that is no frame at all.
func SendRaw(b []byte) Step {
	return newStep(fmt.Sprintf("SendRaw(%d bytes)", len(b)), func(c *Conn, _ time.Duration) error {
		return c.SendRaw(b)
	})
}

// ReplyVersion sends v completed for this connection by Conn.VersionFor:
// the timestamp, addr_recv and a nonce that differs from the other side's
// are filled in when zero. nil sends the mock's default version (70016,
// NETWORK|WITNESS, /mockpeer:0.1.0/, relay).
func ReplyVersion(v *wire.Version) Step {
	var tmpl *wire.Version
	if v != nil {
		cp := *v
		tmpl = &cp
	}
	return newStep("ReplyVersion()", func(c *Conn, _ time.Duration) error {
		return c.Send(c.VersionFor(tmpl))
	})
}

// Send writes msgs as the current step says (Step.Coalesced, Step.Split,
// Step.Dribble; by default one Write call per message), each as a valid frame, or an
// encrypted packet on a v2 connection. A bip324.Packet is sent as spelled out.
func (c *Conn) Send(msgs ...wire.Message) error { return c.send(c.w, msgs) }

func (c *Conn) send(w writing, msgs []wire.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if c.v2 == nil {
		for _, m := range msgs {
			if _, ok := m.(bip324.Packet); ok {
				return errors.New("mockpeer: a bip324.Packet on a v1 connection (V2Handshake first)")
			}
		}
	}
	switch {
	case w.chunk > 0:
		return c.dribbleMessages(msgs, w)
	case w.mode == writeCoalesced:
		return c.coalesce(msgs)
	case w.mode == writeSplit:
		return c.sendSplit(msgs)
	}
	for i := range msgs {
		if err := c.coalesce(msgs[i : i+1]); err != nil {
			return err
		}
	}
	return nil
}

// SendRaw writes b as it is, in one Write call unless the step dribbles.
func (c *Conn) SendRaw(b []byte) error {
	if c.w.chunk > 0 {
		return c.dribble(b, c.w.chunk, c.w.delay, nil, nil)
	}
	err := c.write(b)
	c.recordOut("", b, c.writes, true, err)
	return err
}

// coalesce writes all messages in a single Write call, so that they leave
// in one TCP segment when they fit.
func (c *Conn) coalesce(msgs []wire.Message) error {
	b := c.wbuf[:0]
	var endsArr [16]int
	ends := endsArr[:0]
	for _, m := range msgs {
		b = c.appendMessage(b, m)
		ends = append(ends, len(b))
	}
	err := c.write(b)
	start := 0
	for i, m := range msgs {
		c.recordMessage(m, b[start:ends[i]], c.writes, err)
		start = ends[i]
	}
	c.keepBuf(b)
	return err
}

// sendSplit writes each message's header and payload in separate Write
// calls, as btcd does.
func (c *Conn) sendSplit(msgs []wire.Message) error {
	for _, m := range msgs {
		b := c.appendMessage(c.wbuf[:0], m)
		// A packet's length field stands for its header.
		head := wire.HeaderSize
		if c.v2 != nil {
			head = bip324.LengthLen
		}
		err := c.write(b[:head])
		first := c.writes
		if err == nil && len(b) > head {
			err = c.write(b[head:])
		}
		c.recordMessage(m, b, first, err)
		c.keepBuf(b)
		if err != nil {
			return err
		}
	}
	return nil
}

// dribbleMessages encodes msgs and writes them w.chunk bytes at a time;
// each message is recorded when its last byte has been written.
func (c *Conn) dribbleMessages(msgs []wire.Message, w writing) error {
	var b []byte
	cmds := make([]string, len(msgs))
	ends := make([]int, len(msgs))
	for i, m := range msgs {
		b = c.appendMessage(b, m)
		cmds[i], ends[i] = m.Command(), len(b)
	}
	return c.dribble(b, w.chunk, w.delay, cmds, ends)
}

// appendMessage appends m as a v1 frame or, on a v2 connection, as an
// encrypted packet: the one seam between the transports on the way out.
func (c *Conn) appendMessage(b []byte, m wire.Message) []byte {
	if c.v2 != nil {
		if p, ok := m.(bip324.Packet); ok {
			return c.appendPacket(b, p)
		}
		return c.appendV2(b, m)
	}
	return wire.AppendMessage(b, c.env.network(), m)
}

// recordMessage records m sent as frame (a v1 frame or a v2 packet).
func (c *Conn) recordMessage(m wire.Message, frame []byte, write int, err error) {
	if c.v2 == nil {
		c.recordOut(m.Command(), frame, write, false, err)
		return
	}
	if _, ok := m.(bip324.Packet); ok {
		c.recordOut("", frame, write, true, err)
		return
	}
	if c.env.dropsFrame(err) {
		return
	}
	c.env.record(Record{Time: time.Now(), Conn: c.index, Out: true, Command: m.Command(), Payload: c.v2Payload(m),
		Size: len(frame), Write: write, Err: err})
}

// write performs one Write call with a deadline, and clears it after.
func (c *Conn) write(b []byte) error {
	if c.closed {
		return net.ErrClosed
	}
	c.writes++
	armed := false
	if c.stepWithin > 0 {
		// Almost every write fits in the socket buffer at once: try it
		// without a deadline (arming one reads the clock twice and moves
		// a timer), and arm it only for the rest of a write that would
		// block.
		n, all := c.tryWrite(b)
		if all {
			return nil
		}
		b = b[n:]
		armed = true
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.stepWithin))
	}
	_, err := c.nc.Write(b)
	if armed {
		_ = c.nc.SetWriteDeadline(time.Time{})
	}
	if err != nil && c.env.closing() {
		return errClosing
	}
	return err
}

// dribble writes b in chunks of chunk bytes with delay between writes.
// Frames listed in cmds/ends (end offsets in b) are recorded as messages
// when their last byte is written; otherwise each chunk is recorded raw.
func (c *Conn) dribble(b []byte, chunk int, delay time.Duration, cmds []string, ends []int) error {
	chunk = max(chunk, 1)
	next, start := 0, 0
	for off := 0; off < len(b); off += chunk {
		if off > 0 && delay > 0 {
			if err := c.Sleep(delay); err != nil {
				return err
			}
		}
		end := min(off+chunk, len(b))
		err := c.write(b[off:end])
		if cmds == nil {
			c.recordOut("", b[off:end], c.writes, true, err)
		}
		for next < len(ends) && (ends[next] <= end || err != nil) {
			c.recordOut(cmds[next], b[start:ends[next]], c.writes, false, err)
			start = ends[next]
			next++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Sleep waits d, or less if the Server closes (then it returns an error).
// It does not read: what the other side sends meanwhile waits in the
// socket, and routes do not answer.
func (c *Conn) Sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	select {
	case <-t.C:
		return nil
	case <-c.env.done:
		t.Stop()
		return errClosing
	}
}

func commandList(msgs []wire.Message) string {
	names := make([]string, len(msgs))
	for i, m := range msgs {
		names[i] = m.Command()
		if names[i] == "" {
			names[i] = "packet"
		}
	}
	if len(names) > 6 {
		return fmt.Sprintf("%s, ... %d messages", strings.Join(names[:5], ", "), len(names))
	}
	return strings.Join(names, ", ")
}

// keepBuf keeps b's array as the connection's write buffer for its next
// write; a buffer a burst of thousands of messages grew is let go.
func (c *Conn) keepBuf(b []byte) {
	if cap(b) > 64<<10 {
		c.wbuf = nil
		return
	}
	c.wbuf = b[:0]
}
