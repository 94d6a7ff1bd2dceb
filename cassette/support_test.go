package cassette_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/google/gopacket/pcapgo"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/cassette"
)

// recordings is the shared folder of real Core recordings, relative to
// this package's directory.
const recordings = "../../shared/recordings/core-v30"

// needRecordings returns the recordings folder; without it, outside CI the
// spec is skipped naming the path, in CI it fails.
func needRecordings() string {
	if _, err := os.Stat(filepath.Join(recordings, "README.md")); err != nil {
		if os.Getenv("CI") != "" {
			Fail("the recordings of real Core are missing: " + recordings + " (" + err.Error() + ")")
		}
		Skip("no recordings of real Core at " + recordings + " (outside CI); CI requires them")
	}
	return recordings
}

// importPcap imports one of the recorded pcaps, unredacted.
func importPcap(name string) *cassette.Cassette {
	path := filepath.Join(needRecordings(), "pcap", name)
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	c, err := cassette.ImportPcap(f, path, cassette.ImportOptions{NoRedact: true})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// countSYNs counts the connection openings of an Ethernet/IPv4 pcap with
// its own header arithmetic, independently of the importer: packets with
// SYN and without ACK, a retransmitted SYN (same port and sequence
// number) counted once.
func countSYNs(path string) int {
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	Expect(err).NotTo(HaveOccurred())
	seen := map[[2]uint32]bool{}
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		Expect(err).NotTo(HaveOccurred())
		const eth = 14
		if len(data) < eth+20 || binary.BigEndian.Uint16(data[12:14]) != 0x0800 || data[eth+9] != 6 {
			continue
		}
		tcp := data[eth+int(data[eth]&0x0f)*4:]
		flags := tcp[13]
		if flags&0x02 != 0 && flags&0x10 == 0 {
			seen[[2]uint32{uint32(binary.BigEndian.Uint16(tcp[0:2])), binary.BigEndian.Uint32(tcp[4:8])}] = true
		}
	}
	return len(seen)
}

// commands lists the v1 commands a party sent in cn, and whether
// each came in a segment of its own.
func commands(cn cassette.Conn, from string) []string {
	cmds, _ := commandsAlone(cn, from)
	return cmds
}

func commandsAlone(cn cassette.Conn, from string) (cmds []string, alone []bool) {
	for _, e := range cn.Events {
		if e.From != from {
			continue
		}
		for _, m := range e.Msgs {
			if m.V2 == "" && m.Err == "" {
				cmds = append(cmds, m.Cmd)
				alone = append(alone, len(e.Msgs) == 1)
			}
		}
	}
	return cmds, alone
}

func openFile(path string) (*os.File, error) { return os.Open(path) }

func must[T any](v T, err error) T {
	Expect(err).NotTo(HaveOccurred())
	return v
}

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }
