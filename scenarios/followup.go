package scenarios

import (
	"fmt"
	"strings"

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

// closesAfterPayload: the node is reading the payload a header declared;
// the rest of the frame (a payload is the same on every network) makes it
// see the wrong magic and close.
func closesAfterPayload(payload []byte) []mockpeer.Step {
	return []mockpeer.Step{mockpeer.SendRaw(payload), mockpeer.Do((*mockpeer.Conn).ExpectClosed)}
}

// FollowUp describes a probe's follow-up (Alive) for people, e.g.
// `Send(ping), Expect("pong")`; "" when it has none.
func (p Probe) FollowUp() string {
	names := make([]string, len(p.Alive))
	for i, st := range p.Alive {
		names[i] = st.String()
	}
	return strings.Join(names, ", ")
}

// expectPong waits (the step timeout) for a pong, which must carry nonce.
func expectPong(nonce uint64) mockpeer.Step { return mockpeer.Expect(wire.CmdPong, pongNonce(nonce)) }

// pongNonce matches a pong carrying this nonce (scenarios does not import
// Gomega; mockpeer.Matcher is its method set).
type pongNonce uint64

func (n pongNonce) Match(actual any) (bool, error) {
	p, ok := actual.(wire.Pong)
	return ok && p.Nonce == uint64(n), nil
}

func (n pongNonce) FailureMessage(actual any) string {
	return fmt.Sprintf("expected a pong with nonce %#x, got %v", uint64(n), actual)
}

func (n pongNonce) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("expected no pong with nonce %#x, got %v", uint64(n), actual)
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
	return thenPing(func(c *mockpeer.Conn) error { return c.SendRaw(build(c.Network()).Bytes()) })
}
