package handshake_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// A BIP324 responder for these specs, over package bip324: it reads the
// client's key, answers with its key, garbage, terminator and version
// packet, then plays Bitcoin Core's v1 messages in packets (version,
// wtxidrelay, sendaddrv2, verack in one write once the client's version
// is in). The knobs change what a peer can vary.
type v2Knobs struct {
	garbage       int  // garbage length after our key
	noTerminator  bool // send the garbage and nothing more
	tamperGarbage bool // authenticate the first packet with other bytes than the garbage sent
	decoysBefore  int  // decoys before the version packet (the first carries the AAD)
	decoysAfter   int  // decoys right after the version packet
	decoysLater   int  // decoys between version and verack
	// oversized, when not nil, is a buffer (cap ≥ 2^24+32) used to
	// encrypt a packet of 2^24-1 bytes of contents (made without
	// allocating: the spec measures the client's allocations); only its
	// 3-byte length field is sent, in place of the version message.
	oversized []byte
	// session receives the session id.
	session chan [bip324.SessionIDLen]byte
}

// v2Conn is the responder's side of a v2 connection.
type v2Conn struct {
	pc  *peerConn
	c   *bip324.Cipher
	buf []byte
}

// readN reads until buf holds n bytes.
func (v *v2Conn) readN(n int) error {
	for len(v.buf) < n {
		_ = v.pc.conn.SetReadDeadline(time.Now().Add(peerIOTimeout))
		tmp := make([]byte, 4096)
		k, err := v.pc.conn.Read(tmp)
		v.buf = append(v.buf, tmp[:k]...)
		if err != nil && len(v.buf) < n {
			return err
		}
	}
	return nil
}

func (v *v2Conn) packet(aad []byte) (contents []byte, ignore bool, err error) {
	if err := v.readN(bip324.LengthLen); err != nil {
		return nil, false, err
	}
	n, err := v.c.DecryptLength([bip324.LengthLen]byte(v.buf))
	if err != nil {
		return nil, false, err
	}
	end := n + bip324.Expansion
	if err := v.readN(end); err != nil {
		return nil, false, err
	}
	pkt := bytes.Clone(v.buf[bip324.LengthLen:end])
	v.buf = v.buf[end:]
	return v.c.Decrypt(pkt, aad)
}

// send encrypts msgs as packets and sends them in one write.
func (v *v2Conn) send(msgs ...wire.Message) error {
	var out []byte
	for _, m := range msgs {
		out, _ = v.c.Encrypt(out, bip324.AppendContents(nil, m.Command(), m.AppendPayload(nil)), nil, false)
	}
	return v.pc.write(out)
}

// v2Responder returns the script of a v2 peer with knobs k.
func v2Responder(k v2Knobs) script {
	return func(pc *peerConn) error {
		v := &v2Conn{pc: pc}
		if err := v.readN(bip324.KeyLen); err != nil {
			return fmt.Errorf("reading the key: %w", err)
		}
		theirs := [bip324.KeyLen]byte(v.buf)
		v.buf = v.buf[bip324.KeyLen:]
		key, err := bip324.NewKey()
		if err != nil {
			return err
		}
		garbage := bytes.Repeat([]byte{0xa5}, k.garbage)
		out := append(append([]byte{}, key.EllSwift[:]...), garbage...)
		if k.noTerminator {
			if err := pc.write(out); err != nil {
				return err
			}
			return pc.drainRaw()
		}
		c, err := bip324.NewCipher(key, theirs, false, wire.Mainnet)
		if err != nil {
			return err
		}
		v.c = c
		if k.session != nil {
			k.session <- c.SessionID()
		}
		term := c.SendTerminator()
		out = append(out, term[:]...)
		aad := garbage
		if k.tamperGarbage {
			aad = append(bytes.Clone(garbage), 1)
		}
		for range k.decoysBefore {
			out, _ = c.Encrypt(out, make([]byte, 10), aad, true)
			aad = nil
		}
		out, _ = c.Encrypt(out, nil, aad, false)
		for range k.decoysAfter {
			out, _ = c.Encrypt(out, make([]byte, 100), nil, true)
		}
		if err := pc.write(out); err != nil {
			return err
		}

		// The client's garbage, terminator, version packet, then messages.
		g, found, err := c.FindTerminator(v.buf)
		for !found {
			if err != nil {
				return err
			}
			if err := v.readN(len(v.buf) + 1); err != nil {
				return fmt.Errorf("no terminator from the client: %w", err)
			}
			g, found, err = c.FindTerminator(v.buf)
		}
		cgarbage := bytes.Clone(v.buf[:g])
		v.buf = v.buf[g+bip324.TerminatorLen:]
		if contents, ignore, err := v.packet(cgarbage); err != nil || ignore || len(contents) != 0 {
			return fmt.Errorf("client's version packet: %d bytes, ignore %v, %v", len(contents), ignore, err)
		}
		for {
			contents, ignore, err := v.packet(nil)
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err) {
					return nil
				}
				return err
			}
			if ignore {
				continue
			}
			cmd, _, err := bip324.ParseContents(contents)
			if err != nil {
				return err
			}
			pc.got = append(pc.got, cmd)
			if cmd != wire.CmdVersion {
				continue
			}
			if k.oversized != nil {
				big, _ := c.Encrypt(k.oversized[:0], k.oversized[:1<<24-1], nil, false)
				if err := pc.write(big[:bip324.LengthLen]); err != nil {
					return err
				}
				continue
			}
			if k.decoysLater > 0 {
				var d []byte
				for range k.decoysLater {
					d, _ = c.Encrypt(d, []byte("decoy"), nil, true)
				}
				if err := pc.write(d); err != nil {
					return err
				}
			}
			if err := v.send(peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}); err != nil {
				return err
			}
		}
	}
}

// v1Only is a v1-only node: its v1 reading takes a v2 key for a header
// with a bad magic and closes; a v1 version gets Core's v1 answer.
func v1Only(pc *peerConn) error {
	first := make([]byte, bip324.DetectSize)
	_ = pc.conn.SetReadDeadline(time.Now().Add(peerIOTimeout))
	if _, err := io.ReadFull(pc.conn, first); err != nil {
		return err
	}
	if bip324.Detect(first, wire.Mainnet) != bip324.V1 {
		pc.got = append(pc.got, "v2-key")
		return nil // closes
	}
	pc.r = wire.NewReader(io.MultiReader(bytes.NewReader(first), pc.conn), wire.Mainnet)
	return coreReply(70016)(pc)
}

// hangOnKey reads the key and then only listens (nakamoto's stall).
func hangOnKey(pc *peerConn) error {
	return pc.drainRaw()
}

// drainRaw reads raw bytes until the client hangs up.
func (pc *peerConn) drainRaw() error {
	b := make([]byte, 4096)
	for {
		_ = pc.conn.SetReadDeadline(time.Now().Add(peerIOTimeout))
		if _, err := pc.conn.Read(b); err != nil {
			if errors.Is(err, io.EOF) || isReset(err) {
				return nil
			}
			return err
		}
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout()
}
