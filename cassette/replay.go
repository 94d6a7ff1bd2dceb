package cassette

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/scenarios"
	"github.com/btc-handshake/btc-handshake/wire"
)

// ReplayOptions configure Replay and Scenario.
type ReplayOptions struct {
	// Speed divides the recorded delays: 1 replays in recorded time, 2
	// twice as fast, 0 as fast as possible (no delays at all). A recording
	// whose client timed out needs its delays (Speed 1) to end the same way.
	Speed float64
	// Wait is how much longer than recorded the replay waits for each of
	// the client's messages and for its close (default: the mock's step
	// timeout).
	Wait time.Duration
}

// ErrReplayMismatch is wrapped by the error of a replay whose live client
// did not send what the recorded client sent.
var ErrReplayMismatch = errors.New("the client departs from the recording")

// Replay returns a script that plays the node's side of cn against a live
// client, as a mockpeer.Server's script: it waits for each message the
// recorded client sent before the node's next segment (matched by
// command: nonces, timestamps and addresses differ from run to run, and
// payloads are not compared), sends the node's recorded bytes with the
// recorded segmentation and delays (scaled by o.Speed), and ends as the
// node did: a close (FIN, sent as a half-close so the client reads it
// before anything the client still says could turn it into a reset) or a
// reset at its recorded time, a wait for the client's own close, or
// holding the connection open. A client message that differs, or a
// client that leaves or falls silent where the recorded one spoke, fails
// the step with ErrReplayMismatch, the message's position and both
// messages.
//
// The one rewrite: where the node's version or pong carried a nonce the
// recorded client had sent (a pong answers a ping; a node echoing the
// client's version nonce looks like a connection to itself), the live
// client's nonce takes its place, checksum re-sealed, so that the live
// client sees what the recorded one saw.
//
// Only v1 connections with bytes can be replayed: a v2 stream is
// encrypted under keys of that session, and messages-only cassettes have
// no bytes.
func Replay(cn Conn, o ReplayOptions) (mockpeer.Script, error) {
	if cn.Transport == TransportV2 {
		return mockpeer.Script{}, fmt.Errorf("conn %d: a v2 connection cannot be replayed from its encrypted bytes", cn.ID)
	}
	hasBytes := false
	for _, e := range cn.Events {
		hasBytes = hasBytes || len(e.Bytes) > 0
	}
	if !hasBytes && len(cn.Events) > 0 {
		return mockpeer.Script{}, fmt.Errorf("conn %d: messages only, no bytes to replay", cn.ID)
	}
	p := newPlayer(cn, o)
	name := fmt.Sprintf("replay of conn %d", cn.ID)
	// Each connection gets its own copy: the stream is rewritten and the
	// nonces are the live client's.
	sc := mockpeer.NewScript(name, mockpeer.Do(func(c *mockpeer.Conn) error { return p.fresh().run(c) }))
	if !p.closes() {
		sc = sc.Then(mockpeer.HoldOpen())
	}
	return sc, nil
}

// Scenario turns cn into a catalog scenario named name whose mock plays
// the node's side (Replay) and whose verdict is what the recorded client
// concluded: complete when the node's version and verack reached it (in
// either order: a tolerant client completes on an early verack) and it
// sent its own verack, otherwise a failure (of any kind). Set Expect
// on the result to override it.
func Scenario(name string, cn Conn, o ReplayOptions) (scenarios.Scenario, error) {
	sc, err := Replay(cn, o)
	if err != nil {
		return scenarios.Scenario{}, err
	}
	s := scenarios.Scenario{Name: name, Script: sc,
		Summary: fmt.Sprintf("replays the node of conn %d (%s, ended %s)", cn.ID, orDash(cn.Node), cn.End.How),
		Origin:  "cassette", Expect: scenarios.Verdict{}}
	if Completed(cn) {
		s.Expect = scenarios.Completes()
	}
	return s, nil
}

// Completed reports whether the recorded client of cn completed the
// handshake: the node's version and verack reached it and it sent its
// verack.
func Completed(cn Conn) bool {
	var nodeVersion, nodeVerack, clientVerack bool
	for _, e := range cn.Events {
		for _, m := range e.Msgs {
			if m.Err != "" {
				continue
			}
			switch {
			case e.From == Node && m.Cmd == wire.CmdVersion:
				nodeVersion = true
			case e.From == Node && m.Cmd == wire.CmdVerack:
				nodeVerack = true
			case e.From == Client && m.Cmd == wire.CmdVerack:
				clientVerack = true
			}
		}
	}
	return nodeVersion && nodeVerack && clientVerack
}

