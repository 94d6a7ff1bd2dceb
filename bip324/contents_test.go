package bip324_test

import (
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
)

// longForm is a 13-byte message type: a zero byte and the command,
// NUL-padded, followed by the payload.
func longForm(cmd string, payload []byte) []byte {
	var c [12]byte
	copy(c[:], cmd)
	return append(append([]byte{0}, c[:]...), payload...)
}

var _ = Describe("packet contents", func() {
	payload := []byte{0xde, 0xad, 0xbe, 0xef}

	// The table of BIP324 ("v2 Bitcoin P2P message type encodings"), typed
	// out here independently of the package's own table.
	DescribeTable("encodes and decodes every short message id of the BIP",
		func(id int, cmd string) {
			got, ok := bip324.ShortID(cmd)
			Expect(ok).To(BeTrue())
			Expect(got).To(Equal(byte(id)))

			contents := bip324.AppendContents(nil, cmd, payload)
			Expect(contents).To(Equal(append([]byte{byte(id)}, payload...)))
			c, p, err := bip324.ParseContents(contents)
			Expect(err).NotTo(HaveOccurred())
			Expect(c).To(Equal(cmd))
			Expect(p).To(Equal(payload))

			By("treating the 13-byte long form of the same command the same way")
			c, p, err = bip324.ParseContents(longForm(cmd, payload))
			Expect(err).NotTo(HaveOccurred())
			Expect(c).To(Equal(cmd))
			Expect(p).To(Equal(payload))
		},
		Entry(nil, 1, "addr"), Entry(nil, 2, "block"), Entry(nil, 3, "blocktxn"),
		Entry(nil, 4, "cmpctblock"), Entry(nil, 5, "feefilter"), Entry(nil, 6, "filteradd"),
		Entry(nil, 7, "filterclear"), Entry(nil, 8, "filterload"), Entry(nil, 9, "getblocks"),
		Entry(nil, 10, "getblocktxn"), Entry(nil, 11, "getdata"), Entry(nil, 12, "getheaders"),
		Entry(nil, 13, "headers"), Entry(nil, 14, "inv"), Entry(nil, 15, "mempool"),
		Entry(nil, 16, "merkleblock"), Entry(nil, 17, "notfound"), Entry(nil, 18, "ping"),
		Entry(nil, 19, "pong"), Entry(nil, 20, "sendcmpct"), Entry(nil, 21, "tx"),
		Entry(nil, 22, "getcfilters"), Entry(nil, 23, "cfilter"), Entry(nil, 24, "getcfheaders"),
		Entry(nil, 25, "cfheaders"), Entry(nil, 26, "getcfcheckpt"), Entry(nil, 27, "cfcheckpt"),
		Entry(nil, 28, "addrv2"),
	)

	DescribeTable("uses the long form for commands without a short id",
		func(cmd string) {
			_, ok := bip324.ShortID(cmd)
			Expect(ok).To(BeFalse())
			contents := bip324.AppendContents(nil, cmd, payload)
			Expect(contents).To(Equal(longForm(cmd, payload)))
			c, p, err := bip324.ParseContents(contents)
			Expect(err).NotTo(HaveOccurred())
			Expect(c).To(Equal(cmd))
			Expect(p).To(Equal(payload))
		},
		Entry(nil, "version"), Entry(nil, "verack"), Entry(nil, "sendaddrv2"),
		Entry(nil, "wtxidrelay"), Entry(nil, "sendheaders"), Entry(nil, "getaddr"),
		Entry(nil, "sendtxrcncl"), Entry(nil, "twelve-bytes"),
	)

	It("reports every unassigned short id (29..255) as such, with the payload", func() {
		for id := 29; id <= 255; id++ {
			c, p, err := bip324.ParseContents(append([]byte{byte(id)}, payload...))
			Expect(err).To(MatchError(bip324.ErrUnknownShortID), "id %d", id)
			Expect(err.Error()).To(ContainSubstring(fmt.Sprint(id)))
			Expect(c).To(BeEmpty())
			Expect(p).To(Equal(payload))
		}
	})

	DescribeTable("rejects malformed message types",
		func(contents []byte, want error) {
			_, _, err := bip324.ParseContents(contents)
			Expect(err).To(MatchError(want))
		},
		Entry("empty contents", []byte{}, bip324.ErrShortContents),
		Entry("long form cut short", longForm("ping", nil)[:12], bip324.ErrShortContents),
		Entry("empty long-form command", longForm("", nil), bip324.ErrBadCommand),
		Entry("a control character", longForm("ver\x01ack", nil), bip324.ErrBadCommand),
		Entry("a byte past ASCII", longForm("verack\xff", nil), bip324.ErrBadCommand),
		Entry("bytes after the NUL padding", longForm("ping\x00x", nil), bip324.ErrBadCommand),
	)
})
