package mockpeer

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"slices"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Reaction answers one received message: it returns the messages to send
// (written as the profile writes, after its send rules) and an error.
// Returning ErrDisconnect closes the connection after the replies are
// written; any other error fails the step. Reactions read and update the
// connection's State.
type Reaction func(c *Conn, in Incoming) ([]wire.Message, error)

// Reply is a reaction that sends msgs; Reply() ignores the message.
func Reply(msgs ...wire.Message) Reaction {
	return func(*Conn, Incoming) ([]wire.Message, error) { return msgs, nil }
}

// ThenDisconnect returns r closing the connection after its replies are
// written (unless it fails): Reply(msgs...).ThenDisconnect() sends msgs and
// hangs up, Reply().ThenDisconnect() just hangs up, and
// p.Reaction(cmd).ThenDisconnect() hangs up after a profile's own answer.
func (r Reaction) ThenDisconnect() Reaction {
	return func(c *Conn, in Incoming) ([]wire.Message, error) {
		msgs, err := r(c, in)
		if err == nil {
			err = ErrDisconnect
		}
		return msgs, err
	}
}

// ignore is Reply(): no answer.
func ignore(*Conn, Incoming) ([]wire.Message, error) { return nil, nil }

// disconnect is Reply().ThenDisconnect().
func disconnect(*Conn, Incoming) ([]wire.Message, error) { return nil, ErrDisconnect }

type ruleKind uint8

const (
	ruleWithout ruleKind = iota
	ruleBefore
	ruleAfter
)

type sendRule struct {
	kind ruleKind
	cmds []string
	msgs []wire.Message
}

// Profile is a responder written as one Reaction per received command,
// like the on_<command> callbacks of Bitcoin Core's p2p.py. Profiles are
// values: every modifier returns a changed copy, so quirks are one line on
// top of a faithful profile:
//
//	core := mockpeer.CoreResponder()
//	noVerack := core.Without(wire.CmdVerack)
//	early := core.Before(wire.CmdVerack, wire.SendCmpct{Version: 2})
//	rude := core.On(wire.CmdPing, mockpeer.Reply().ThenDisconnect())
type Profile struct {
	name             string
	at               location
	reactions        map[string]Reaction
	otherwise        Reaction
	broken           Reaction
	onConnect        Reaction
	handshakeTimeout time.Duration
	idleTimeout      time.Duration
	w                writing
	rules            []sendRule
	// cfg configures the reactions of CoreResponder and BtcdResponder
	// (Version, FeeRate, V2Transport); nil for newProfile's.
	cfg *profileConfig
	// v2, when set, makes the profile a v2-capable responder: v1 detection
	// on the first bytes, then BIP324 for an initiator's key.
	v2 *V2
}

// newProfile returns a profile that reacts to nothing: every message is
// ignored, a fatal broken frame (wrong magic, oversized) disconnects, and
// there is no timeout. Add reactions with On.
func newProfile(name string) Profile {
	return Profile{name: name, at: callerLocation(), reactions: map[string]Reaction{}, w: writing{mode: writeCoalesced}}
}

// Name is the profile's name.
func (p Profile) Name() string { return p.name }

// Named returns the profile under another name (shown in failures).
func (p Profile) Named(name string) Profile { p.name = name; return p }

// On returns the profile with r as the reaction to cmd.
func (p Profile) On(cmd string, r Reaction) Profile {
	p.reactions = maps.Clone(p.reactions)
	if p.reactions == nil {
		p.reactions = map[string]Reaction{}
	}
	p.reactions[cmd] = r
	return p
}

// Otherwise returns the profile with r as the reaction to commands that
// have none of their own.
func (p Profile) Otherwise(r Reaction) Profile { p.otherwise = r; return p }

// OnBroken returns the profile with r as the reaction to broken frames
// (Incoming.Err set; Incoming.Fatal when the stream is out of sync, in
// which case the connection is drained until it closes if r keeps it).
func (p Profile) OnBroken(r Reaction) Profile { p.broken = r; return p }

// OnConnect returns the profile with r run once before anything is read
// (Incoming is zero), for peers that speak first.
func (p Profile) OnConnect(r Reaction) Profile { p.onConnect = r; return p }

