package wire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Network identifies a Bitcoin network by its message-start magic. The value
// is the magic read as a little-endian uint32, so it can be compared with
// the first four bytes of a header without copying.
type Network uint32

// The five networks we speak (src/kernel/chainparams.cpp). The signet value
// is for the default signet challenge.
const (
	Mainnet  Network = 0xd9b4bef9 // f9 be b4 d9
	Testnet3 Network = 0x0709110b // 0b 11 09 07
	Testnet4 Network = 0x283f161c // 1c 16 3f 28
	Signet   Network = 0x40cf030a // 0a 03 cf 40
	Regtest  Network = 0xdab5bffa // fa bf b5 da
)

// Networks returns every known network, mainnet first.
func Networks() []Network {
	return []Network{Mainnet, Testnet3, Testnet4, Signet, Regtest}
}

// Magic returns the four message-start bytes as they appear on the wire.
func (n Network) Magic() [4]byte {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], uint32(n))
	return m
}

// DefaultPort is the network's default P2P port, or 0 for an unknown magic.
func (n Network) DefaultPort() uint16 {
	switch n {
	case Mainnet:
		return 8333
	case Testnet3:
		return 18333
	case Testnet4:
		return 48333
	case Signet:
		return 38333
	case Regtest:
		return 18444
	}
	return 0
}

// Known reports whether n is one of the five networks.
func (n Network) Known() bool { return n.DefaultPort() != 0 }

// String is the network's canonical name, or the magic in hex when unknown.
func (n Network) String() string {
	switch n {
	case Mainnet:
		return "mainnet"
	case Testnet3:
		return "testnet3"
	case Testnet4:
		return "testnet4"
	case Signet:
		return "signet"
	case Regtest:
		return "regtest"
	}
	m := n.Magic()
	return fmt.Sprintf("magic-%x", m[:])
}

// genesisHashes are the genesis block hashes as displayed (big-endian),
// src/kernel/chainparams.cpp; read-only.
var genesisHashes = map[Network]string{
	Mainnet:  "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
	Testnet3: "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
	Testnet4: "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
	Signet:   "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
	Regtest:  "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
}

// GenesisHash is the network's genesis block hash in wire (internal) byte
// order, or zero for an unknown network.
func (n Network) GenesisHash() [32]byte {
	var h [32]byte
	display, ok := genesisHashes[n]
	if !ok {
		return h
	}
	if _, err := hex.Decode(h[:], []byte(display)); err != nil {
		panic(err) // constants
	}
	slices.Reverse(h[:])
	return h
}

// ParseNetwork accepts mainnet, testnet (meaning testnet3), testnet3,
// testnet4, signet and regtest, case-insensitively.
func ParseNetwork(s string) (Network, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "mainnet":
		return Mainnet, nil
	case "testnet", "testnet3":
		return Testnet3, nil
	case "testnet4":
		return Testnet4, nil
	case "signet":
		return Signet, nil
	case "regtest":
		return Regtest, nil
	}
	return 0, fmt.Errorf("wire: unknown network %q (want mainnet, testnet, testnet3, testnet4, signet or regtest)", s)
}