// nonceFrame is a frame of the node's stream that carries a nonce.
type nonceFrame struct {
	start, end int // the frame in the node's stream
	at         int // the nonce's offset in the stream
	nonce      uint64
	sealed     bool // its checksum was valid: re-seal it after a rewrite
}

// player replays one connection's node side.
type player struct {
	cn     Conn
	o      ReplayOptions
	stream []byte // the node's bytes, all segments in order
	frames []nonceFrame
	// live maps a nonce the recorded client sent to the live client's.
	live map[uint64]uint64
}

func newPlayer(cn Conn, o ReplayOptions) *player {
	p := &player{cn: cn, o: o, live: map[uint64]uint64{}}
	for _, e := range cn.Events {
		if e.From == Node {
			p.stream = append(p.stream, e.Bytes...)
		}
	}
	p.findNonces()
	return p
}

// fresh is a copy of p for one connection.
func (p *player) fresh() *player {
	q := *p
	q.stream = append([]byte(nil), p.stream...)
	q.live = map[uint64]uint64{}
	return &q
}

// findNonces lists the node's version and pong frames, as far as its
// stream is v1 framing of any network.
func (p *player) findNonces() {
	if len(p.stream) < decideLen || classify(p.stream[:decideLen]) != TransportV1 {
		return
	}
	net := wire.Network(binary.LittleEndian.Uint32(p.stream))
	const versionNonce = 4 + 8 + 8 + 26 + 26
	for off := 0; len(p.stream)-off >= wire.HeaderSize; {
		h, err := wire.ParseHeader(p.stream[off:off+wire.HeaderSize], net, 0)
		if err != nil {
			return
		}
		end := off + wire.HeaderSize + int(h.Length)
		if end > len(p.stream) {
			return
		}
		payload := p.stream[off+wire.HeaderSize : end]
		at := -1
		switch {
		case h.CommandName() == wire.CmdVersion && len(payload) >= versionNonce+8:
			at = off + wire.HeaderSize + versionNonce
		case h.CommandName() == wire.CmdPong && len(payload) >= 8:
			at = off + wire.HeaderSize
		}
		if at >= 0 {
			p.frames = append(p.frames, nonceFrame{start: off, end: end, at: at,
				nonce: binary.LittleEndian.Uint64(p.stream[at:]), sealed: wire.Checksum(payload) == h.Checksum})
		}
		off = end
	}
}

// closes reports whether the recording has the node close, or the client
// (then the replay waits for the live client's close): otherwise the
// connection was open when the recording stopped.
func (p *player) closes() bool {
	for _, e := range p.cn.Events {
		if e.Close != "" {
			return true
		}
	}
	return false
}

// clock maps recorded times to live ones, from the last point where the
// two were in step (a message received, a segment sent).
type clock struct {
	speed float64
	rec   int64
	live  time.Time
}

func (k *clock) sync(rec int64) { k.rec, k.live = rec, time.Now() }

// due is when the event recorded at rec is due live.
func (k *clock) due(rec int64) time.Time {
	if k.speed <= 0 || rec <= k.rec {
		return k.live
	}
	return k.live.Add(time.Duration(float64(rec-k.rec) / k.speed * float64(time.Microsecond)))
}

func (p *player) wait(c *mockpeer.Conn) time.Duration {
	if p.o.Wait > 0 {
		return p.o.Wait
	}
	return c.StepTimeout()
}

