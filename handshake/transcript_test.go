package handshake_test

import (
	"context"
	"encoding/json"
	"net"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// afterHandshake runs then once the client's verack has arrived, after a
// Core-like reply.
func afterHandshake(then func(pc *peerConn) error) script {
	return func(pc *peerConn) error {
		if err := pc.await(wire.CmdVersion); err != nil {
			return err
		}
		if err := pc.send(peerVersion(70016), wire.WtxidRelay{}, wire.SendAddrV2{}, wire.Verack{}); err != nil {
			return err
		}
		if err := pc.await(wire.CmdVerack); err != nil {
			return err
		}
		return then(pc)
	}
}

// The values of Event.Received.
const (
	sent     = false
	received = true
)

func event(received bool, cmd string) OmegaMatcher {
	return SatisfyAll(HaveField("Received", received), HaveField("Command", cmd))
}

var _ = Describe("Linger", func() {
	It("answers a ping after the handshake with a pong carrying its nonce (and drops a short one)", func() {
		p := startPeer(afterHandshake(func(pc *peerConn) error {
			if err := pc.send(wire.Raw{Cmd: wire.CmdPing, Payload: []byte{1, 2, 3}}, wire.Ping{Nonce: 0xfeedface}); err != nil {
				return err
			}
			return pc.await(wire.CmdPong)
		}))
		res, err := dial(p.Addr(), handshake.Config{Timeout: generous, Linger: 10 * time.Second})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.OK()).To(BeTrue())
		Expect(p.next().pongs).To(Equal([]uint64{0xfeedface}))
		Expect(res.Quirks).To(ContainElement(handshake.QuirkMalformedIgnored))

		ping := slices.IndexFunc(res.Transcript, func(e handshake.Event) bool {
			return e.Received && e.Command == wire.CmdPing
		})
		Expect(ping).To(BeNumerically(">=", 0))
		Expect(res.Transcript[ping+1:]).To(ContainElement(SatisfyAll(event(sent, wire.CmdPong), HaveField("Size", 8))))
		Expect(res.Timings.Total).To(BeNumerically("<", 5*time.Second), "linger ends when the peer hangs up, not after Linger")
	})

	It("keeps at most MaxTranscript events and counts the rest", func() {
		const burst = 5000
		p := startPeer(afterHandshake(func(pc *peerConn) error {
			var b []byte
			for range burst {
				b = wire.AppendMessage(b, wire.Mainnet, wire.Raw{Cmd: wire.CmdInv, Payload: []byte{0}})
			}
			return pc.write(b)
		}))
		res, err := dial(p.Addr(), handshake.Config{Timeout: generous, Linger: 10 * time.Second, MaxTranscript: 100})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.OK()).To(BeTrue())
		Expect(res.Transcript).To(HaveLen(100))
		// version, wtxidrelay, sendaddrv2, verack each way, then the burst.
		Expect(res.TranscriptDropped).To(Equal(8 + burst - 100))
		rep := res.Report()
		Expect(rep.Messages).To(HaveLen(100))
		Expect(rep.MessagesDropped).To(Equal(res.TranscriptDropped))
		Expect(p.next().err).NotTo(HaveOccurred())
	})
})

