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
		if _, err := other.Write(wire.AppendMessage(nil, c.Network(), c.VersionFor(probeVersion(wire.ProtocolVersion, nil)))); err != nil {
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

// coreV2Key is the reaction of a node with v2 on to a first message that
// is not v1: its key, connection kept.
func coreV2Key() Expectation { return Expectation{NonV1: true, End: EndOpen} }

// btcdV2Key is btcd's: btcd --v2transport sends its key at the first byte
// that differs from magic‖"version" and then waits for 64 bytes
// (originBtcdV2).
func btcdV2Key() Expectation { return coreV2Key() }

// probeCatalog is every probe. The order follows docs/PROTOCOL.md's list.
func probeCatalog() []Probe {
	return slices.Concat(
		probesVersion(),
		probesBeforeVersion(),
		probesAroundVerack(),
		probesTimeouts(),
		probesChecksumCommand(),
		probesMagicLength(),
		probesMalformedVersion(),
		probesAfterHandshake(),
		probesV2Key(),
	)
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
