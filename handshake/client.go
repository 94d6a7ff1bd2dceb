package handshake

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/btc-handshake/btc-handshake/wire"
)

// This file is the client's state machine, over either transport:
// handshake sends our version and hands each message the peer sends to
// handle; onVersion answers the peer's version; complete ends it on the
// peer's verack, finish sends what is still queued, and linger observes
// what follows. enterPhase bounds each wait. Run and Dial (run.go,
// dial.go) set it up; client_v2.go is the BIP324 handshake before it.

// enterPhase moves to phase p, whose deadline starts at now.
func (s *session) enterPhase(p Phase, now time.Time) {
	s.res.Phase = p
	s.phaseDeadline = s.handshakeDeadline
	var limit time.Duration
	switch p {
	case PhaseVersion:
		limit = s.cfg.VersionTimeout
	case PhaseVerack:
		limit = s.cfg.VerackTimeout
	}
	if limit > 0 && now.Add(limit).Before(s.phaseDeadline) {
		s.phaseDeadline = now.Add(limit)
	}
}

// fail ends the handshake with kind in the current phase; a read or write
// that the context ended counts as the context's end, not the peer's.
func (s *session) fail(ctx context.Context, kind Kind, err error) error {
	if ctx.Err() != nil && (kind == KindTimeout || kind == KindIO || kind == KindPeerClosed) {
		// The context, not the peer, ended the read.
		kind = ctxKind(ctx)
		if kind == KindCanceled {
			err = ctx.Err()
		}
	}
	err = hangUpHint(kind, s.res, s.cfg.Network, err)
	e := &failure{Kind: kind, Phase: s.res.Phase, Addr: s.res.Addr, Err: err}
	s.res.Err = e
	return e
}

// record adds an event at time at: when the frame was received (the
// read that brought its last byte returned), or when we queued it.
func (s *session) record(recv bool, cmd string, size int, errText string, at time.Time) {
	if len(s.res.Transcript) >= s.cfg.MaxTranscript {
		s.res.TranscriptDropped++
		return
	}
	s.res.Transcript = append(s.res.Transcript, Event{
		Received: recv, Command: cmd, Size: size, At: at.Sub(s.res.Started), Err: errText,
	})
}

// ourVersion builds our version message in the session's own.
func (s *session) ourVersion(now time.Time) *wire.Version {
	relay := !s.cfg.NoRelay
	v := &s.ver
	*v = wire.Version{
		ProtocolVersion: s.cfg.ProtocolVersion,
		Services:        s.cfg.Services,
		Timestamp:       now.Unix(),
		Nonce:           s.nonce,
		UserAgent:       s.cfg.UserAgent,
		StartHeight:     s.cfg.StartHeight,
		Relay:           relay,
	}
	// addr_recv is the peer's address, as Core fills it; addr_from stays
	// zeroed so we never reveal a local address (Core does the same).
	switch a := s.conn.RemoteAddr().(type) {
	case *net.TCPAddr:
		ap := a.AddrPort()
		v.AddrRecv = wire.NetAddress{IP: ap.Addr().As16(), Port: ap.Port()}
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			v.AddrRecv = wire.NetAddress{IP: ap.Addr().As16(), Port: ap.Port()}
		}
	}
	return v
}

// handshake runs the exchange from our version to the peer's verack:
// each message read is recorded, then handled, until one completes it.
func (s *session) handshake(ctx context.Context, now time.Time) error {
	var err error
	if s.cfg.Transport == TransportV1 {
		s.enterPhase(PhaseVersion, now)
		err = s.sendVersion(ctx, now)
	} else {
		err = s.v2Handshake(ctx, now) // sends our version
	}
	if err != nil {
		return err
	}
	for {
		if len(s.t.output()) > 0 && !s.t.ready() {
			// Output held back for a verack that was buffered but did
			// not complete the handshake (a bad checksum): send it
			// before waiting on the peer.
			if err := s.flush(ctx, s.handshakeDeadline); err != nil {
				return s.fail(ctx, classify(err), err)
			}
		}
		if err := s.setReadDeadline(ctx, s.phaseDeadline); err != nil {
			return s.fail(ctx, classify(err), err)
		}
		m, at, err := s.next()
		if err != nil {
			return s.fail(ctx, kindOf(err), err)
		}
		s.consumedSinceVersion += m.size
		if m.dropped != nil {
			// Core drops such a message and keeps the connection.
			s.record(received, m.cmd, len(m.payload), m.dropped.Error(), at)
			s.res.addQuirk(m.quirk)
			continue
		}
		s.record(received, m.cmd, len(m.payload), "", at)
		done, err := s.handle(ctx, m.cmd, m.payload, at)
		if err != nil {
			return err
		}
		if done {
			return s.finish(ctx)
		}
	}
}

