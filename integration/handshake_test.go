package integration_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
)

// v1Handshake plays the client side of a v1 handshake with the node at addr
// using btcd's wire package (test-only; our own client comes later): it
// sends version, reads until it has the node's version and verack, sends
// verack, and returns the open connection and the node's version.
func v1Handshake(ctx context.Context, addr, userAgent string) (net.Conn, *wire.MsgVersion, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)

	fail := func(phase string, err error) (net.Conn, *wire.MsgVersion, error) {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("handshake with %s: %s: %w", addr, phase, err)
	}
	you := wire.NewNetAddressIPPort(net.IPv4(127, 0, 0, 1), 18444, 0)
	me := wire.NewNetAddressIPPort(net.IPv4zero, 0, 0)
	msg := wire.NewMsgVersion(me, you, rand.Uint64(), 0)
	msg.UserAgent = userAgent
	if err := wire.WriteMessage(conn, msg, wire.ProtocolVersion, wire.TestNet); err != nil {
		return fail("send version", err)
	}

	// One buffered reader for the whole connection: the node's version and
	// verack often arrive in one segment.
	r := bufio.NewReader(conn)
	var peer *wire.MsgVersion
	gotVerack := false
	for peer == nil || !gotVerack {
		m, _, err := wire.ReadMessage(r, wire.ProtocolVersion, wire.TestNet)
		if errors.Is(err, wire.ErrUnknownMessage) {
			continue // e.g. Core's wtxidrelay, which btcd's wire does not model
		}
		if err != nil {
			return fail("read version/verack", err)
		}
		switch m := m.(type) {
		case *wire.MsgVersion:
			peer = m
		case *wire.MsgVerAck:
			gotVerack = true
		}
	}
	if err := wire.WriteMessage(conn, wire.NewMsgVerAck(), wire.ProtocolVersion, wire.TestNet); err != nil {
		return fail("send verack", err)
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, peer, nil
}
