// Package wire is btc-handshake's own codec for the Bitcoin v1 P2P transport.
//
// It frames messages (magic, command, length, checksum), decodes and encodes
// the messages of the handshake phase, and keeps every other command as Raw
// bytes. It is bounded (a header that claims more than MaxPayload bytes is an
// error before anything is allocated) and allocation-lean (frames are read
// into one reusable buffer and messages are appended to caller buffers).
//
// Broken frames are explicit values (see Frame) so that mock peers can send
// them on purpose; the normal encoder never produces one.
//
// The rules follow Bitcoin Core (src/protocol.h, src/net.h,
// src/net_processing.cpp); btcd's wire package is used only as a test oracle.
package wire
