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

	// BIP324 (v2 transport) quirks.

	// a decoy packet (header's ignore bit set), skipped as BIP324 requires.
	QuirkV2Decoy Quirk = "v2-decoy"
	// a decoy before the peer's version packet: it carries the garbage as
	// AAD in place of the version packet (an implementation once failed on it).
	QuirkV2DecoyBeforeVersionPacket Quirk = "v2-decoy-before-version-packet"
	// a version packet with contents (reserved for future extensions; ignored).
	QuirkV2VersionPacketContents Quirk = "v2-version-packet-contents"
	// a message with a short id BIP324 does not assign, dropped as Core does.
	QuirkV2UnknownShortID Quirk = "v2-unknown-short-id"
	// a message in the 13-byte long form although it has a 1-byte short id
	// (valid; Core treats both forms alike).
	QuirkV2LongFormCommand Quirk = "v2-long-form-command"
)

// quirks lists every Quirk, for Known.
var quirks = [...]Quirk{QuirkCoalescedVerack, QuirkVerackBeforeVersion, QuirkMessageBeforeVersion,
	QuirkSendCmpctBeforeVerack, QuirkSendHeadersBeforeVerack, QuirkPingBeforeVerack,
	QuirkUnexpectedBeforeVerack, QuirkNegotiationAfterVerack, QuirkDuplicateVersion,
	QuirkDuplicateVerack, QuirkOldProtocol, QuirkNewerProtocol, QuirkVersionNoRelay,
	QuirkVersionShort, QuirkVersionTrailingBytes, QuirkNegativeTimestamp, QuirkAlert,
	QuirkBadChecksum, QuirkBadCommand, QuirkMalformedIgnored,
	QuirkV2Decoy, QuirkV2DecoyBeforeVersionPacket, QuirkV2VersionPacketContents,
	QuirkV2UnknownShortID, QuirkV2LongFormCommand}

// Known reports whether q is one of the quirks above: a scenario or report
// naming another is a typo or comes from a newer version.
func (q Quirk) Known() bool {
	for _, have := range quirks {
		if have == q {
			return true
		}
	}
	return false
}
