package mockpeer

import (
	"encoding/binary"
	"encoding/hex"
	"slices"

	"github.com/btc-handshake/btc-handshake/wire"
)

// Reject codes (BIP61), as btcd still sends them (wire/msgreject.go).
const (
	RejectMalformed   byte = 0x01
	RejectInvalid     byte = 0x10
	RejectObsolete    byte = 0x11
	RejectDuplicate   byte = 0x12
	RejectNonstandard byte = 0x40
)

// Reject builds a reject message (BIP61): the rejected command, a code and
// a reason. Bitcoin Core no longer sends reject; btcd does.
func Reject(command string, code byte, reason string) wire.Raw {
	p := wire.AppendCompactSize(nil, uint64(len(command)))
	p = append(p, command...)
	p = append(p, code)
	p = wire.AppendCompactSize(p, uint64(len(reason)))
	p = append(p, reason...)
	return wire.Raw{Cmd: wire.CmdReject, Payload: p}
}

// finalAlertHex is the "final alert" Bitcoin Core sent to peers whose
// version is at most 70012 (NP, VERSION branch, after the alert key was
// retired): "URGENT: Alert key compromised, upgrade required".
const finalAlertHex = "60010000000000000000000000ffffff7f00000000ffffff7ffeffff7f01ffffff7f00000000ffffff7f00ffffff7f002f555247454e543a20416c657274206b657920636f6d70726f6d697365642c2075706772616465207265717569726564004630440220653febd6410f470f6bae11cad19c48413becb1ac2c17f908fd0fd53bdc3abd5202206d0e9c96fe88d4a0f01ed9dedae2b6f9e00da94cad0fecaae66ecf689bf71b50"

// FinalAlert is the alert message Bitcoin Core sends to old peers (common
// version ≤ 70012).
func FinalAlert() wire.Raw {
	p, err := hex.DecodeString(finalAlertHex)
	if err != nil {
		panic(err) // a constant
	}
	return wire.Raw{Cmd: wire.CmdAlert, Payload: p}
}

// genesisHashes are the genesis block hashes as displayed (big-endian)
// (src/kernel/chainparams.cpp); read-only.
var genesisHashes = map[wire.Network]string{
	wire.Mainnet:  "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
	wire.Testnet3: "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
	wire.Testnet4: "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
	wire.Signet:   "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
	wire.Regtest:  "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
}

// GenesisHash returns the network's genesis block hash in wire (internal)
// byte order, or false for an unknown network.
func GenesisHash(n wire.Network) ([32]byte, bool) {
	var h [32]byte
	display, ok := genesisHashes[n]
	if !ok {
		return h, false
	}
	if _, err := hex.Decode(h[:], []byte(display)); err != nil {
		panic(err) // constants
	}
	slices.Reverse(h[:])
	return h, true
}

// GetHeaders builds the getheaders a node with only the genesis block
// sends: locator version 70016, one hash (genesis), zero stop hash.
func GetHeaders(n wire.Network) wire.Raw {
	p := make([]byte, 4, 4+1+32+32)
	binary.LittleEndian.PutUint32(p, uint32(wire.ProtocolVersion))
	p = wire.AppendCompactSize(p, 1)
	g, _ := GenesisHash(n)
	p = append(p, g[:]...)
	p = p[:len(p)+32] // zero stop hash
	return wire.Raw{Cmd: wire.CmdGetHeaders, Payload: p}
}
