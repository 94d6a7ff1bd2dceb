package scenarios

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// Model is a node implementation whose reactions a Probe records: what a
// node under test is compared with (conform --profile). Its value is the
// CLI's name for it.
type Model string

// Node models.
const (
	// ModelCore is Bitcoin Core v30 with -v2transport=0 (how our
	// launchers start it), as PROTOCOL.md §5 ("How Core treats a peer") says.
	ModelCore Model = "core"
	// ModelCoreV2 is Bitcoin Core v30 with -v2transport=1, its own
	// default: a connection whose first bytes are not magic‖"version" is
	// taken for BIP324. A probe without a core-v2 entry expects what it
	// expects of core.
	ModelCoreV2 Model = "core-v2"
	// ModelBtcd is btcd v0.26.2 (default flags, no --v2transport).
	ModelBtcd Model = "btcd"
	// ModelBtcdV2 is btcd v0.26.2 with --v2transport (v2transport
	// v1.1.0): a connection whose first bytes differ from
	// magic‖"version" is taken for BIP324 at the first byte that differs.
	// A probe without a btcd-v2 entry expects what it expects of btcd.
	ModelBtcdV2 Model = "btcd-v2"
)

// Models lists the node models, in a stable order.
func Models() []Model { return []Model{ModelCore, ModelCoreV2, ModelBtcd, ModelBtcdV2} }

// V2 reports whether the model is of a node that speaks BIP324 (core-v2,
// btcd-v2): conform runs the v2 probes for those.
func (m Model) V2() bool { return m == ModelCoreV2 || m == ModelBtcdV2 }

// v1 is the v1-only model a v2 model falls back to.
func (m Model) v1() (Model, bool) {
	switch m {
	case ModelCoreV2:
		return ModelCore, true
	case ModelBtcdV2:
		return ModelBtcd, true
	}
	return "", false
}

// End is how the connection stands when the observation of a probe ends.
type End string

// Ends.
const (
	// EndOpen: the node kept the connection for the whole observation.
	EndOpen End = "open"
	// EndClosed: the node closed (or reset) it well before its peer timeout.
	EndClosed End = "closed"
	// EndTimeout: the node closed it once its peer timeout had passed
	// (btcd: 30 s; Core: -peertimeout, 60 s by default).
	EndTimeout End = "closed at the peer timeout"
)

// Expectation is what a node model does in answer to a probe, as can be
// observed from the probing side of the connection: what the node sends
// after the probe's last message, and how the connection stands at the end.
type Expectation struct {
	// Sends lists commands the node must send, in this order (other
	// messages may come between them).
	Sends []string
	// Only, when set, lists the commands the node may send besides Sends;
	// anything else is a deviation.
	Only []string
	// Silent: the node sends nothing at all.
	Silent bool
	// NonV1: the node answers with bytes that are not a v1 frame (a BIP324
	// ElligatorSwift key and garbage).
	NonV1 bool
	// EchoNonce: a pong must carry the nonce of the probe's last ping.
	EchoNonce bool
	// End is the state the connection must be in.
	End End
}

// Reactions that many probes share.

// Ignores: no reply, the connection stays.
func ignores() Expectation { return Expectation{Silent: true, End: EndOpen} }

// Disconnects: no reply, the node closes the connection at once.
func disconnects() Expectation { return Expectation{Silent: true, End: EndClosed} }

// RejectsAndDisconnects: a reject (BIP61, btcd), then the node closes.
func rejectsAndDisconnects() Expectation {
	return Expectation{Sends: []string{wire.CmdReject}, Only: []string{}, End: EndClosed}
}

// Replies: the node sends exactly these commands, in order, and keeps the
// connection.
func replies(cmds ...string) Expectation {
	return Expectation{Sends: cmds, Only: []string{}, End: EndOpen}
}

// Pongs: a pong with the nonce of the probe's ping (other messages may come
// too), and the connection stays.
func pongs() Expectation {
	return Expectation{Sends: []string{wire.CmdPong}, EchoNonce: true, End: EndOpen}
}

// TimesOut: the node closes the connection once its peer timeout has passed.
func timesOut() Expectation { return Expectation{End: EndTimeout} }

