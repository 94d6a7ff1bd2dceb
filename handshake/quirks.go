package handshake

// Quirk names a tolerated deviation from the handshake as Bitcoin Core
// performs it. Names are stable; scenarios and reports use them.
type Quirk string

// The quirks the client recognises.
const (
	// The peer's verack arrived in the same read as its version (the
	// original tool lost it; Core peers do this routinely).
	QuirkCoalescedVerack Quirk = "version-verack-coalesced"
	// verack came before the peer's version.
	QuirkVerackBeforeVersion Quirk = "verack-before-version"
	// a message other than version or verack came before the peer's version.
	QuirkMessageBeforeVersion Quirk = "message-before-version"
	// sendcmpct (BIP152) before verack; Core sends it only after our verack.
	QuirkSendCmpctBeforeVerack Quirk = "sendcmpct-before-verack"
	// sendheaders (BIP130) before verack.
	QuirkSendHeadersBeforeVerack Quirk = "sendheaders-before-verack"
	// ping before verack (Core ignores it; btcd disconnects).
	QuirkPingBeforeVerack Quirk = "ping-before-verack"
	// a message that has no place before verack (NP: only verack,
	// sendheaders, sendcmpct, wtxidrelay, sendaddrv2 and sendtxrcncl).
	QuirkUnexpectedBeforeVerack Quirk = "unexpected-message-before-verack"
	// wtxidrelay or sendaddrv2 after verack (Core disconnects such a peer).
	QuirkNegotiationAfterVerack Quirk = "negotiation-after-verack"
	// a second version (ignored, as Core does).
	QuirkDuplicateVersion Quirk = "duplicate-version"
	// a second verack (ignored, as Core does).
	QuirkDuplicateVerack Quirk = "duplicate-verack"
	// the peer's protocol version is below 70016 (wtxidrelay/sendaddrv2 not negotiated).
	QuirkOldProtocol Quirk = "old-protocol-version"
	// the peer's protocol version is above ours; treated as ours.
	QuirkNewerProtocol Quirk = "newer-protocol-version"
	// version without the relay byte (absent means true, BIP37).
	QuirkVersionNoRelay Quirk = "version-without-relay"
	// version with only some optional groups (down to the 46-byte minimum).
	QuirkVersionShort Quirk = "version-without-optional-fields"
	// bytes after relay in version (Core ignores them; btcd disconnects).
	QuirkVersionTrailingBytes Quirk = "version-trailing-bytes"
	// a negative timestamp in version (Core clamps it to 0).
	QuirkNegativeTimestamp Quirk = "negative-timestamp"
	// an alert message (old protocol versions).
	QuirkAlert Quirk = "alert"
	// a frame with a bad checksum, dropped as Core does.
	QuirkBadChecksum Quirk = "bad-checksum-ignored"
	// a frame with invalid command bytes, dropped as Core does.
	QuirkBadCommand Quirk = "invalid-command-ignored"
	// a malformed non-essential message (e.g. a short sendcmpct), ignored.
	QuirkMalformedIgnored Quirk = "malformed-message-ignored"
)

// Quirks lists every Quirk.
func Quirks() []Quirk {
	return []Quirk{QuirkCoalescedVerack, QuirkVerackBeforeVersion, QuirkMessageBeforeVersion,
		QuirkSendCmpctBeforeVerack, QuirkSendHeadersBeforeVerack, QuirkPingBeforeVerack,
		QuirkUnexpectedBeforeVerack, QuirkNegotiationAfterVerack, QuirkDuplicateVersion,
		QuirkDuplicateVerack, QuirkOldProtocol, QuirkNewerProtocol, QuirkVersionNoRelay,
		QuirkVersionShort, QuirkVersionTrailingBytes, QuirkNegativeTimestamp, QuirkAlert,
		QuirkBadChecksum, QuirkBadCommand, QuirkMalformedIgnored}
}
