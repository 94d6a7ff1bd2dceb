package handshake_test

import (
	"errors"
	"io"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/internal/ndjson"
	"github.com/btc-handshake/btc-handshake/wire"
)

// answerRaw is a peer that does not parse what the client sends (it may
// speak another network): it waits for a header's worth of bytes, writes
// b and reads until the client hangs up.
func answerRaw(b []byte) script {
	return func(pc *peerConn) error {
		_ = pc.conn.SetReadDeadline(time.Now().Add(peerIOTimeout))
		if _, err := io.ReadFull(pc.conn, make([]byte, wire.HeaderSize)); err != nil {
			return err
		}
		if err := pc.write(b); err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, pc.conn)
		return nil
	}
}

var _ = Describe("What a failure says about its cause", func() {
	It("names the network of a peer that answers with another network's magic, in the error and the report", func() {
		p := startPeer(answerRaw(frames(peerVersion(70016)))) // frames speak mainnet
		res, err := dial(p.Addr(), handshake.Config{Network: wire.Regtest, Timeout: generous})
		expectFailure(res, err, p.Addr(), handshake.KindBadMagic, handshake.PhaseVersion)
		Expect(err.Error()).To(ContainSubstring("peer speaks mainnet, we asked for regtest"))
		Expect(errors.Is(err, wire.ErrBadMagic)).To(BeTrue(), "the wire error stays in the chain")
		Expect(res.Report().Error.PeerNetwork).To(Equal("mainnet"))
	})

	It("names no network for a magic that is no network's", func() {
		b := frames(peerVersion(70016))
		copy(b, "\x01\x02\x03\x04")
		p := startPeer(answerRaw(b))
		res, err := dial(p.Addr(), handshake.Config{Network: wire.Regtest, Timeout: generous})
		expectFailure(res, err, p.Addr(), handshake.KindBadMagic, handshake.PhaseVersion)
		Expect(res.Report().Error.PeerNetwork).To(BeEmpty())
		Expect(err.Error()).NotTo(ContainSubstring("peer speaks"))
	})

	It("hints at another network when the peer hangs up right after our version, saying nothing", func() {
		p := startPeer(func(pc *peerConn) error { return pc.await(wire.CmdVersion) })
		res, err := dial(p.Addr(), handshake.Config{Timeout: generous})
		expectFailure(res, err, p.Addr(), handshake.KindPeerClosed, handshake.PhaseVersion)
		Expect(err.Error()).To(ContainSubstring("the peer closed right after our version: is it on another network? we asked for mainnet"))
		Expect(errors.Is(err, io.EOF)).To(BeTrue())
	})

	It("gives no such hint to a peer that hung up inside a frame: it did speak", func() {
		p := startPeer(func(pc *peerConn) error {
			if err := pc.await(wire.CmdVersion); err != nil {
				return err
			}
			return pc.write(frames(peerVersion(70016))[:50])
		})
		res, err := dial(p.Addr(), handshake.Config{Timeout: generous})
		expectFailure(res, err, p.Addr(), handshake.KindPeerClosed, handshake.PhaseVersion)
		Expect(err.Error()).NotTo(ContainSubstring("another network"))
	})

	It("keeps the version a peer was rejected for in the report, though Peer stays nil", func() {
		p := startPeer(reply(peerVersion(70015)))
		res, err := dial(p.Addr(), handshake.Config{Timeout: generous, MinPeerVersion: 70016})
		expectFailure(res, err, p.Addr(), handshake.KindVersionTooLow, handshake.PhaseVersion)
		Expect(err.Error()).To(ContainSubstring("peer version 70015 below minimum 70016"))
		Expect(res.Peer).To(BeNil(), "Peer holds accepted versions only")
		rep := res.Report()
		Expect(rep.Version).To(BeEquivalentTo(70015))
		Expect(rep.UserAgent).To(Equal(peerVersion(70015).UserAgent))
	})
})

var _ = Describe("Summary", func() {
	It("counts results by outcome, user agent, version, transport, quirk and error kind", func() {
		good := startPeer(coreReply(70016))
		old := startPeer(coreReply(70015))
		low := startPeer(reply(peerVersion(60000)))
		var s ndjson.Summary // the CLI's tally of Results
		for _, addr := range []string{good.Addr(), good.Addr(), old.Addr(), low.Addr()} {
			res, _ := dial(addr, handshake.Config{Timeout: generous, MinPeerVersion: 70001})
			s.Add(res)
		}
		Expect(s.Type).To(Equal("summary"))
		Expect(s.Total).To(Equal(4))
		Expect(s.Passed).To(Equal(3))
		Expect(s.Failed).To(Equal(1))
		ua := peerVersion(70016).UserAgent
		Expect(s.Counts["user_agent"]).To(Equal(map[string]int{ua: 4}))
		Expect(s.Counts["version"]).To(Equal(map[string]int{"70016": 2, "70015": 1, "60000": 1}))
		Expect(s.Counts["transport"]).To(Equal(map[string]int{"v1": 4}))
		Expect(s.Counts["quirk"]).To(HaveKeyWithValue(string(handshake.QuirkOldProtocol), 1))
		Expect(s.Counts["error"]).To(Equal(map[string]int{"version-too-low": 1}))
	})
})