// Reaction returns the profile's reaction to cmd (or its Otherwise, or
// Reply()), to wrap it in an override.
func (p Profile) Reaction(cmd string) Reaction { return p.reaction(cmd) }

// reaction is Reaction through a pointer: the read loop looks a reaction
// up for every message, and a copy of the Profile in its frame took the
// connection goroutine's stack past its first 4 KB (a held pair's RSS,
// BENCHMARKS.md).
func (p *Profile) reaction(cmd string) Reaction {
	if r, ok := p.reactions[cmd]; ok {
		return r
	}
	if p.otherwise != nil {
		return p.otherwise
	}
	return ignore
}

// HandshakeTimeout returns the profile closing the connection when it is
// not Established d after it was accepted (0: never).
func (p Profile) HandshakeTimeout(d time.Duration) Profile { p.handshakeTimeout = d; return p }

// IdleTimeout returns the profile closing an Established connection that
// sends nothing for d (0: never).
func (p Profile) IdleTimeout(d time.Duration) Profile { p.idleTimeout = d; return p }

// Coalesced returns the profile writing each reply's messages in one Write
// call, so that they arrive together (as a client often finds a real
// peer's messages in one read): newProfile's default.
func (p Profile) Coalesced() Profile { p.w.mode = writeCoalesced; return p }

// Separately returns the profile writing each message in a Write call of
// its own: CoreResponder's way.
func (p Profile) Separately() Profile { p.w.mode = writeEach; return p }

// Split returns the profile writing each message's header and payload in
// separate Write calls: BtcdResponder's way.
func (p Profile) Split() Profile { p.w.mode = writeSplit; return p }

// Without returns the profile never sending messages with these commands.
func (p Profile) Without(cmds ...string) Profile {
	return p.withRule(sendRule{kind: ruleWithout, cmds: cmds})
}

// Before returns the profile inserting msgs before the first message with
// command cmd of any reply, written as the reply is.
func (p Profile) Before(cmd string, msgs ...wire.Message) Profile {
	return p.withRule(sendRule{kind: ruleBefore, cmds: []string{cmd}, msgs: msgs})
}

// After returns the profile inserting msgs after the first message with
// command cmd of any reply, written as the reply is.
func (p Profile) After(cmd string, msgs ...wire.Message) Profile {
	return p.withRule(sendRule{kind: ruleAfter, cmds: []string{cmd}, msgs: msgs})
}

func (p Profile) withRule(r sendRule) Profile {
	p.rules = append(slices.Clip(p.rules), r)
	return p
}

func (p *Profile) rewrite(msgs []wire.Message) []wire.Message {
	for _, r := range p.rules {
		switch r.kind {
		case ruleWithout:
			msgs = slices.DeleteFunc(slices.Clone(msgs), func(m wire.Message) bool {
				return slices.Contains(r.cmds, m.Command())
			})
		case ruleBefore, ruleAfter:
			i := slices.IndexFunc(msgs, func(m wire.Message) bool { return m.Command() == r.cmds[0] })
			if i < 0 {
				continue
			}
			if r.kind == ruleAfter {
				i++
			}
			msgs = slices.Insert(slices.Clone(msgs), i, r.msgs...)
		}
	}
	return msgs
}

// Step returns the profile as a step: it reads and reacts until the other
// side leaves, a reaction disconnects, a timeout of the profile expires, or
// the server closes. With Within(d) it stops after d and the script goes
// on. It is located where the profile was built.
func (p Profile) Step() Step {
	pp := &p
	return Step{name: fmt.Sprintf("Profile(%q)", p.name), at: p.at, hold: true, w: p.w,
		run: func(c *Conn, within time.Duration) error { return pp.run(c, within) }}
}

// Script returns a script made of the profile's step alone.
func (p Profile) Script() Script {
	return Script{name: p.name, at: p.at, steps: []Step{p.Step()}}
}