// sendVersion sends our version.
func (s *session) sendVersion(ctx context.Context, now time.Time) error {
	n := s.t.queue(s.ourVersion(now))
	s.record(sent, wire.CmdVersion, n, "", now)
	if err := s.flush(ctx, s.handshakeDeadline); err != nil {
		return s.fail(ctx, classify(err), err)
	}
	return nil
}

// finish sends what the completed handshake still holds: our verack when
// the peer's was already here (onVersion). The handshake counts as
// complete only once it is sent.
func (s *session) finish(ctx context.Context) error {
	if len(s.t.output()) == 0 {
		return nil
	}
	if err := s.write(ctx, s.handshakeDeadline, s.closeAfter); err != nil {
		s.res.Phase = PhaseVerack
		return s.fail(ctx, classify(err), err)
	}
	return nil
}

// handle reacts to one received message during the handshake and reports
// whether the handshake is complete.
func (s *session) handle(ctx context.Context, cmd string, payload []byte, at time.Time) (bool, error) {
	if !s.gotVersion && cmd != wire.CmdVersion && cmd != wire.CmdVerack {
		s.res.addQuirk(QuirkMessageBeforeVersion)
	}
	switch cmd {
	case wire.CmdVersion:
		return s.onVersion(ctx, payload, at)
	case wire.CmdVerack:
		if !s.gotVersion {
			// Core ignores it; we remember it so that a peer which
			// merely ordered its messages oddly still completes.
			s.res.addQuirk(QuirkVerackBeforeVersion)
			s.earlyVerack = true
			return false, nil
		}
		if s.consumedSinceVersion <= s.bufferedAfterVersion {
			s.res.addQuirk(QuirkCoalescedVerack)
		}
		return s.complete(at), nil
	case wire.CmdSendCmpct:
		s.res.addQuirk(QuirkSendCmpctBeforeVerack)
		var m wire.SendCmpct
		s.checkDecodes(m.DecodePayload(payload))
	case wire.CmdSendHeaders:
		s.res.addQuirk(QuirkSendHeadersBeforeVerack)
	case wire.CmdPing:
		// Core does not answer a ping before verack (NP); neither do we.
		s.res.addQuirk(QuirkPingBeforeVerack)
		var m wire.Ping
		s.checkDecodes(m.DecodePayload(payload))
	case wire.CmdAlert:
		s.res.addQuirk(QuirkAlert)
	case wire.CmdSendTxRcncl:
		var m wire.SendTxRcncl
		s.checkDecodes(m.DecodePayload(payload))
	case wire.CmdWtxidRelay, wire.CmdSendAddrV2:
		// Feature negotiation belongs between version and verack.
	default:
		s.res.addQuirk(QuirkUnexpectedBeforeVerack)
	}
	return false, nil
}

// checkDecodes records a message that did not decode: Core catches the
// deserialization error, drops the message and keeps the peer
// (ProcessMessages in src/net_processing.cpp), and so do we.
func (s *session) checkDecodes(err error) {
	if err != nil {
		s.res.addQuirk(QuirkMalformedIgnored)
	}
}

