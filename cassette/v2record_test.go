package cassette_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/cassette"
	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/mockpeer"
	"github.com/btc-handshake/btc-handshake/wire"
)

// v2Handshake runs our client over the given transport against addr,
// recorded by rec.
func v2Handshake(addr string, rec *cassette.Recorder, t handshake.Transport) *handshake.Result {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, _ := handshake.Dial(ctx, addr, handshake.Config{Network: wire.Regtest, Timeout: 3 * time.Second,
		DialContext: rec.Dialer(nil), Transport: t})
	return res
}

// decrypted lists the decrypted messages of cn as "from cmd", in order.
func decrypted(cn cassette.Conn) []string {
	var out []string
	for _, e := range cn.Events {
		if e.Decrypted {
			Expect(e.Bytes).To(BeEmpty())
			Expect(e.Msgs).To(HaveLen(1))
			out = append(out, e.From+" "+e.Msgs[0].Cmd)
		}
	}
	return out
}

// coreV2 serves the Core profile with its default v2 transport.
func coreV2() *mockpeer.Server {
	var n notes
	return serve(mockpeer.CoreResponder().Script(), &n)
}

var _ = Describe("recording a v2 handshake", func() {
	It("keeps the client's decrypted messages and the session beside the encrypted bytes", func() {
		srv := coreV2()
		rec := cassette.NewRecorder(wire.Regtest)
		res := v2Handshake(srv.Addr(), rec, handshake.TransportV2)
		Expect(res.OK()).To(BeTrue(), "%v", res.Err)
		Expect(res.Transport).To(Equal(handshake.TransportV2))
		Expect(rec.Annotate(res)).To(BeTrue())
		Expect(rec.Annotate(res)).To(BeFalse(), "a connection is annotated once")

		c := roundTrip(rec.Cassette())
		Expect(c.Header.Format).To(Equal(1), "the annotation is additive: no new format version")
		Expect(c.Conns).To(HaveLen(1))
		cn := c.Conns[0]
		Expect(cn.Transport).To(Equal(cassette.TransportV2))
		Expect(cn.V2).To(Equal(&cassette.V2Info{SessionID: hex.EncodeToString(res.SessionID[:]),
			ClientGarbage: res.GarbageSent, NodeGarbage: res.GarbageRecv, NodeDecoys: res.Decoys}))
		// Each party's messages in order (across parties the order is
		// the network's), the same as the Result's, sizes included.
		var fromClient, fromNode []string
		for _, m := range decrypted(cn) {
			if party, cmd, _ := strings.Cut(m, " "); party == cassette.Client {
				fromClient = append(fromClient, cmd)
			} else {
				fromNode = append(fromNode, cmd)
			}
		}
		Expect(fromClient).To(HaveExactElements("version", "wtxidrelay", "sendaddrv2", "verack"))
		Expect(fromNode).To(HaveExactElements("version", "wtxidrelay", "sendaddrv2", "verack"))
		var want, got []string
		for _, received := range []bool{false, true} {
			for _, e := range res.Transcript {
				if e.Received == received {
					want = append(want, fmt.Sprintf("%v %s %d %q", e.Received, e.Command, e.Size, e.Err))
				}
			}
			for _, e := range cn.Events {
				if e.Decrypted && (e.From == cassette.Client) == !received {
					got = append(got, fmt.Sprintf("%v %s %d %q", received, e.Msgs[0].Cmd, e.Msgs[0].Len, e.Msgs[0].Err))
				}
			}
		}
		Expect(got).To(HaveExactElements(want))
		// The node's version is decoded from the Result.
		for _, e := range cn.Events {
			if e.Decrypted && e.From == cassette.Node && e.Msgs[0].Cmd == wire.CmdVersion {
				Expect(e.Msgs[0].Version).NotTo(BeNil())
				Expect(e.Msgs[0].Version.UserAgent).To(Equal(res.Peer.UserAgent))
				Expect(e.Msgs[0].Version.Nonce).To(Equal(res.Peer.Nonce))
			}
		}
		// The bytes stay as recorded: key and encrypted parts, nothing
		// more; the client's version goes after the segment that carried
		// it, which follows the node's key.
		nodeKey, clientVersion := -1, -1
		for i, e := range cn.Events {
			for _, m := range e.Msgs {
				Expect(e.Decrypted || m.V2 != "" || e.Close != "").To(BeTrue(), "a byte event of a v2 stream decodes to v2 parts")
				if e.From == cassette.Node && m.V2 == cassette.V2Key && nodeKey < 0 {
					nodeKey = i
				}
				if e.Decrypted && e.From == cassette.Client && m.Cmd == wire.CmdVersion {
					clientVersion = i
				}
			}
		}
		Expect(nodeKey).To(BeNumerically(">=", 0))
		Expect(clientVersion).To(BeNumerically(">", nodeKey), "our version leaves encrypted, after the keys")
		Expect(cassette.Completed(cn)).To(BeTrue())
	})

	It("shows and draws the decrypted messages with a note on the session", func() {
		srv := coreV2()
		rec := cassette.NewRecorder(wire.Regtest)
		res := v2Handshake(srv.Addr(), rec, handshake.TransportV2)
		Expect(rec.Annotate(res)).To(BeTrue())
		c := rec.Cassette()
		id := hex.EncodeToString(res.SessionID[:])

		var d bytes.Buffer
		Expect(cassette.WriteDiagram(&d, c)).To(Succeed())
		Expect(d.String()).To(ContainSubstring("Note over C,N: BIP324 v2, session " + id[:16] + "…"))
		Expect(d.String()).To(ContainSubstring("garbage %d/%d B (client/node), decoys %d", res.GarbageSent, res.GarbageRecv, res.Decoys))
		for _, arrow := range []string{"C->>N: version", "N->>C: version", "N->>C: verack", "C->>N: verack",
			"C->>N: v2 key (64 B)", "N->>C: v2 key (64 B)"} {
			Expect(d.String()).To(ContainSubstring(arrow))
		}
		Expect(d.String()).NotTo(ContainSubstring("encrypted"), "drawn decrypted, not as opaque parts")

		var t bytes.Buffer
		Expect(cassette.WriteTranscript(&t, c)).To(Succeed())
		Expect(t.String()).To(ContainSubstring("BIP324 v2, session " + id + ","))
		Expect(t.String()).To(MatchRegexp(`C ← N  verack\s+0 B`))
		Expect(t.String()).To(ContainSubstring("v2-encrypted"), "the transcript keeps the byte parts too")
	})

	It("redacts session ids, equal ones to equal placeholders, and the decrypted version's fields", func() {
		srv := coreV2()
		rec := cassette.NewRecorder(wire.Regtest)
		first := v2Handshake(srv.Addr(), rec, handshake.TransportV2)
		second := v2Handshake(srv.Addr(), rec, handshake.TransportV2)
		Expect(rec.Annotate(second)).To(BeTrue())
		Expect(rec.Annotate(first)).To(BeTrue())
		c := rec.Cassette()
		Expect(c.Conns).To(HaveLen(2))
		// Matched by start, not by the order of the calls.
		Expect(c.Conns[0].V2.SessionID).To(Equal(hex.EncodeToString(first.SessionID[:])))
		Expect(c.Conns[1].V2.SessionID).To(Equal(hex.EncodeToString(second.SessionID[:])))
		// A third connection of the first session: its id stays equal.
		dup := c.Conns[0]
		dup.ID = 3
		c.Conns = append(c.Conns, dup)

		cassette.Redact(c)
		var buf bytes.Buffer
		Expect(c.Write(&buf)).To(Succeed())
		for _, secret := range []string{hex.EncodeToString(first.SessionID[:]), hex.EncodeToString(second.SessionID[:]), "127.0.0.1"} {
			Expect(buf.String()).NotTo(ContainSubstring(secret))
		}
		back := must(cassette.Read(&buf))
		ids := []string{back.Conns[0].V2.SessionID, back.Conns[1].V2.SessionID, back.Conns[2].V2.SessionID}
		Expect(ids[0]).To(HavePrefix(hex.EncodeToString([]byte("REDACT"))))
		Expect(ids[0]).NotTo(Equal(ids[1]))
		Expect(ids[2]).To(Equal(ids[0]))
		for _, cn := range back.Conns {
			for _, e := range cn.Events {
				if v := e.Msgs; e.Decrypted && v[0].Version != nil {
					Expect(v[0].Version.Nonce).NotTo(Equal(first.Peer.Nonce))
					Expect(v[0].Version.Nonce).NotTo(Equal(second.Peer.Nonce))
					Expect(v[0].Version.Nonce&0xffffffffffff).To(Equal(uint64(0x544341444552)), "REDACT")
				}
			}
		}
		// The recorder keeps what it recorded: redaction worked on a copy.
		again := rec.Cassette()
		Expect(again.Conns[0].V2.SessionID).To(Equal(hex.EncodeToString(first.SessionID[:])))
		Expect(again.Conns[0].Client).To(HavePrefix("127.0.0.1:"))
	})

	It("keeps the bytes as recorded when a snapshot of them is redacted", func() {
		var n notes
		srv := serve(mockpeer.CoreResponder().V2Transport(nil).Script(), &n)
		rec := cassette.NewRecorder(wire.Regtest)
		Expect(ourHandshake(srv.Addr(), wire.Regtest, rec.Dialer(nil)).OK()).To(BeTrue())
		clientVersion := func(c *cassette.Cassette) *cassette.VersionInfo {
			for _, e := range c.Conns[0].Events {
				for _, m := range e.Msgs {
					if e.From == cassette.Client && m.Version != nil {
						return m.Version
					}
				}
			}
			Fail("no version from the client")
			return nil
		}
		redacted := rec.Cassette()
		cassette.Redact(redacted)
		Expect(clientVersion(redacted).AddrRecv).To(HavePrefix("198.51.100.1:"))
		Expect(clientVersion(rec.Cassette()).AddrRecv).To(HavePrefix("127.0.0.1:"))
	})

	It("annotates nothing for a v1 handshake, a fallback included, or an address it did not record", func() {
		var n notes
		v1only := serve(mockpeer.CoreResponder().V2Transport(nil).Script(), &n)
		rec := cassette.NewRecorder(wire.Regtest)
		res := v2Handshake(v1only.Addr(), rec, handshake.TransportAuto)
		Expect(res.OK()).To(BeTrue(), "%v", res.Err)
		Expect(res.Fallback).To(BeTrue())
		Expect(rec.Annotate(res)).To(BeFalse())
		c := rec.Cassette()
		Expect(c.Conns).To(HaveLen(2), "the v2 attempt and the v1 connection")
		Expect(c.Conns[0].Transport).To(Equal(cassette.TransportV2))
		Expect(c.Conns[1].Transport).To(Equal(cassette.TransportV1))
		for _, cn := range c.Conns {
			Expect(cn.V2).To(BeNil())
			Expect(decrypted(cn)).To(BeEmpty())
		}

		srv := coreV2()
		other := cassette.NewRecorder(wire.Regtest)
		res = v2Handshake(srv.Addr(), cassette.NewRecorder(wire.Regtest), handshake.TransportV2)
		Expect(res.OK()).To(BeTrue())
		Expect(other.Annotate(res)).To(BeFalse(), "not recorded by this recorder")
		Expect(other.Annotate(nil)).To(BeFalse())
	})

	It("reads an old v1 cassette, and refuses a v2 annotation no session can have", func() {
		old := `{"type":"cassette","format":1,"network":"regtest","source":"pcap","tool":"btc-handshake devel","origin":"x.pcap","redacted":true}
{"type":"conn","id":1,"client":"192.0.2.1:60126","node":"198.51.100.1:28484","transport":"v1","start":"2026-12-03T09:27:38.870594Z"}
{"type":"event","conn":1,"from":"node","t_us":1345,"bytes":"+r+12nd0eGlkcmVsYXkAAAAAAF32OOI=","msgs":[{"cmd":"wtxidrelay","len":0}]}
{"type":"event","conn":1,"from":"client","t_us":506266,"close":"fin"}
{"type":"end","conn":1,"how":"fin","by":"client","t_us":506266}
`
		c := must(cassette.Read(strings.NewReader(old)))
		Expect(c.Conns[0].V2).To(BeNil())
		Expect(commands(c.Conns[0], cassette.Node)).To(HaveExactElements("wtxidrelay"))
		var d bytes.Buffer
		Expect(cassette.WriteDiagram(&d, c)).To(Succeed())
		Expect(d.String()).To(ContainSubstring("N->>C: wtxidrelay (0 B)"))
		Expect(d.String()).NotTo(ContainSubstring("BIP324"))

		head := `{"type":"cassette","format":1,"network":"regtest","source":"recorded","redacted":false}` + "\n"
		conn := func(v2 string) string {
			return head + `{"type":"conn","id":1,"transport":"v2","v2":` + v2 + `,"start":"2026-12-03T09:27:38Z"}` + "\n"
		}
		for v2, want := range map[string]string{
			`{"session_id":"abc","client_garbage":1,"node_garbage":2,"node_decoys":0}`:                              "session id",
			`{"client_garbage":4096,"node_garbage":0,"node_decoys":0}`:                                              "garbage",
			`{"client_garbage":0,"node_garbage":-1,"node_decoys":0}`:                                                "garbage",
			`{"client_garbage":0,"node_garbage":0,"node_decoys":-3}`:                                                "negative",
			`{"session_id":"` + strings.Repeat("zz", 32) + `","client_garbage":0,"node_garbage":0,"node_decoys":0}`: "session id",
		} {
			_, err := cassette.Read(strings.NewReader(conn(v2)))
			Expect(err).To(MatchError(SatisfyAll(ContainSubstring("line 2"), ContainSubstring(want))), v2)
			Expect(err).To(MatchError(cassette.ErrInvalid))
		}
		good := conn(`{"client_garbage":0,"node_garbage":0,"node_decoys":0}`)
		for _, ev := range []string{
			`{"type":"event","conn":1,"from":"node","t_us":1,"bytes":"AAAA","msgs":[{"cmd":"verack","len":0}],"decrypted":true}`,
			`{"type":"event","conn":1,"from":"node","t_us":1,"close":"fin","msgs":[{"cmd":"verack","len":0}],"decrypted":true}`,
			`{"type":"event","conn":1,"from":"node","t_us":1,"decrypted":true}`,
		} {
			_, err := cassette.Read(strings.NewReader(good + ev + "\n"))
			Expect(err).To(MatchError(ContainSubstring("decrypted event")), ev)
		}
		_, err := cassette.Read(strings.NewReader(good))
		Expect(err).NotTo(HaveOccurred())
	})
})
