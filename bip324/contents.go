package bip324

import (
	"fmt"

	"github.com/btc-handshake/btc-handshake/wire"
)

// shortIDs is BIP324's table of 1-byte message types; index 0 is the long
// form (a zero byte and 12 command bytes) and ids past the table are
// unassigned.
var shortIDs = [...]string{
	1: "addr", 2: "block", 3: "blocktxn", 4: "cmpctblock", 5: "feefilter",
	6: "filteradd", 7: "filterclear", 8: "filterload", 9: "getblocks",
	10: "getblocktxn", 11: "getdata", 12: "getheaders", 13: "headers",
	14: "inv", 15: "mempool", 16: "merkleblock", 17: "notfound", 18: "ping",
	19: "pong", 20: "sendcmpct", 21: "tx", 22: "getcfilters", 23: "cfilter",
	24: "getcfheaders", 25: "cfheaders", 26: "getcfcheckpt", 27: "cfcheckpt",
	28: "addrv2",
}

// ShortID returns BIP324's 1-byte message type for cmd, if it has one.
func ShortID(cmd string) (byte, bool) {
	for id := 1; id < len(shortIDs); id++ {
		if shortIDs[id] == cmd {
			return byte(id), true
		}
	}
	return 0, false
}

// AppendContents appends the contents of a packet carrying message cmd
// with payload: the short id when cmd has one, else a zero byte and cmd
// NUL-padded to 12 bytes (longer commands are cut, as by wire.CommandBytes).
func AppendContents(dst []byte, cmd string, payload []byte) []byte {
	if id, ok := ShortID(cmd); ok {
		dst = append(dst, id)
	} else {
		c := wire.CommandBytes(cmd)
		dst = append(dst, 0)
		dst = append(dst, c[:]...)
	}
	return append(dst, payload...)
}

// ParseContents splits a packet's contents into message type and payload
// (which aliases contents). A long-form type that has a short id gives the
// same command as the short form, as in Core. Its errors concern this
// message only (Core drops it and keeps the connection): ErrShortContents,
// ErrUnknownShortID (the id is in the error text) and ErrBadCommand.
func ParseContents(contents []byte) (cmd string, payload []byte, err error) {
	if len(contents) == 0 {
		return "", nil, ErrShortContents
	}
	if id := contents[0]; id != 0 {
		if int(id) >= len(shortIDs) {
			return "", contents[1:], fmt.Errorf("%w: %d", ErrUnknownShortID, id)
		}
		return shortIDs[id], contents[1:], nil
	}
	if len(contents) < 1+wire.CommandSize {
		return "", nil, fmt.Errorf("%w: long form in %d bytes", ErrShortContents, len(contents))
	}
	c := [wire.CommandSize]byte(contents[1 : 1+wire.CommandSize])
	h := wire.Header{Command: c}
	if !h.ValidCommand() {
		return "", nil, fmt.Errorf("%w: %q", ErrBadCommand, c[:])
	}
	name := h.CommandName()
	// The short-id table holds the canonical strings, so a long-form ping
	// and a short-form one compare equal without allocating twice.
	if id, ok := ShortID(name); ok {
		name = shortIDs[id]
	}
	return name, contents[1+wire.CommandSize:], nil
}
