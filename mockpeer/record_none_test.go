package mockpeer_test

import (
	"io"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// RecordNone is for servers that run long (`btc-handshake mock serve`):
// nothing accumulates per connection, and failures still get out.
var _ = Describe("RecordNone", func() {
	It("records nothing, however many connections come and go", func() {
		srv := newServer(mockpeer.WithRecording(mockpeer.Recording{Off: true}))
		srv.SetDefaultScript(mockpeer.CoreResponder().Script())
		for range 20 {
			c := dialRaw(srv.Addr())
			c.send(clientVersion(70016, wire.NodeNetwork))
			Expect(c.commands(4)).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
			c.write(wire.NewRawFrame(regtest, wire.Ping{Nonce: 1}).WithBadChecksum().Bytes())
			Expect(c.conn.Close()).To(Succeed())
		}
		Eventually(srv.Finished).Should(Equal(20))
		Expect(srv.Transcript()).To(BeEmpty())
		Expect(srv.Received()).To(BeEmpty())
	})

	It("still reports failures", func() {
		srv, failures := newCapturingServer(mockpeer.WithRecording(mockpeer.Recording{Off: true}))
		srv.AppendScripts(mockpeer.NewScript("wants a verack", mockpeer.Expect(wire.CmdVerack).Within(50*time.Millisecond)))
		c := dialRaw(srv.Addr())
		_, err := c.readEnd()
		Expect(err).To(MatchError(io.EOF))
		Eventually(failures.Messages).Should(ContainElement(ContainSubstring("wants a verack")))
		Expect(srv.Transcript()).To(BeEmpty())
	})
})