var _ = Describe("Result", func() {
	It("has the transcript in order, with sizes and increasing offsets, and timings per phase", func() {
		p := startPeer(coreReply(70016))
		res, err := dial(p.Addr(), handshake.Config{Timeout: generous, UserAgent: "/ua:1/"})
		Expect(err).NotTo(HaveOccurred())
		pc := p.next()

		ours := 4 + 8 + 8 + 26 + 26 + 8 + 1 + len("/ua:1/") + 4 + 1
		theirs := len(peerVersion(70016).AppendPayload(nil))
		Expect(res.Transcript).To(HaveExactElements(
			SatisfyAll(event(sent, wire.CmdVersion), HaveField("Size", ours)),
			SatisfyAll(event(received, wire.CmdVersion), HaveField("Size", theirs)),
			SatisfyAll(event(sent, wire.CmdWtxidRelay), HaveField("Size", 0)),
			SatisfyAll(event(sent, wire.CmdSendAddrV2), HaveField("Size", 0)),
			SatisfyAll(event(sent, wire.CmdVerack), HaveField("Size", 0)),
			SatisfyAll(event(received, wire.CmdWtxidRelay), HaveField("Size", 0)),
			SatisfyAll(event(received, wire.CmdSendAddrV2), HaveField("Size", 0)),
			SatisfyAll(event(received, wire.CmdVerack), HaveField("Size", 0)),
		))
		Expect(pc.got).To(Equal([]string{wire.CmdVersion, wire.CmdWtxidRelay, wire.CmdSendAddrV2, wire.CmdVerack}))
		Expect(slices.IsSortedFunc(res.Transcript, func(a, b handshake.Event) int { return int(a.At - b.At) })).To(BeTrue())
		Expect(res.Transcript[len(res.Transcript)-1].At).To(BeNumerically(">", res.Transcript[0].At))
		for _, e := range res.Transcript {
			Expect(e.Err).To(BeEmpty())
		}

		t := res.Timings
		Expect(t.Connect).To(BeNumerically(">", 0))
		Expect(t.Version).To(BeNumerically(">=", t.Connect))
		Expect(t.Verack).To(BeNumerically(">=", t.Version))
		Expect(t.Total).To(BeNumerically(">=", t.Verack))
		Expect(res.Started).To(BeTemporally("~", time.Now(), 5*time.Second))
	})

	It("reports a Run on an existing connection, with no connect timing, and leaves the connection usable", func() {
		release := make(chan struct{})
		p := startPeer(afterHandshake(func(pc *peerConn) error {
			<-release
			if err := pc.send(wire.Ping{Nonce: 7}); err != nil {
				return err
			}
			return pc.drain()
		}))
		conn, err := net.Dial("tcp", p.Addr())
		Expect(err).NotTo(HaveOccurred())
		defer conn.Close()
		// The verack phase's deadline is the last one set: 300 ms after
		// the peer's version, whose verack comes in the same write.
		res, err := handshake.Run(context.Background(), conn, handshake.Config{Timeout: generous, VerackTimeout: 300 * time.Millisecond})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.OK()).To(BeTrue())
		Expect(res.Addr).To(Equal(conn.RemoteAddr().String()))
		Expect(res.Timings.Connect).To(BeZero())
		Expect(res.Timings.Verack).To(BeNumerically(">", 0))

		// The handshake's deadlines must not outlive Run: the caller
		// keeps reading well after the verack deadline has passed.
		time.AfterFunc(600*time.Millisecond, func() { close(release) })
		f, err := wire.NewReader(conn, wire.Mainnet).Next()
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Command()).To(Equal(wire.CmdPing))
		Expect(conn.Close()).To(Succeed())
		Expect(p.next().err).NotTo(HaveOccurred())
	})

	Describe("Report", func() {
		keys := []string{"address", "ok", "error", "phase", "version", "services", "user_agent", "start_height",
			"relay", "negotiated_version", "quirks", "timings", "messages"}

		decode := func(res *handshake.Result) map[string]any {
			GinkgoHelper()
			b, err := json.Marshal(res.Report())
			Expect(err).NotTo(HaveOccurred())
			var m map[string]any
			Expect(json.Unmarshal(b, &m)).To(Succeed())
			for _, k := range keys {
				Expect(m).To(HaveKey(k))
			}
			return m
		}

		It("has every field of a completed handshake", func() {
			p := startPeer(coreReply(70016))
			res, err := dial(p.Addr(), handshake.Config{Timeout: generous})
			Expect(err).NotTo(HaveOccurred())
			m := decode(res)
			Expect(m["address"]).To(Equal(p.Addr()))
			Expect(m["ok"]).To(BeTrue())
			Expect(m["error"]).To(BeNil())
			Expect(m["phase"]).To(Equal("done"))
			Expect(m["version"]).To(BeEquivalentTo(70016))
			Expect(m["services"]).To(BeEquivalentTo(wire.NodeNetwork | wire.NodeWitness | wire.NodeNetworkLimited))
			Expect(m["user_agent"]).To(Equal("/Satoshi:27.0.0/"))
			Expect(m["start_height"]).To(BeEquivalentTo(840000))
			Expect(m["relay"]).To(BeTrue())
			Expect(m["negotiated_version"]).To(BeEquivalentTo(70016))
			Expect(m["quirks"]).To(Equal([]any{string(handshake.QuirkCoalescedVerack)}))
			Expect(m["timings"]).To(SatisfyAll(
				HaveKey("connect_ms"), HaveKey("version_ms"), HaveKey("verack_ms"), HaveKeyWithValue("total_ms", BeNumerically(">", 0))))
			Expect(m["messages"]).To(HaveLen(8))
			Expect(m["messages"]).To(HaveEach(SatisfyAll(HaveKey("dir"), HaveKey("command"), HaveKey("size"), HaveKey("at_ms"))))
			Expect(m["messages"].([]any)[0]).To(SatisfyAll(
				HaveKeyWithValue("dir", "sent"), HaveKeyWithValue("command", "version")))
			Expect(p.next().err).NotTo(HaveOccurred())
		})

		It("has an error object and empty arrays, not null, for a failure", func() {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			addr := ln.Addr().String()
			Expect(ln.Close()).To(Succeed())
			res, _ := dial(addr, handshake.Config{Timeout: generous})
			m := decode(res)
			Expect(m["ok"]).To(BeFalse())
			Expect(m["error"]).To(SatisfyAll(
				HaveKeyWithValue("kind", "dial"), HaveKeyWithValue("message", ContainSubstring(addr))))
			Expect(m["phase"]).To(Equal("connect"))
			Expect(m["quirks"]).To(Equal([]any{}))
			Expect(m["messages"]).To(Equal([]any{}))
		})
	})
})

var _ = Describe("Kinds and Quirks", func() {
	It("are distinct kebab-case names", func() {
		var names []string
		for _, k := range handshake.Kinds() {
			Expect(k.Error()).To(Equal(string(k)))
			names = append(names, string(k))
		}
		for _, q := range handshake.Quirks() {
			names = append(names, string(q))
		}
		Expect(names).To(HaveEach(MatchRegexp(`^[a-z0-9]+(-[a-z0-9]+)*$`)))
		Expect(slices.Compact(slices.Sorted(slices.Values(names)))).To(HaveLen(len(names)))
	})
})