// run plays the connection on c.
func (p *player) run(c *mockpeer.Conn) error {
	k := &clock{speed: p.o.Speed, live: c.Started()}
	pos, sent := 0, 0 // the client's messages matched, the node's bytes sent
	clientGone := false
	for _, e := range p.cn.Events {
		switch {
		case e.From == Client && len(e.Bytes) > 0:
			for _, m := range e.Msgs {
				if m.V2 != "" || clientGone {
					continue
				}
				pos++
				if err := p.expect(c, pos, e.At, m, k.due(e.At).Add(p.wait(c))); err != nil {
					return p.quiet(c, err)
				}
			}
			k.sync(e.At)
		case e.From == Client && e.Close != "":
			if !clientGone {
				if err := p.waitClose(c, k.due(e.At).Add(p.wait(c))); err != nil {
					return p.quiet(c, fmt.Errorf("%w: the recorded client closed (%s) at %s, the live one did not: %v",
						ErrReplayMismatch, e.Close, ms(e.At), err))
				}
				clientGone = true
			}
			k.sync(e.At)
		case e.From == Node && len(e.Bytes) > 0:
			if err := c.Sleep(time.Until(k.due(e.At))); err != nil {
				return p.quiet(c, err)
			}
			p.patch(sent, sent+len(e.Bytes))
			err := c.SendRaw(p.stream[sent : sent+len(e.Bytes)])
			sent += len(e.Bytes)
			k.sync(e.At)
			if err != nil && !clientGone {
				return p.quiet(c, fmt.Errorf("writing the node's bytes at %s: %w", ms(e.At), err))
			}
		case e.From == Node && e.Close != "":
			if err := c.Sleep(time.Until(k.due(e.At))); err != nil {
				return p.quiet(c, err)
			}
			if e.Close == EndRST {
				_ = c.Reset()
				return nil
			}
			// A half-close: the client reads the FIN whatever it still
			// sends; a full close with its bytes unread would be a reset.
			if clientGone {
				return c.Close()
			}
			if err := c.CloseWrite(); err != nil {
				return c.Close()
			}
			k.sync(e.At)
		}
	}
	if p.closes() && !clientGone {
		// The node closed first: the client leaves when it sees it.
		_ = p.waitClose(c, time.Now().Add(p.wait(c)))
	}
	return nil
}

// quiet turns an error into none when the server is closing: a replay
// cut short by Close has not found the client at fault.
func (p *player) quiet(c *mockpeer.Conn, err error) error {
	select {
	case <-c.Done():
		return nil
	default:
		return err
	}
}

// expect reads the client's next message and checks it against m, the
// pos-th message the recorded client sent (at rec).
func (p *player) expect(c *mockpeer.Conn, pos int, rec int64, m Message, deadline time.Time) error {
	in, err := c.Next(deadline)
	if err != nil {
		what := "left"
		if errors.Is(err, os.ErrDeadlineExceeded) {
			what = "sent nothing more"
		}
		return fmt.Errorf("%w: client message %d (recorded at %s): recorded %s; the live client %s (%v)",
			ErrReplayMismatch, pos, ms(rec), Text(messageLine(m)), what, err)
	}
	live := fmt.Sprintf("%s (%d bytes)", in.Command, len(in.Payload))
	if in.Err != nil {
		live += " broken: " + in.Err.Error()
	}
	broken := m.Err != "" && in.Err != nil
	if !broken && (in.Command != m.Cmd || (m.Err != "") != (in.Err != nil)) {
		return fmt.Errorf("%w: client message %d (recorded at %s): recorded %s; the live client sent %s",
			ErrReplayMismatch, pos, ms(rec), Text(messageLine(m)), Text(live))
	}
	switch v := in.Message.(type) {
	case *wire.Version:
		if m.Version != nil {
			p.live[m.Version.Nonce] = v.Nonce
		}
	case *wire.Ping:
		if m.Nonce != nil {
			p.live[*m.Nonce] = v.Nonce
		}
	}
	return nil
}

// waitClose reads (and discards) until the client closes or deadline.
func (p *player) waitClose(c *mockpeer.Conn, deadline time.Time) error {
	for {
		_, err := c.Next(deadline)
		if err == nil {
			continue
		}
		var fe *wire.FrameError
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), isReset(err):
			return nil
		case errors.As(err, &fe):
			// The stream is lost: read what is left as bytes.
			return drainRaw(c, deadline)
		}
		return err
	}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func drainRaw(c *mockpeer.Conn, deadline time.Time) error {
	nc := c.NetConn()
	if err := nc.SetReadDeadline(deadline); err != nil {
		return err
	}
	var buf [512]byte
	for {
		if _, err := nc.Read(buf[:]); err != nil {
			if errors.Is(err, io.EOF) || isReset(err) {
				return nil
			}
			return err
		}
	}
}

// patch puts the live client's nonces into the node's frames that start
// in the stream's bytes [from, to), about to be sent.
func (p *player) patch(from, to int) {
	for _, f := range p.frames {
		if f.start < from || f.start >= to {
			continue
		}
		live, ok := p.live[f.nonce]
		if !ok || live == f.nonce {
			continue
		}
		binary.LittleEndian.PutUint64(p.stream[f.at:], live)
		if f.sealed {
			sum := wire.Checksum(p.stream[f.start+wire.HeaderSize : f.end])
			copy(p.stream[f.start+20:f.start+24], sum[:])
		}
	}
}