// Then returns the reaction with the connection ending as end.
func (r Expectation) Then(end End) Expectation { r.End = end; return r }

// String describes the reaction for people, e.g. "reject, closed".
func (r Expectation) String() string {
	var what string
	switch {
	case r.Silent:
		what = "nothing"
	case r.NonV1:
		what = "non-v1 bytes (BIP324 key)"
	case len(r.Sends) > 0:
		sends := slices.Clone(r.Sends)
		if r.EchoNonce {
			for i, c := range sends {
				if c == wire.CmdPong {
					sends[i] = "pong(same nonce)"
				}
			}
		}
		what = strings.Join(sends, " ")
		if r.Only == nil {
			what += " …"
		}
	default:
		what = "anything"
	}
	return what + " → " + string(r.End)
}

// Probe is a scenario in the probing role: the mock plays a client
// against a node under test, and the probe records how each node model
// reacts. Probes are public contract, like scenarios: their names
// and reactions appear in the CLI (btc-handshake conform) and in reports.
type Probe struct {
	// Name is a stable kebab-case identifier.
	Name string
	// Summary says in one line what the probe does.
	Summary string
	// Rule is the expectation of PROTOCOL.md §5 ("How Core treats a peer")
	// that the probe checks ("1" to "13", "v2" for the BIP324 note); for
	// the v2 probes, the part of BIP324 ("garbage", "terminator", "aad",
	// "decoys", "version-packet", "detection", "length", "short-id",
	// "rekey").
	Rule string
	// Origin is where the expected reactions come from.
	Origin string
	// Script is what the probe does on its connection, played by
	// mockpeer.Dial as the initiating side: its setup and, last, the
	// stimulus. The node's reaction is what it sends after the script's
	// last message; the harness then watches the connection.
	Script mockpeer.Script
	// Slow: the reaction can only be seen once the node's peer timeout has
	// passed (30 s for btcd, 60 s for Core unless -peertimeout is lower).
	Slow bool
	// Expect is the reaction of each node model (see Models).
	Expect map[Model]Expectation
	// Transport is what the probe speaks: "v1" (also when empty: v1, or
	// bytes that are neither) or "v2" (a BIP324 client).
	Transport string
	// Alive proves that a node which sent nothing and kept the connection
	// is alive, not hung or mute: when the observation saw nothing and the
	// connection open, the harness plays these steps, and they must
	// succeed (our version gets the node's; a ping gets its pong).
	Alive []mockpeer.Step
}

// ExpectFor returns what model m is expected to do; core-v2 falls back to
// core, and btcd-v2 to btcd, when the probe has no entry of its own.
func (p Probe) ExpectFor(m Model) (Expectation, bool) {
	if r, ok := p.Expect[m]; ok {
		return r, true
	}
	if v1, ok := m.v1(); ok {
		r, ok := p.Expect[v1]
		return r, ok
	}
	return Expectation{}, false
}

// Probe building blocks.

// probeUserAgent is the user agent of the probes' versions.
const probeUserAgent = "/btc-handshake-probe:0.1.0/"

// settleQuiet is how long the probes' handshake setup waits for the node to
// fall quiet after our verack (Core sends sendcmpct, ping, getheaders and
// feefilter then), so that those are not taken for a reaction.
const settleQuiet = 150 * time.Millisecond

// probeVersion is the version a probe sends: 70016 (or pv), no services
// (so Core sends no getheaders), our user agent; the nonce, timestamp and
// addr_recv are filled in per connection by mockpeer.ReplyVersion.
func probeVersion(pv int32, edit func(v *wire.Version)) *wire.Version {
	v := &wire.Version{ProtocolVersion: pv, UserAgent: probeUserAgent, Relay: true}
	if edit != nil {
		edit(v)
	}
	return v
}

// sendVersion sends the probe's version.
func sendVersion(pv int32) mockpeer.Step { return mockpeer.ReplyVersion(probeVersion(pv, nil)) }

// openHandshake sends our version and waits for the node's verack: the
// node's side of the handshake is done, ours is not.
func openHandshake() []mockpeer.Step {
	return []mockpeer.Step{sendVersion(wire.ProtocolVersion), mockpeer.Expect(wire.CmdVerack)}
}

