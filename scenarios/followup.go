package scenarios

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Follow-ups (Probe.Alive): what a node that ignored the probe must still
// answer at that point of the handshake. Without one, "nothing → open" is
// also what a hung or mute node does.

// aliveNonce is the nonce of a follow-up's ping, unlike every probe's own.
const aliveNonce = 0xa11fe

// answersVersion: the node has processed no version of ours (it ignored
// what came before, or dropped our version), so our version gets its own.
func answersVersion() []mockpeer.Step {
	return []mockpeer.Step{sendVersion(wire.ProtocolVersion), mockpeer.Expect(wire.CmdVersion)}
}

// answersPing: the handshake is complete, so a ping gets its pong.
func answersPing() []mockpeer.Step {
	return []mockpeer.Step{mockpeer.Send(wire.Ping{Nonce: aliveNonce}), expectPong(aliveNonce)}
}

// completesAndAnswersPing: the node sent its verack, we have not: ours
// completes the handshake, then a ping gets its pong.
func completesAndAnswersPing() []mockpeer.Step {
	return append([]mockpeer.Step{mockpeer.Send(wire.Verack{})}, answersPing()...)
}

// closesAfterFrame: the node is reading the payload the header declared;
// the rest of the frame makes it see the wrong magic and close.
func closesAfterFrame(build func(n wire.Network) wire.RawFrame) []mockpeer.Step {
	return []mockpeer.Step{
		mockpeer.Do(func(c *mockpeer.Conn) error { return c.WriteRaw(build(c.Network()).Bytes()[wire.HeaderSize:]) }),
		mockpeer.ExpectClosed(0),
	}
}

// expectPong waits (the step timeout) for a pong carrying nonce, skipping
// whatever else comes.
func expectPong(nonce uint64) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		deadline := time.Now().Add(c.StepTimeout())
		for {
			in, err := c.Next(deadline)
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				return fmt.Errorf("%w: no pong to our ping within %v", mockpeer.ErrTimeout, c.StepTimeout())
			case err != nil:
				return fmt.Errorf("%w while waiting for the pong to our ping: %v", mockpeer.ErrPeerClosed, err)
			}
			if p, ok := in.Message.(wire.Pong); ok && p.Nonce == nonce {
				return nil
			}
		}
	})
}

// thenPing writes first, then a ping, as one step: the probe's message is
// both. A ping that cannot be written because the node closed after first
// is the node's reaction (the failed write is in the transcript), not a
// failure of the probe.
func thenPing(first func(c *mockpeer.Conn) error) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		if err := first(c); err != nil {
			return err
		}
		_ = c.Send(wire.Ping{Nonce: 0xc0ffee})
		return nil
	})
}

// frameThenPing is thenPing after a deliberately broken frame.
func frameThenPing(build func(n wire.Network) wire.RawFrame) mockpeer.Step {
	return thenPing(func(c *mockpeer.Conn) error { return c.WriteFrame(build(c.Network())) })
}
