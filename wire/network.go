package wire

import (
	"encoding/binary"
	"fmt"
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

// NetworkNames lists the names ParseNetwork accepts, for help texts.
func NetworkNames() []string {
	return []string{"mainnet", "testnet", "testnet3", "testnet4", "signet", "regtest"}
}