// fullHandshake completes the handshake and waits for the node to fall quiet.
func fullHandshake() []mockpeer.Step {
	return append(openHandshake(), mockpeer.Send(wire.Verack{}), settle(settleQuiet))
}

// settle reads (and records) until nothing has come for quiet, at most a
// second, so the node's answers to the setup do not count as its reaction.
func settle(quiet time.Duration) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		limit := time.Now().Add(time.Second)
		for time.Now().Before(limit) {
			deadline := time.Now().Add(quiet)
			if deadline.After(limit) {
				deadline = limit
			}
			_, err := c.Next(deadline)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func steps(s ...[]mockpeer.Step) []mockpeer.Step { return slices.Concat(s...) }

func one(s ...mockpeer.Step) []mockpeer.Step { return s }

// rawFrame sends a frame built for the connection's network.
func rawFrame(build func(n wire.Network) wire.RawFrame) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error { return c.SendRaw(build(c.Network()).Bytes()) })
}

// rawHeader sends only the 24-byte header of the frame.
func rawHeader(build func(n wire.Network) wire.RawFrame) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		return c.SendRaw(build(c.Network()).Bytes()[:wire.HeaderSize])
	})
}

// versionFrame is a valid frame carrying the probe's version.
func versionFrame(n wire.Network) wire.RawFrame {
	v := probeVersion(wire.ProtocolVersion, func(v *wire.Version) {
		v.Timestamp = time.Now().Unix()
		v.Nonce = 0x9b0be5e1f00dcafe
	})
	return wire.NewRawFrame(n, v)
}

// v2Key is 64 bytes that could open a BIP324 handshake: not the v1 magic,
// and read as a v1 header they declare a payload of 0xffffffff bytes.
func v2Key() []byte {
	b := pseudoRandom(64, 324)
	b[0] = 0x01 // no network's magic
	copy(b[16:20], []byte{0xff, 0xff, 0xff, 0xff})
	return b
}

// echoNodeNonce opens a second connection from the same local address,
// reads the version the node sends there, and sends that nonce back in our
// version on the probe's connection: the node sees its own nonce come back.
// The second connection stays open (unfinished) until the probe's
// connection has been watched for watch, then it is closed.
func echoNodeNonce(watch time.Duration) mockpeer.Step {
	return mockpeer.Do(func(c *mockpeer.Conn) error {
		local, _ := c.LocalAddr().(*net.TCPAddr)
		d := net.Dialer{Timeout: c.StepTimeout()}
		if local != nil {
			d.LocalAddr = &net.TCPAddr{IP: local.IP}
		}
		other, err := d.Dial("tcp", c.RemoteAddr().String())
		if err != nil {
			return fmt.Errorf("second connection: %w", err)
		}
		defer other.Close()
		_ = other.SetDeadline(time.Now().Add(c.StepTimeout()))
		if err := wire.WriteMessage(other, c.Network(), c.VersionFor(probeVersion(wire.ProtocolVersion, nil))); err != nil {
			return fmt.Errorf("second connection: %w", err)
		}
		r := wire.NewReader(bufio.NewReader(other), c.Network())
		var nonce uint64
		for nonce == 0 {
			f, err := r.Next()
			if err != nil {
				return fmt.Errorf("second connection: waiting for the node's version: %w", err)
			}
			if f.Command() == wire.CmdVersion {
				var v wire.Version
				if err := v.DecodePayload(f.Payload); err != nil {
					return fmt.Errorf("second connection: %w", err)
				}
				if nonce = v.Nonce; nonce == 0 {
					return errors.New("second connection: the node's version has a zero nonce")
				}
			}
		}
		if err := c.Send(c.VersionFor(probeVersion(wire.ProtocolVersion, func(v *wire.Version) { v.Nonce = nonce }))); err != nil {
			return err
		}
		// Watch here, while the other connection is still unfinished (Core
		// only remembers the nonces of connections not yet established).
		deadline := time.Now().Add(watch)
		for {
			if _, err := c.Next(deadline); err != nil {
				return nil
			}
		}
	})
}

