package wire_test

import (
	"encoding/hex"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("reject, getheaders, alert and the genesis hashes", func() {
	It("encodes a reject and decodes it back", func() {
		m := wire.Reject{Message: "version", Code: wire.RejectDuplicate, Reason: "duplicate version message"}
		p := m.AppendPayload(nil)
		Expect(p[:8]).To(Equal([]byte("\x07version")))
		Expect(p[8]).To(Equal(wire.RejectDuplicate))
		var back wire.Reject
		Expect(back.DecodePayload(p)).To(Succeed())
		Expect(back).To(Equal(m))
		Expect(back.DecodePayload(p[:10])).To(MatchError(wire.ErrTruncated))
	})

	It("encodes the getheaders of a node with only the genesis block", func() {
		g := wire.Regtest.GenesisHash()
		display := slices.Clone(g[:])
		slices.Reverse(display)
		Expect(hex.EncodeToString(display)).To(Equal("0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"))
		m := wire.GetHeaders{Locator: [][32]byte{g}}
		p := m.AppendPayload(nil)
		Expect(p).To(HaveLen(4 + 1 + 32 + 32))
		var back wire.GetHeaders
		Expect(back.DecodePayload(p)).To(Succeed())
		Expect(back.Version).To(Equal(wire.ProtocolVersion))
		Expect(back.Locator).To(Equal(m.Locator))
		Expect(back.DecodePayload(p[:40])).To(MatchError(wire.ErrTruncated))
		Expect(wire.Network(1).GenesisHash()).To(BeZero())
	})

	It("sends Core's final alert for the zero Alert", func() {
		p := wire.Alert{}.AppendPayload(nil)
		Expect(string(p)).To(ContainSubstring("URGENT: Alert key compromised, upgrade required"))
		Expect(wire.Alert{Payload: []byte{1}}.AppendPayload(nil)).To(Equal([]byte{1}))
		Expect(wire.Decode(wire.CmdAlert, p)).To(Equal(wire.Raw{Cmd: wire.CmdAlert, Payload: p}))
	})
})
