package handshake

import (
	"context"
	"fmt"
	"time"
)

// v2Handshake performs BIP324's handshake as the initiator and sends our
// version in the same write as our terminator and version packet: our
// key and garbage; the peer's key; our terminator, version packet and
// version; the peer's garbage up to its terminator; the peer's version
// packet, which authenticates that garbage. The v1 state machine then
// goes on over the session's packets.
func (s *session) v2Handshake(ctx context.Context, now time.Time) error {
	s.enterPhase(PhaseV2, now)
	s.res.Transport = TransportV2
	t := newV2Transport(s.conn, &s.cfg, s.res)
	s.t = t
	if err := t.start(s.cfg.V2GarbageLen); err != nil {
		return s.fail(ctx, KindV2Handshake, err)
	}
	if err := s.flush(ctx, s.handshakeDeadline); err != nil {
		return s.v2Failed(ctx, t, err)
	}
	if err := s.setReadDeadline(ctx, s.phaseDeadline); err != nil {
		return s.fail(ctx, classify(err), err)
	}
	if err := t.readKey(s.cfg.Network); err != nil {
		return s.v2Failed(ctx, t, err)
	}
	s.res.Timings.V2Key = s.cfg.Now().Sub(s.res.Started)
	if err := s.sendVersion(ctx, now); err != nil {
		return err
	}
	if err := s.setReadDeadline(ctx, s.phaseDeadline); err != nil {
		return s.fail(ctx, classify(err), err)
	}
	if err := t.readTerminator(); err != nil {
		return s.fail(ctx, kindOf(err), err)
	}
	s.res.Timings.V2Terminator = s.cfg.Now().Sub(s.res.Started)
	if err := t.readVersionPacket(); err != nil {
		return s.fail(ctx, kindOf(err), err)
	}
	now = s.cfg.Now()
	s.lastRead = now
	s.res.Timings.V2VersionPacket = now.Sub(s.res.Started)
	s.enterPhase(PhaseVersion, now)
	return nil
}

// v2Failed fails the handshake while we wait for the peer's key. A peer
// that hangs up having sent nothing is most likely a v1-only node that
// took our key for a bad v1 header: Core then reconnects with v1
// (V2Transport::ShouldReconnectV1), and so does Dial with TransportAuto.
// Core decides at any disconnection; we only when the peer closed or
// reset the connection, since a timeout has used up the deadline.
func (s *session) v2Failed(ctx context.Context, t *v2Transport, err error) error {
	kind := classify(err)
	if t.in.received == 0 && (kind == KindPeerClosed || kind == KindReset) && ctx.Err() == nil {
		s.block.retryV1 = true
		err = fmt.Errorf("peer hung up on our v2 key having sent nothing (a v1-only peer? try transport v1 or auto): %w", err)
	}
	return s.fail(ctx, kind, err)
}