// Origins.
const (
	originBtcdPeer = "btcd v0.26.2 peer/peer.go (readRemoteVersionMsg, inHandler) and wire/v2 message.go, observed on regtest"
	originCoreNP   = "Bitcoin Core src/net_processing.cpp (ProcessMessage)"
	originCoreNet  = "Bitcoin Core src/net.cpp (V1Transport::readHeader, GetMessage)"
	originCoreV2   = "Bitcoin Core src/net.cpp V2Transport::ProcessReceivedMaybeV1Bytes (PROTOCOL.md §5, v2 transport on)"
	// originCoreV2WrongMagic: with -v2transport=1 a first byte that is not
	// the magic's puts Core's receiver in the KEY state (no v1 fallback),
	// and once 16 bytes are in, bytes 4..15 equal to "version\0\0\0\0\0"
	// mean a v1 peer of another network: disconnect. The 16 bytes arrive in
	// one read, so the key Core queued never leaves (the peer is flagged
	// for disconnection first). Recorded against Core v30.0: nothing, then
	// the close, and "V2 transport error: V1 peer with wrong MessageStart
	// f9beb4d9" in its debug log.
	originCoreV2WrongMagic = "Bitcoin Core src/net.cpp V2Transport::ProcessReceivedMaybeV1Bytes (a magic mismatch: KEY state) and ProcessReceivedKeyBytes (\"V1 peer with wrong MessageStart\": disconnect); recorded against Core v30.0 with -v2transport=1"
	// originBtcdV2: btcd --v2transport (v2transport v1.1.0) reads the first
	// bytes one at a time (RespondV2Handshake) and sends its key and
	// garbage at the first byte that differs from magic‖"version"; it then
	// reads up to 64 bytes (prepareResponderHandshake) and closes only when
	// bytes 4..15 were a v1 version's ("peer is v1 and using the wrong
	// network"), else goes on with the handshake.
	originBtcdV2     = "btcd v0.26.2 --v2transport: v2transport v1.1.0 transport.go RespondV2Handshake, prepareResponderHandshake (errWrongNetV1Peer after 64 bytes)"
	originCoreNonce  = "Bitcoin Core src/net.cpp CConnman::CheckIncomingNonce (only outbound connections not yet established)"
	originCoreTimout = "Bitcoin Core src/net.cpp InactivityCheck (-peertimeout); btcd peer/peer.go negotiateTimeout (30 s)"
)

func origin(parts ...string) string { return strings.Join(parts, "; ") }