// run is the profile's read loop. It stays lean because its frame is on
// the stack of every idle connection.
func (p *Profile) run(c *Conn, within time.Duration) error {
	var limit time.Time
	if within > 0 {
		limit = time.Now().Add(within)
	}
	c.prof = p
	if p.v2 != nil && c.v2 == nil && c.lastRead.Equal(c.start) {
		// Nothing read yet: the first bytes decide the transport.
		deadline, timed := p.deadline(c, limit)
		if _, err := c.acceptV2(p.v2, deadline); err != nil {
			if errors.Is(err, ErrV2Handshake) {
				return nil // Core disconnects; the other side broke it
			}
			return p.ended(c, err, timed, limit)
		}
		if c.closed {
			return nil // another network's v1 header
		}
	}
	if p.onConnect != nil {
		if done, err := p.react(c, p.onConnect, Incoming{Time: time.Now()}); done {
			return err
		}
	}
	for {
		deadline, timed := p.deadline(c, limit)
		in, err := c.Next(deadline)
		if err != nil {
			return p.ended(c, err, timed, limit)
		}
		if done, err := p.react(c, p.reactionFor(in), in); done {
			return err
		}
	}
}

// ended handles the end of the read loop: timed says the deadline was the
// profile's own timeout (not Within's limit).
func (p *Profile) ended(c *Conn, err error, timed bool, limit time.Time) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		if !timed {
			return nil // Within's limit: the script goes on
		}
		why := fmt.Sprintf("no handshake within %v", p.handshakeTimeout)
		if c.state.Established {
			why = fmt.Sprintf("idle for %v", p.idleTimeout)
		}
		c.recordEvent(EventTimeout, why, nil)
		_ = c.Close()
		return nil
	case errors.Is(err, errClosing):
		return errClosing
	case errors.Is(err, net.ErrClosed), peerGone(err):
		return nil
	case isFrameError(err):
		// The profile chose to stay on an out-of-sync stream.
		return c.drainQuietly(limit)
	}
	return err
}

// isFrameError reports a *wire.FrameError in err's chain without the heap
// allocation that errors.As's target costs on every call.
func isFrameError(err error) bool {
	_, ok := errors.AsType[*wire.FrameError](err)
	return ok
}

func (c *Conn) drainQuietly(limit time.Time) error {
	err := c.drain(limit)
	if err == nil || errors.Is(err, errClosing) {
		return err
	}
	return nil
}

// deadline is the next read deadline: the handshake timeout until
// Established, then the idle timeout, or Within's limit when it comes
// first (timed is false then).
func (p *Profile) deadline(c *Conn, limit time.Time) (d time.Time, timed bool) {
	switch {
	case !c.state.Established && p.handshakeTimeout > 0:
		d, timed = c.start.Add(p.handshakeTimeout), true
	case c.state.Established && p.idleTimeout > 0:
		d, timed = time.Now().Add(p.idleTimeout), true
	}
	if !limit.IsZero() && (d.IsZero() || limit.Before(d)) {
		return limit, false
	}
	return d, timed
}

func (p *Profile) reactionFor(in Incoming) Reaction {
	if in.Err != nil {
		if p.broken != nil {
			return p.broken
		}
		if in.Fatal {
			return disconnect
		}
		return ignore
	}
	return p.reaction(in.Command)
}

// react runs r and writes its replies; done reports that the profile's
// step is over (with err, nil when the connection simply ended).
func (p *Profile) react(c *Conn, r Reaction, in Incoming) (done bool, err error) {
	msgs, rerr := r(c, in)
	msgs = p.rewrite(msgs)
	if len(msgs) > 0 {
		werr := c.Send(msgs...)
		switch {
		case werr == nil:
		case errors.Is(werr, errClosing):
			return true, errClosing
		case errors.Is(werr, net.ErrClosed), peerGone(werr):
			return true, nil
		default:
			return true, fmt.Errorf("profile %q writing %s: %w", p.name, commandList(msgs), werr)
		}
	}
	switch {
	case rerr == nil:
		return false, nil // after a fatal frame the next read drains
	case errors.Is(rerr, ErrDisconnect):
		_ = c.Close()
		return true, nil
	}
	return true, fmt.Errorf("profile %q reacting to %s: %w", p.name, describe(in), rerr)
}
