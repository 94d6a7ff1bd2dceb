package harness_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/btc-handshake/btc-handshake/harness"
	"github.com/btc-handshake/btc-handshake/wire"
)

// coreLikeClient is a third client, written here over package wire alone
// from docs/PROTOCOL.md's account of how Bitcoin Core treats a peer, and doing
// as Core does on its outbound side: it ignores a verack or anything else
// that comes before the peer's version, a second version, and frames with
// a bad checksum or bad command bytes; it drops a version it cannot parse
// and waits for another; it refuses versions below 31800; it does not
// check the peer's nonce (Core checks inbound peers only). It knows no
// timeout but its context's deadline, and reports kinds and phases in our
// vocabulary but never a quirk.
func coreLikeClient() harness.Client {
	return harness.Client(func(ctx context.Context, addr string, n wire.Network) harness.Outcome {
		start := time.Now()
		o := coreLikeHandshake(ctx, addr, n)
		o.Detailed = true
		o.Duration = time.Since(start)
		return o
	})
}

func coreLikeHandshake(ctx context.Context, addr string, n wire.Network) harness.Outcome {
	phase := "connect"
	fail := func(err error) harness.Outcome {
		return harness.Outcome{Kind: coreLikeKind(ctx, err), Phase: phase, Message: err.Error()}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return harness.Outcome{Kind: "dial", Phase: phase, Message: err.Error()}
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A canceled context ends blocked reads and writes at once.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	phase = "version"
	ours := &wire.Version{ProtocolVersion: wire.ProtocolVersion, Timestamp: time.Now().Unix(),
		Nonce: rand.Uint64(), UserAgent: "/core-like:0.1/", Relay: true}
	if _, err := conn.Write(wire.AppendMessage(nil, n, ours)); err != nil {
		return fail(err)
	}
	r := wire.NewReader(conn, n)
	var theirs *wire.Version
	for {
		f, err := r.Next()
		if err != nil {
			if fe, ok := errors.AsType[*wire.FrameError](err); ok && fe.Recoverable {
				continue // bad checksum, bad command bytes: the frame is dropped
			}
			return fail(err)
		}
		switch f.Command() {
		case wire.CmdVersion:
			if theirs != nil {
				continue // "redundant version message"
			}
			var v wire.Version
			if v.DecodePayload(f.Payload) != nil {
				continue // a version Core cannot parse is dropped
			}
			if v.ProtocolVersion < wire.MinPeerProtoVersion {
				return harness.Outcome{Kind: "version-too-low", Phase: phase, Message: "peer using obsolete version"}
			}
			theirs = &v
			phase = "verack"
			var out []byte
			if min(v.ProtocolVersion, wire.ProtocolVersion) >= 70016 {
				out = wire.AppendMessage(out, n, wire.WtxidRelay{})
				out = wire.AppendMessage(out, n, wire.SendAddrV2{})
			}
			out = wire.AppendMessage(out, n, wire.Verack{})
			if _, err := conn.Write(out); err != nil {
				return fail(err)
			}
		case wire.CmdVerack:
			if theirs == nil {
				continue // a verack before the version is ignored
			}
			return harness.Outcome{Completed: true, Phase: "done",
				NegotiatedVersion: min(theirs.ProtocolVersion, wire.ProtocolVersion)}
		}
		// Anything else, before or after the version, plays no part.
	}
}

func coreLikeKind(ctx context.Context, err error) string {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return "canceled"
	case errors.Is(err, os.ErrDeadlineExceeded), ctx.Err() != nil:
		return "timeout"
	case errors.Is(err, wire.ErrBadMagic):
		return "bad-magic"
	case errors.Is(err, wire.ErrPayloadTooLarge):
		return "oversized-frame"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "peer-closed"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection-reset"
	}
	return "io"
}
