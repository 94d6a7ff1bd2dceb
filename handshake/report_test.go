package handshake_test

import (
	"encoding/json"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

var _ = Describe("Report's JSON", func() {
	res := func() *handshake.Result {
		return &handshake.Result{Addr: "1.2.3.4:8333", Phase: handshake.PhaseVerack, Err: errors.New("boom <&>"),
			Peer:              &wire.Version{ProtocolVersion: 70016, Services: 9, UserAgent: "/x<y>:1/", StartHeight: 5, Relay: true, Nonce: 77},
			NegotiatedVersion: 70016, Quirks: []handshake.Quirk{handshake.QuirkAlert},
			Transcript: []handshake.Event{{Command: "version", Size: 107, At: 1234567 * time.Nanosecond},
				{Received: true, Command: "b<ad>", Size: 3, At: 2 * time.Millisecond, Err: "bad & worse"}},
			TranscriptDropped: 2,
			Timings:           handshake.Timings{Connect: 1500 * time.Microsecond, Version: 2 * time.Millisecond, Total: 3333333 * time.Nanosecond},
			Transport:         handshake.TransportV1}
	}

	// The CLI prints this line and the harness parses it: the bytes are a
	// contract (the README's schema), kept when the Go types changed.
	It("is the documented NDJSON line, byte for byte", func() {
		b, err := json.Marshal(res().Report())
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).To(Equal(`{"type":"peer","address":"1.2.3.4:8333","ok":false,` +
			`"error":{"kind":"io","message":"boom \u003c\u0026\u003e"},"phase":"verack","version":70016,"services":9,` +
			`"user_agent":"/x\u003cy\u003e:1/","start_height":5,"relay":true,"nonce":77,"negotiated_version":70016,` +
			`"quirks":["alert"],"timings":{"connect_ms":1.5,"version_ms":2,"verack_ms":0,"total_ms":3.333},` +
			`"messages":[{"dir":"sent","command":"version","size":107,"at_ms":1.234},` +
			`{"dir":"received","command":"b\u003cad\u003e","size":3,"at_ms":2,"error":"bad \u0026 worse"}],` +
			`"messages_dropped":2,"transport":"v1","fallback":false}`))
	})

	It("reads back into the same Report (to the microsecond)", func() {
		r := res()
		r.Transport = handshake.TransportV2
		r.SessionID[0] = 0xab
		r.GarbageSent, r.GarbageRecv, r.Decoys = 1, 2, 3
		r.Timings.V2Key = 999 * time.Microsecond
		r.Transcript[0].At = 1234 * time.Microsecond
		r.Timings.Total = 3333 * time.Microsecond
		want := r.Report()
		b, err := json.Marshal(want)
		Expect(err).NotTo(HaveOccurred())
		var got handshake.Report
		Expect(json.Unmarshal(b, &got)).To(Succeed())
		Expect(got).To(Equal(want))
	})
})