// probeCatalog is every probe. The order follows docs/PROTOCOL.md's list.
func probeCatalog() []Probe {
	preVerack := []string{wire.CmdVersion, wire.CmdVerack, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdSendTxRcncl, wire.CmdAlert}
	coreV2Key := Expectation{NonV1: true, End: EndOpen}
	// btcd --v2transport sends its key at the first byte that differs
	// from magic‖"version" and then waits for 64 bytes (originBtcdV2).
	btcdV2Key := coreV2Key
	return []Probe{
		{
			Name: "version-below-minimum", Rule: "1",
			Summary: "version 31799, one below Core's minimum",
			Origin:  origin(originCoreNP+": obsolete version", originBtcdPeer+": btcd accepts down to 209"),
			Script:  mockpeer.NewScript("version-below-minimum", sendVersion(wire.MinPeerProtoVersion-1)),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: replies(wire.CmdVersion, wire.CmdVerack),
			},
		},
		{
			Name: "version-below-btcd-minimum", Rule: "1",
			Summary: "version 208, one below btcd's minimum (209)",
			Origin:  origin(originCoreNP, originBtcdPeer+": the reject is not sent, btcd cannot encode one for a peer below 70002"),
			Script:  mockpeer.NewScript("version-below-btcd-minimum", sendVersion(208)),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "duplicate-version-before-verack", Rule: "2",
			Summary: "a second version after the node's verack, before ours",
			Origin:  origin(originCoreNP+": redundant version", originBtcdPeer+": any known message but verack during negotiation"),
			Alive:   completesAndAnswersPing(),
			Script:  mockpeer.NewScript("duplicate-version-before-verack", steps(openHandshake(), one(sendVersion(wire.ProtocolVersion)))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "duplicate-version-after-verack", Rule: "2",
			Summary: "a second version once the handshake is complete",
			Origin:  origin(originCoreNP+": redundant version", originBtcdPeer+": duplicate version message"),
			Alive:   answersPing(),
			Script:  mockpeer.NewScript("duplicate-version-after-verack", steps(fullHandshake(), one(sendVersion(wire.ProtocolVersion)))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
		{
			Name: "duplicate-verack", Rule: "2",
			Summary: "a second verack once the handshake is complete",
			Origin:  origin(originCoreNP+": VERACK ignored when already successfully connected", originBtcdPeer+": duplicate verack message"),
			Alive:   answersPing(),
			Script:  mockpeer.NewScript("duplicate-verack", steps(fullHandshake(), one(mockpeer.Send(wire.Verack{})))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
		{
			Name: "verack-before-version", Rule: "3",
			Summary: "verack as the first message",
			Origin:  origin(originCoreNP+": non-version message before version", originCoreV2, originBtcdPeer+": a version message must precede all others", originBtcdV2),
			Alive:   answersVersion(),
			Script:  mockpeer.NewScript("verack-before-version", mockpeer.Send(wire.Verack{})),
			Expect: map[Model]Expectation{
				ModelCore:   ignores(),
				ModelCoreV2: coreV2Key,
				ModelBtcd:   rejectsAndDisconnects(),
				ModelBtcdV2: btcdV2Key,
			},
		},
		{
			Name: "ping-before-version", Rule: "3",
			Summary: "ping as the first message",
			Origin:  origin(originCoreNP+": non-version message before version", originCoreV2, originBtcdPeer+": a version message must precede all others", originBtcdV2),
			Alive:   answersVersion(),
			Script:  mockpeer.NewScript("ping-before-version", mockpeer.Send(wire.Ping{Nonce: 0x5eed})),
			Expect: map[Model]Expectation{
				ModelCore:   ignores(),
				ModelCoreV2: coreV2Key,
				ModelBtcd:   rejectsAndDisconnects(),
				ModelBtcdV2: btcdV2Key,
			},
		},
		{
			Name: "unknown-before-version", Rule: "3",
			Summary: "an unknown command as the first message",
			Origin:  origin(originCoreNP, originCoreV2, originBtcdPeer+": wire.ErrUnknownMessage ends the negotiation without a reject", originBtcdV2),
			Alive:   answersVersion(),
			Script:  mockpeer.NewScript("unknown-before-version", mockpeer.Send(wire.Raw{Cmd: "xyzzy", Payload: []byte{1, 2, 3}})),
			Expect: map[Model]Expectation{
				ModelCore:   ignores(),
				ModelCoreV2: coreV2Key,
				ModelBtcd:   disconnects(),
				ModelBtcdV2: btcdV2Key,
			},
		},
		{
			Name: "ping-before-verack", Rule: "4",
			Summary: "ping between the versions and our verack",
			Origin:  origin(originCoreNP+": only handshake messages before verack", originBtcdPeer+": a known message other than verack/sendaddrv2 ends the negotiation"),
			Alive:   completesAndAnswersPing(),
			Script:  mockpeer.NewScript("ping-before-verack", steps(openHandshake(), one(mockpeer.Send(wire.Ping{Nonce: 0x5eed})))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "sendheaders-before-verack", Rule: "4",
			Summary: "sendheaders between the versions and our verack",
			Origin:  origin(originCoreNP+": sendheaders is processed before verack", originBtcdPeer),
			Alive:   completesAndAnswersPing(),
			Script:  mockpeer.NewScript("sendheaders-before-verack", steps(openHandshake(), one(mockpeer.Send(wire.SendHeaders{})))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "getaddr-before-verack", Rule: "4",
			Summary: "getaddr between the versions and our verack",
			Origin:  origin(originCoreNP+": ignored before verack", originBtcdPeer),
			Alive:   completesAndAnswersPing(),
			Script:  mockpeer.NewScript("getaddr-before-verack", steps(openHandshake(), one(mockpeer.Send(wire.GetAddr{})))...),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "negotiation-before-verack", Rule: "4",
			Summary: "sendcmpct, wtxidrelay, sendaddrv2, sendtxrcncl before our verack, then a ping",
			Origin:  origin(originCoreNP+": these are processed before verack", originBtcdPeer+": sendcmpct, wtxidrelay and sendtxrcncl are unknown to btcd and skipped"),
			Script: mockpeer.NewScript("negotiation-before-verack", steps(openHandshake(), one(
				mockpeer.Send(wire.SendCmpct{Version: 2}, wire.WtxidRelay{}, wire.SendAddrV2{}, wire.SendTxRcncl{Version: 1, Salt: 7}, wire.Verack{}),
				settle(settleQuiet),
				mockpeer.Send(wire.Ping{Nonce: 0xfeedface})))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: pongs(),
			},
		},
		{
			Name: "wtxidrelay-after-verack", Rule: "5",
			Summary: "wtxidrelay once the handshake is complete",
			Origin:  origin(originCoreNP+": wtxidrelay received after verack", originBtcdPeer+": unknown command, skipped"),
			Alive:   answersPing(),
			Script:  mockpeer.NewScript("wtxidrelay-after-verack", steps(fullHandshake(), one(mockpeer.Send(wire.WtxidRelay{})))...),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: ignores(),
			},
		},
		{
			Name: "sendaddrv2-after-verack", Rule: "5",
			Summary: "sendaddrv2 once the handshake is complete",
			Origin:  origin(originCoreNP+": sendaddrv2 received after verack", originBtcdPeer),
			Script:  mockpeer.NewScript("sendaddrv2-after-verack", steps(fullHandshake(), one(mockpeer.Send(wire.SendAddrV2{})))...),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "silent-peer", Rule: "6", Slow: true,
			Summary: "connect and send nothing",
			Origin:  originCoreTimout,
			Script:  mockpeer.NewScript("silent-peer"),
			Expect: map[Model]Expectation{
				ModelCore: timesOut(),
				ModelBtcd: timesOut(),
			},
		},
		{
			Name: "no-verack", Rule: "6", Slow: true,
			Summary: "send our version, never our verack",
			Origin:  originCoreTimout,
			Script:  mockpeer.NewScript("no-verack", sendVersion(wire.ProtocolVersion)),
			Expect: map[Model]Expectation{
				ModelCore: replies(wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack).Then(EndTimeout),
				ModelBtcd: replies(wire.CmdVersion, wire.CmdSendAddrV2, wire.CmdVerack).Then(EndTimeout),
			},
		},
		{
			Name: "bad-checksum-version", Rule: "7",
			Summary: "our version with a wrong checksum",
			Origin:  origin(originCoreNet+": message dropped, connection kept", originBtcdPeer+": a read error ends the negotiation"),
			Alive:   answersVersion(),
			Script:  mockpeer.NewScript("bad-checksum-version", rawFrame(func(n wire.Network) wire.RawFrame { return versionFrame(n).WithBadChecksum() })),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "bad-checksum-after-verack", Rule: "7",
			Summary: "a ping with a wrong checksum, then a good ping, after the handshake",
			Origin:  origin(originCoreNet, originBtcdPeer+": a malformed message gets a reject and a disconnect (except from 127.0.0.1 on regtest)"),
			Script: mockpeer.NewScript("bad-checksum-after-verack", steps(fullHandshake(), one(
				frameThenPing(func(n wire.Network) wire.RawFrame { return wire.NewRawFrame(n, wire.Ping{Nonce: 1}).WithBadChecksum() })))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
		{
			Name: "invalid-command-after-verack", Rule: "7",
			Summary: "a frame whose command has a control byte (valid UTF-8), then a ping, after the handshake",
			Origin:  origin(originCoreNet+": invalid message type, dropped", originBtcdPeer+": valid UTF-8, so merely an unknown command"),
			Script: mockpeer.NewScript("invalid-command-after-verack", steps(fullHandshake(), one(
				frameThenPing(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, wire.Ping{Nonce: 1}).WithCommandBytes([wire.CommandSize]byte{'p', 'i', 0x01})
				})))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: pongs(),
			},
		},
		{
			Name: "non-utf8-command-after-verack", Rule: "7",
			Summary: "a frame whose command is not UTF-8, then a ping, after the handshake",
			Origin:  origin(originCoreNet+": invalid message type, dropped", originBtcdPeer+": invalid command is a malformed message"),
			Script: mockpeer.NewScript("non-utf8-command-after-verack", steps(fullHandshake(), one(
				frameThenPing(func(n wire.Network) wire.RawFrame {
					return wire.NewRawFrame(n, wire.Ping{Nonce: 1}).WithCommandBytes([wire.CommandSize]byte{'p', 'i', 0xff})
				})))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
		{
			Name: "unknown-command-after-verack", Rule: "7",
			Summary: "an unknown command, then a ping, after the handshake",
			Origin:  origin(originCoreNP+": unknown message types are ignored", originBtcdPeer+": wire.ErrUnknownMessage skipped after the handshake"),
			Script: mockpeer.NewScript("unknown-command-after-verack", steps(fullHandshake(), one(
				thenPing(func(c *mockpeer.Conn) error { return c.Send(wire.Raw{Cmd: "xyzzy", Payload: []byte{1, 2, 3}}) })))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: pongs(),
			},
		},
		{
			Name: "wrong-magic", Rule: "8",
			Summary: "the 24-byte header of a version with mainnet's magic, nothing more",
			Origin:  origin(originCoreNet+": wrong magic, disconnect after the header", originCoreV2WrongMagic, originBtcdPeer+": btcd reads (discards) the declared payload before failing", originBtcdV2),
			Alive:   closesAfterPayload(versionFrame(wire.Regtest).Payload),
			Script: mockpeer.NewScript("wrong-magic", rawHeader(func(n wire.Network) wire.RawFrame {
				return versionFrame(n).WithMagic(otherNetwork(n))
			})),
			Expect: map[Model]Expectation{
				ModelCore:   disconnects(),
				ModelCoreV2: disconnects(),
				ModelBtcd:   ignores(),
				ModelBtcdV2: btcdV2Key,
			},
		},
		{
			Name: "wrong-magic-frame", Rule: "8",
			Summary: "a whole version frame with mainnet's magic",
			Origin:  origin(originCoreNet, originCoreV2WrongMagic, originBtcdPeer, originBtcdV2),
			Script: mockpeer.NewScript("wrong-magic-frame", rawFrame(func(n wire.Network) wire.RawFrame {
				return versionFrame(n).WithMagic(otherNetwork(n))
			})),
			Expect: map[Model]Expectation{
				ModelCore:   disconnects(),
				ModelCoreV2: disconnects(),
				ModelBtcd:   disconnects(),
				ModelBtcdV2: btcdV2Key.Then(EndClosed),
			},
		},
		{
			Name: "oversized-header", Rule: "9",
			Summary: "a version header declaring 4,000,001 bytes, nothing more",
			Origin:  origin(originCoreNet+": MAX_PROTOCOL_MESSAGE_LENGTH", originBtcdPeer+": wire.MaxProtocolMessageLength, checked before the payload"),
			Script: mockpeer.NewScript("oversized-header", rawHeader(func(n wire.Network) wire.RawFrame {
				return versionFrame(n).WithLength(wire.MaxPayload + 1)
			})),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "oversized-header-after-verack", Rule: "9",
			Summary: "a block header declaring 4,000,001 bytes after the handshake",
			Origin:  origin(originCoreNet, originBtcdPeer+": a malformed message gets a reject and a disconnect"),
			Script: mockpeer.NewScript("oversized-header-after-verack", steps(fullHandshake(), one(rawHeader(func(n wire.Network) wire.RawFrame {
				return wire.NewRawFrame(n, wire.Raw{Cmd: "block"}).WithLength(wire.MaxPayload + 1)
			})))...),
			Expect: map[Model]Expectation{
				ModelCore: disconnects(),
				ModelBtcd: rejectsAndDisconnects(),
			},
		},
		{
			Name: "truncated-version", Rule: "10",
			Summary: "a version cut after 50 bytes (inside addr_from), checksum matching",
			Origin:  origin(originCoreNP+": a version that does not deserialize is dropped; the peer times out later", originBtcdPeer),
			Alive:   answersVersion(),
			Script: mockpeer.NewScript("truncated-version", rawFrame(func(n wire.Network) wire.RawFrame {
				f := versionFrame(n)
				return f.WithPayload(f.Payload[:50]).Resealed()
			})),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "long-user-agent", Rule: "10",
			Summary: "a version whose user agent has 257 bytes",
			Origin:  origin(originCoreNP+": MAX_SUBVERSION_LENGTH, version dropped", originBtcdPeer+": MaxUserAgentLen"),
			Alive:   answersVersion(),
			Script: mockpeer.NewScript("long-user-agent", mockpeer.ReplyVersion(probeVersion(wire.ProtocolVersion, func(v *wire.Version) {
				v.UserAgent = "/" + strings.Repeat("x", wire.MaxUserAgentLen) + "/"
			}))),
			Expect: map[Model]Expectation{
				ModelCore: ignores(),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "self-connection", Rule: "11",
			Summary: "our version carries the nonce the node sent on another, unfinished, inbound connection",
			Origin:  origin(originCoreNonce+": an inbound nonce is not ours to check, so Core answers", originBtcdPeer+": sentNonces holds every nonce btcd sent"),
			Script:  mockpeer.NewScript("self-connection", echoNodeNonce(defaultProbeObserve)),
			Expect: map[Model]Expectation{
				ModelCore: replies(wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack),
				ModelBtcd: disconnects(),
			},
		},
		{
			Name: "ping-after-verack", Rule: "12",
			Summary: "a ping once the handshake is complete",
			Origin:  origin(originCoreNP+": PING", originBtcdPeer),
			Script:  mockpeer.NewScript("ping-after-verack", steps(fullHandshake(), one(mockpeer.Send(wire.Ping{Nonce: 0x1234abcd})))...),
			Expect: map[Model]Expectation{
				ModelCore: pongs(),
				ModelBtcd: pongs(),
			},
		},
		{
			Name: "pre-verack-messages", Rule: "13",
			Summary: "our version at 70016, and no verack: what comes before the node has our verack",
			Origin:  origin(originCoreNP+": VERSION branch", originBtcdPeer),
			Script:  mockpeer.NewScript("pre-verack-messages", sendVersion(wire.ProtocolVersion)),
			Expect: map[Model]Expectation{
				ModelCore: {Sends: []string{wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack}, Only: preVerack, End: EndOpen},
				ModelBtcd: {Sends: []string{wire.CmdVersion, wire.CmdSendAddrV2, wire.CmdVerack}, Only: preVerack, End: EndOpen},
			},
		},
		{
			Name: "pre-verack-messages-70012", Rule: "13",
			Summary: "our version at 70012, and no verack: Core adds its final alert",
			Origin:  origin(originCoreNP+": VERSION branch, alert for common versions <= 70012", originBtcdPeer),
			Script:  mockpeer.NewScript("pre-verack-messages-70012", sendVersion(wire.SendHeadersVersion)),
			Expect: map[Model]Expectation{
				ModelCore: {Sends: []string{wire.CmdVersion, wire.CmdVerack, wire.CmdAlert}, Only: preVerack, End: EndOpen},
				ModelBtcd: {Sends: []string{wire.CmdVersion, wire.CmdVerack}, Only: preVerack, End: EndOpen},
			},
		},
		{
			Name: "v2-key", Rule: "v2",
			Summary: "64 bytes that open a BIP324 handshake instead of a v1 version",
			Origin:  origin(originCoreV2, originCoreNet+" with -v2transport=0: wrong magic", originBtcdPeer+": the length read from those bytes is over 4,000,000", originBtcdV2),
			Script:  mockpeer.NewScript("v2-key", mockpeer.SendRaw(v2Key())),
			Expect: map[Model]Expectation{
				ModelCore:   disconnects(),
				ModelCoreV2: coreV2Key,
				ModelBtcd:   disconnects(),
				ModelBtcdV2: btcdV2Key,
			},
		},
	}
}

// defaultProbeObserve is how long the harness watches a connection after a
// probe's last message by default (harness.DefaultObserve): how long the
// self-connection probe keeps its second connection.
const defaultProbeObserve = 500 * time.Millisecond

// otherNetwork is a network whose magic differs from n's.
func otherNetwork(n wire.Network) wire.Network {
	if n == wire.Mainnet {
		return wire.Testnet3
	}
	return wire.Mainnet
}
