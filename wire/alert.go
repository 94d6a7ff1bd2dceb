package wire

import "encoding/hex"

// Alert is the retired alert message. Since the alert key was retired the
// only alert still sent is Bitcoin Core's final alert ("URGENT: Alert key
// compromised, upgrade required"), which Core sends to peers whose common
// version is at most 70012: the zero Alert is that alert. Decode leaves
// an alert a Raw.
type Alert struct {
	// Payload, when set, is sent instead of the final alert.
	Payload []byte
}

// finalAlert is the final alert's payload (src/net_processing.cpp, VERSION
// branch, before the alert system was removed).
var finalAlert = func() []byte {
	p, err := hex.DecodeString("60010000000000000000000000ffffff7f00000000ffffff7ffeffff7f01ffffff7f00000000ffffff7f00ffffff7f002f555247454e543a20416c657274206b657920636f6d70726f6d697365642c2075706772616465207265717569726564004630440220653febd6410f470f6bae11cad19c48413becb1ac2c17f908fd0fd53bdc3abd5202206d0e9c96fe88d4a0f01ed9dedae2b6f9e00da94cad0fecaae66ecf689bf71b50")
	if err != nil {
		panic(err) // a constant
	}
	return p
}()

// Command implements Message.
func (Alert) Command() string { return CmdAlert }

// AppendPayload implements Message.
func (m Alert) AppendPayload(dst []byte) []byte {
	if m.Payload != nil {
		return append(dst, m.Payload...)
	}
	return append(dst, finalAlert...)
}
