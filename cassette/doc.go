// Package cassette reads, writes, imports and draws cassettes: recordings
// of Bitcoin P2P connections, byte for byte, in a versioned JSON Lines
// format (FORMAT.md beside this file is its specification).
//
// A cassette holds one or more connections. Each connection has two
// parties named by TCP role, whoever recorded it: the "client" opened the
// connection (sent the SYN) and the "node" accepted it. Every event is a
// segment of bytes one party sent, as it was read or written (segment
// boundaries kept), with its time from the connection's start and the v1
// messages that the segment completed decoded beside the bytes; a close
// (FIN or RST) is an event too, and the connection's end says how and by
// whom it ended first.
//
// Cassettes come from a pcap or pcapng file (ImportPcap reassembles TCP
// streams), from Bitcoin Core's -capturemessages directories
// (ImportCapture: messages only, no bytes), and, once the client and the
// mock peer record, from live runs: a recorder appends an Event per Read
// or Write of its connection and calls Decode before Write.
// A v2 (BIP324) stream is encrypted: its bytes decode to its parts only,
// and a recording made through our client gets the client's decrypted
// messages and the session's framing beside them (Recorder.Annotate).
// Imports redact what identifies the recorder unless told not to (Redact).
//
// Reading is bounded: Read refuses a line or a file over its limit and
// reports, never panics on, anything malformed.
package cassette
