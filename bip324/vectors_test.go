package bip324_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ellswift"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/bip324"
	"github.com/btc-handshake/btc-handshake/wire"
)

// BIP324's official vectors (bip-0324/*.csv), kept in the `shared` folder
// beside the clone. They use the mainnet magic.
const vectorDir = "../../shared/bip324"

// readVectors returns a CSV file's rows as maps from column to value, or
// the error that made it unreadable.
func readVectors(name string) ([]map[string]string, error) {
	f, err := os.Open(filepath.Join(vectorDir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("%s: no rows", name)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, col := range recs[0] {
			m[col] = r[i]
		}
		rows = append(rows, m)
	}
	return rows, nil
}

// vectorSpecs declares one spec per row of the file, or, when the file
// cannot be read, one spec that skips outside CI and fails in CI (where
// the shared folder must be present).
func vectorSpecs(name string, minRows int, row func(i int, r map[string]string)) {
	rows, err := readVectors(name)
	if err != nil {
		It("reads "+name, func() {
			msg := fmt.Sprintf("BIP324 vectors not found at %s (the shared folder beside the clone): %v", filepath.Join(vectorDir, name), err)
			if os.Getenv("CI") != "" {
				Fail(msg)
			}
			Skip(msg)
		})
		return
	}
	It(fmt.Sprintf("has at least %d rows in %s", minRows, name), func() {
		Expect(len(rows)).To(BeNumerically(">=", minRows))
	})
	for i, r := range rows {
		It(fmt.Sprintf("%s row %d", name, i+1), func() { row(i, r) })
	}
}

func fieldVal(b []byte) *btcec.FieldVal {
	var f btcec.FieldVal
	if f.SetByteSlice(b) {
		f.Normalize()
	}
	return &f
}

var _ = Describe("BIP324 test vectors", func() {
	Describe("packet encoding (the whole key schedule, rekeying included)", func() {
		vectorSpecs("packet_encoding_test_vectors.csv", 7, func(_ int, r map[string]string) {
			idx, err := strconv.Atoi(r["in_idx"])
			Expect(err).NotTo(HaveOccurred())
			multiply, err := strconv.Atoi(r["in_multiply"])
			Expect(err).NotTo(HaveOccurred())
			initiating := r["in_initiating"] == "1"
			ignore := r["in_ignore"] == "1"
			priv, _ := btcec.PrivKeyFromBytes(unhex(r["in_priv_ours"]))
			ours := bip324.Key{Private: priv, EllSwift: [64]byte(unhex(r["in_ellswift_ours"]))}
			theirs := [64]byte(unhex(r["in_ellswift_theirs"]))

			By("the intermediate values, through btcec")
			Expect(priv.PubKey().SerializeCompressed()[1:]).To(Equal(unhex(r["mid_x_ours"])))
			x, err := ellswift.XSwiftEC(fieldVal(theirs[:32]), fieldVal(theirs[32:]))
			Expect(err).NotTo(HaveOccurred())
			Expect(x.Bytes()[:]).To(Equal(unhex(r["mid_x_theirs"])))
			shared, err := ellswift.EllswiftECDHXOnly(theirs, priv)
			Expect(err).NotTo(HaveOccurred())
			Expect(shared[:]).To(Equal(unhex(r["mid_x_shared"])))

			By("the shared secret and key schedule")
			secret, err := bip324.SharedSecretForTest(ours, theirs, initiating)
			Expect(err).NotTo(HaveOccurred())
			Expect(secret[:]).To(Equal(unhex(r["mid_shared_secret"])))
			s := bip324.DeriveForTest(secret[:], wire.Mainnet)
			Expect(s.InitiatorL).To(Equal(unhex(r["mid_initiator_l"])))
			Expect(s.InitiatorP).To(Equal(unhex(r["mid_initiator_p"])))
			Expect(s.ResponderL).To(Equal(unhex(r["mid_responder_l"])))
			Expect(s.ResponderP).To(Equal(unhex(r["mid_responder_p"])))

			c, err := bip324.NewCipher(ours, theirs, initiating, wire.Mainnet)
			Expect(err).NotTo(HaveOccurred())
			send, recv := c.SendTerminator(), c.RecvTerminator()
			Expect(send[:]).To(Equal(unhex(r["mid_send_garbage_terminator"])))
			Expect(recv[:]).To(Equal(unhex(r["mid_recv_garbage_terminator"])))
			sid := c.SessionID()
			Expect(sid[:]).To(Equal(unhex(r["out_session_id"])))

			By(fmt.Sprintf("the packet after %d empty ones", idx))
			// The other side, from the same secret, decrypts what we send.
			peer := bip324.CipherFromSecretForTest(secret[:], !initiating, wire.Mainnet)
			Expect(peer.RecvTerminator()).To(Equal(send))
			Expect(peer.SessionID()).To(Equal(sid))
			var buf []byte
			for range idx {
				buf, err = c.Encrypt(buf[:0], nil, nil, false)
				Expect(err).NotTo(HaveOccurred())
				got, ign, _, err := decrypt(peer, buf, nil)
				Expect(err).NotTo(HaveOccurred())
				Expect(got).To(BeEmpty())
				Expect(ign).To(BeFalse())
			}
			contents := bytes.Repeat(unhex(r["in_contents"]), multiply)
			aad := unhex(r["in_aad"])
			pkt, err := c.Encrypt(nil, contents, aad, ignore)
			Expect(err).NotTo(HaveOccurred())
			Expect(pkt).To(HaveLen(len(contents) + bip324.Expansion))
			if want := r["out_ciphertext"]; want != "" {
				Expect(pkt).To(Equal(unhex(want)))
			} else {
				end := unhex(r["out_ciphertext_endswith"])
				Expect(end).NotTo(BeEmpty())
				Expect(bytes.HasSuffix(pkt, end)).To(BeTrue(), "ciphertext does not end with out_ciphertext_endswith")
			}

			if len(contents) > bip324.MaxContentsLen {
				// The 2^24-1 byte row: valid BIP324, over Core's receive limit.
				n, err := peer.DecryptLength([3]byte(pkt))
				Expect(err).To(MatchError(bip324.ErrPacketTooLarge))
				Expect(n).To(Equal(len(contents)))
				return
			}
			got, ign, rest, err := decrypt(peer, pkt, aad)
			Expect(err).NotTo(HaveOccurred())
			Expect(rest).To(BeEmpty())
			Expect(ign).To(Equal(ignore))
			Expect(bytes.Equal(got, contents)).To(BeTrue(), "decrypted contents differ")
		})
	})

	Describe("ElligatorSwift decoding through btcec", func() {
		vectorSpecs("ellswift_decode_test_vectors.csv", 70, func(_ int, r map[string]string) {
			enc := unhex(r["ellswift"])
			x, err := ellswift.XSwiftEC(fieldVal(enc[:32]), fieldVal(enc[32:]))
			Expect(err).NotTo(HaveOccurred(), r["comment"])
			Expect(x.Bytes()[:]).To(Equal(unhex(r["x"])), r["comment"])
		})
	})

	Describe("ElligatorSwift inverse (XSwiftECInv) through btcec", func() {
		vectorSpecs("xswiftec_inv_test_vectors.csv", 30, func(_ int, r map[string]string) {
			u, x := unhex(r["u"]), unhex(r["x"])
			for c := range 8 {
				want := r[fmt.Sprintf("case%d_t", c)]
				t := ellswift.XSwiftECInv(fieldVal(u), fieldVal(x), c)
				if want == "" {
					Expect(t).To(BeNil(), "case %d: %s", c, r["comment"])
					continue
				}
				Expect(t).NotTo(BeNil(), "case %d: %s", c, r["comment"])
				Expect(t.Bytes()[:]).To(Equal(unhex(want)), "case %d: %s", c, r["comment"])
				// And back: (u, t) decodes to x.
				back, err := ellswift.XSwiftEC(fieldVal(u), t)
				Expect(err).NotTo(HaveOccurred())
				Expect(back.Bytes()[:]).To(Equal(x), "case %d round trip", c)
			}
		})
	})
})