// onVersion accepts or refuses the peer's version and answers it with our
// feature negotiation and verack, in one write.
func (s *session) onVersion(ctx context.Context, payload []byte, now time.Time) (bool, error) {
	if s.gotVersion {
		s.res.addQuirk(QuirkDuplicateVersion)
		return false, nil
	}
	v := s.peer // in the Result's block
	if err := v.DecodePayload(payload); err != nil {
		return false, s.fail(ctx, KindMalformed, err)
	}
	if v.ProtocolVersion < s.cfg.MinPeerVersion {
		return false, s.fail(ctx, KindVersionTooLow, &versionTooLowError{peer: v, min: s.cfg.MinPeerVersion})
	}
	if v.Tail <= wire.TailNoUserAgent && v.Nonce == s.nonce {
		return false, s.fail(ctx, KindSelfConnection, fmt.Errorf("peer's version carries our nonce %016x", s.nonce))
	}
	s.gotVersion = true
	s.res.Peer = v
	s.res.Timings.Version = now.Sub(s.res.Started)
	s.res.NegotiatedVersion = min(v.ProtocolVersion, s.cfg.ProtocolVersion)
	s.versionQuirks(v)
	s.bufferedAfterVersion, s.consumedSinceVersion = s.t.buffered(), 0
	if s.cfg.Logger.Enabled(ctx, slog.LevelDebug) {
		// The user agent is the peer's to choose, control characters
		// included: it goes out as an attribute value, which slog's text
		// and JSON handlers escape (Config.Logger).
		s.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "peer version", slog.String("peer", s.res.Addr),
			slog.Int("protocol_version", int(v.ProtocolVersion)), slog.String("user_agent", v.UserAgent),
			slog.Uint64("services", v.Services), slog.Int("start_height", int(v.StartHeight)))
	}

	// Core sends wtxidrelay and sendaddrv2 before verack when both sides
	// are at 70016 (NP, VERSION branch), all in one burst.
	if s.res.NegotiatedVersion >= wire.WtxidRelayVersion {
		s.t.queue(wire.WtxidRelay{})
		s.record(sent, wire.CmdWtxidRelay, 0, "", now)
		s.t.queue(wire.SendAddrV2{})
		s.record(sent, wire.CmdSendAddrV2, 0, "", now)
	}
	s.t.queue(wire.Verack{})
	s.record(sent, wire.CmdVerack, 0, "", now)
	// The peer's version is in: whatever fails from here, sending our
	// verack included, fails in the verack phase, with Result.Peer set.
	s.enterPhase(PhaseVerack, now)
	if s.earlyVerack {
		return s.complete(now), nil // finish sends it
	}
	if s.closeAfter && s.t.verackBuffered() {
		// The peer sent its verack with its version: ours completes
		// the handshake, and Dial closes right after. finish sends it
		// once that verack is read, with the FIN (lastWriter).
		return false, nil
	}
	if err := s.flush(ctx, s.handshakeDeadline); err != nil {
		return false, s.fail(ctx, classify(err), err)
	}
	return false, nil
}

func (s *session) versionQuirks(v *wire.Version) {
	switch {
	case v.ProtocolVersion < wire.ProtocolVersion:
		s.res.addQuirk(QuirkOldProtocol)
	case v.ProtocolVersion > wire.ProtocolVersion:
		s.res.addQuirk(QuirkNewerProtocol)
	}
	switch v.Tail {
	case wire.TailFull:
	case wire.TailNoRelay:
		s.res.addQuirk(QuirkVersionNoRelay)
	default:
		s.res.addQuirk(QuirkVersionShort)
	}
	if v.TrailingBytes > 0 {
		s.res.addQuirk(QuirkVersionTrailingBytes)
	}
	if v.Timestamp < 0 {
		s.res.addQuirk(QuirkNegativeTimestamp)
	}
}

func (s *session) complete(at time.Time) bool {
	s.gotVerack = true
	s.res.Phase = PhaseDone
	s.res.Timings.Verack = at.Sub(s.res.Started)
	return true
}

// linger keeps reading after completion to record what the peer sends
// next; pings are answered. Nothing here can fail the handshake.
func (s *session) linger(ctx context.Context) {
	deadline := s.cfg.Now().Add(s.cfg.Linger)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if s.setReadDeadline(ctx, deadline) != nil {
		return
	}
	for {
		m, at, err := s.next()
		if err != nil {
			return
		}
		if m.dropped != nil {
			s.record(received, m.cmd, len(m.payload), m.dropped.Error(), at)
			continue
		}
		s.record(received, m.cmd, len(m.payload), "", at)
		switch m.cmd {
		case wire.CmdVerack:
			s.res.addQuirk(QuirkDuplicateVerack)
		case wire.CmdVersion:
			s.res.addQuirk(QuirkDuplicateVersion)
		case wire.CmdWtxidRelay, wire.CmdSendAddrV2:
			s.res.addQuirk(QuirkNegotiationAfterVerack)
		case wire.CmdAlert:
			s.res.addQuirk(QuirkAlert)
		case wire.CmdPing:
			var p wire.Ping
			if err := p.DecodePayload(m.payload); err != nil {
				s.checkDecodes(err)
				continue
			}
			if p.NoNonce || s.res.NegotiatedVersion <= wire.BIP31Version {
				continue
			}
			s.t.queue(wire.Pong{Nonce: p.Nonce})
			s.record(sent, wire.CmdPong, 8, "", at)
			if s.flush(ctx, deadline) != nil {
				return
			}
		}
	}
}
