package handshake

import (
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// v2Transport carries messages in BIP324 packets, as the initiator. The
// session drives its handshake (client_v2.go): start, readKey,
// readTerminator, readVersionPacket; then next yields messages as
// v1Transport's does. Not pooled: the key exchange costs far more than
// the buffers.
type v2Transport struct {
	// res is the handshake's Result, where decoys and quirks are
	// counted; nil once a Conn has taken the transport over.
	res   *Result
	key   bip324.Key
	c     *bip324.Cipher
	in    inbuf
	out   []byte
	plain []byte // contents being encrypted
	// ourGarbage is the AAD of our version packet; peerGarbage that of
	// the peer's first packet, nil once it is authenticated.
	ourGarbage, peerGarbage []byte
	maxContents             int
	// pending is the decrypted length of a packet whose length field was
	// consumed but whose rest is not yet buffered, plus one (0: none).
	pending int
}

// v2BufSize holds the peer's key and the most garbage and terminator
// there can be, so the garbage is read without growing.
const v2BufSize = bip324.KeyLen + bip324.MaxGarbageLen + bip324.TerminatorLen

// v2OutSize holds our terminator, version packet and version (about 150
// bytes), and later packets, without growing.
const v2OutSize = 512

func newV2Transport(conn net.Conn, cfg *Config, res *Result) *v2Transport {
	return &v2Transport{
		res:         res,
		in:          inbuf{r: conn, buf: make([]byte, v2BufSize)},
		maxContents: 1 + wire.CommandSize + int(cfg.MaxPayload),
	}
}

// start makes our key and garbage and queues them.
func (t *v2Transport) start(garbageLen int) error {
	k, err := bip324.NewKey()
	if err != nil {
		return err
	}
	t.key = k
	switch {
	case garbageLen == 0:
		garbageLen = rand.IntN(bip324.MaxGarbageLen + 1)
	case garbageLen < 0:
		garbageLen = 0
	}
	garbageLen = min(garbageLen, bip324.MaxGarbageLen)
	// The key and garbage go out from a buffer of their own, which then
	// keeps our garbage for the version packet's AAD (readKey starts a new
	// output buffer): one allocation where a growing output buffer and a
	// copy of the garbage took three (BENCHMARKS.md, 3715ac6).
	hello := make([]byte, bip324.KeyLen+garbageLen)
	copy(hello, k.EllSwift[:])
	t.ourGarbage = hello[bip324.KeyLen:]
	_, _ = crand.Read(t.ourGarbage) // never fails (crypto/rand)
	t.out = hello
	t.res.GarbageSent = garbageLen
	return nil
}

// readKey reads the peer's key, derives the session and queues our
// terminator and version packet (its AAD: our garbage).
func (t *v2Transport) readKey(net wire.Network) error {
	if _, err := t.in.fill(bip324.KeyLen); err != nil {
		return err
	}
	theirs := [bip324.KeyLen]byte(t.in.bytes())
	t.in.consume(bip324.KeyLen)
	c, err := bip324.NewCipher(t.key, theirs, true, net)
	if err != nil {
		return err
	}
	t.c = c
	t.res.SessionID = c.SessionID()
	term := c.SendTerminator()
	// Not t.out[:0]: that is the hello, whose garbage is the AAD below.
	t.out = append(make([]byte, 0, v2OutSize), term[:]...)
	t.out, err = c.Encrypt(t.out, nil, t.ourGarbage, false)
	return err
}

// readTerminator reads the peer's garbage up to its terminator, never
// more than MaxGarbageLen+TerminatorLen bytes of it.
func (t *v2Transport) readTerminator() error {
	const window = bip324.MaxGarbageLen + bip324.TerminatorLen
	for {
		g, found, err := t.c.FindTerminator(t.in.bytes())
		if err != nil {
			return err
		}
		if found {
			t.peerGarbage = append([]byte{}, t.in.bytes()[:g]...)
			t.res.GarbageRecv = g
			t.in.consume(g + bip324.TerminatorLen)
			return nil
		}
		if err := t.in.readUpTo(window); err != nil {
			return err
		}
	}
}

// readVersionPacket reads the peer's version packet, skipping decoys.
func (t *v2Transport) readVersionPacket() error {
	for {
		contents, ignore, _, _, err := t.packet()
		if err != nil {
			return err
		}
		if ignore {
			t.decoy()
			t.res.addQuirk(QuirkV2DecoyBeforeVersionPacket)
			continue
		}
		if len(contents) > 0 {
			t.res.addQuirk(QuirkV2VersionPacketContents)
		}
		return nil
	}
}

func (t *v2Transport) decoy() {
	if t.res != nil {
		t.res.Decoys++
	}
	t.quirk(QuirkV2Decoy)
}

// quirk counts q in the handshake's Result, if there still is one.
func (t *v2Transport) quirk(q Quirk) {
	if t.res != nil {
		t.res.addQuirk(q)
	}
}

// packet reads and decrypts the next packet. Its length is judged from
// the 3-byte field before anything is allocated for it, and its bytes are
// buffered as they arrive (inbuf), not at the length it declares.
func (t *v2Transport) packet() (contents []byte, ignore bool, size int, fresh bool, err error) {
	if t.pending == 0 {
		fresh, err = t.in.fill(bip324.LengthLen)
		if err != nil {
			return nil, false, 0, fresh, err
		}
		n, err := t.c.DecryptLength([bip324.LengthLen]byte(t.in.bytes()))
		if err == nil && n > t.maxContents {
			err = bip324.ErrPacketTooLarge
		}
		if err != nil {
			return nil, false, 0, fresh, fmt.Errorf("%w: %d bytes declared, limit %d", err, n, t.maxContents)
		}
		t.in.consume(bip324.LengthLen)
		t.pending = n + 1
	}
	rest := t.pending - 1 + bip324.Expansion - bip324.LengthLen
	more, err := t.in.fill(rest)
	fresh = fresh || more
	if err != nil {
		return nil, false, 0, fresh, err
	}
	t.pending = 0
	contents, ignore, err = t.c.Decrypt(t.in.bytes()[:rest], t.peerGarbage)
	t.in.consume(rest)
	if err != nil {
		return nil, false, 0, fresh, err
	}
	t.peerGarbage = nil
	return contents, ignore, rest + bip324.LengthLen, fresh, nil
}

func (t *v2Transport) queue(m wire.Message) int {
	t.plain = bip324.AppendContents(t.plain[:0], m.Command(), nil)
	head := len(t.plain)
	t.plain = m.AppendPayload(t.plain)
	// Encrypt fails only for contents over 16 MiB, which no message we
	// send comes near.
	t.out, _ = t.c.Encrypt(t.out, t.plain, nil, false)
	return len(t.plain) - head
}

func (t *v2Transport) output() []byte       { return t.out }
func (t *v2Transport) written()             { t.out = t.out[:0] }
func (t *v2Transport) buffered() int        { return t.in.len() }
func (t *v2Transport) verackBuffered() bool { return false } // would take decrypting ahead
func (t *v2Transport) ready() bool          { return false } // likewise; see verackBuffered

func (t *v2Transport) next() (message, error) {
	var m message
	for {
		contents, ignore, size, fresh, err := t.packet()
		m.fresh = m.fresh || fresh
		if err != nil {
			return m, err
		}
		m.size += size
		if ignore {
			t.decoy()
			continue
		}
		cmd, payload, err := bip324.ParseContents(contents)
		m.cmd, m.payload = cmd, payload
		switch {
		case err == nil:
			if contents[0] == 0 {
				if _, ok := bip324.ShortID(cmd); ok {
					t.quirk(QuirkV2LongFormCommand)
				}
			}
		case errors.Is(err, bip324.ErrUnknownShortID):
			m.dropped, m.quirk = err, QuirkV2UnknownShortID
		case errors.Is(err, bip324.ErrBadCommand):
			m.dropped, m.quirk = err, QuirkBadCommand
		default:
			m.dropped, m.quirk = err, QuirkMalformedIgnored
		}
		return m, nil
	}
}
