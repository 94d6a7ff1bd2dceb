package integration_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/integration"
)

// fakeRPC answers JSON-RPC with status and body, after checking the
// request's authentication and envelope.
func fakeRPC(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer GinkgoRecover()
		user, pass, ok := r.BasicAuth()
		if !ok || user != "u" || pass != "p" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var req struct {
			JSONRPC string `json:"jsonrpc"`
			Method  string `json:"method"`
			Params  []any  `json:"params"`
		}
		b, _ := io.ReadAll(r.Body)
		Expect(json.Unmarshal(b, &req)).To(Succeed())
		Expect(req.JSONRPC).To(Equal("1.0"))
		Expect(req.Params).NotTo(BeNil(), "params must be an array, even when empty")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// newTLSServer is httptest.NewTLSServer with its error log (TLS handshakes
// a spec refuses on purpose) sent to GinkgoWriter.
func newTLSServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(GinkgoWriter, "rpc test server: ", 0)
	srv.StartTLS()
	return srv
}

func certPEM(s *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

// selfSignedPEM is a certificate no test server presents (httptest's
// servers all share one).
func selfSignedPEM() []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	Expect(err).NotTo(HaveOccurred())
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "not the node"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	Expect(err).NotTo(HaveOccurred())
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

var _ = Describe("a Node's RPC methods", func() {
	newClient := func(url string, pem []byte, user, pass string) *integration.RPCNode {
		c, closeFn, err := integration.NewRPCNode(integration.RPCConfig{URL: url, User: user, Password: pass, CertPEM: pem})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(closeFn)
		return c
	}

	It("decodes getpeerinfo entries and keeps each raw entry", func(ctx SpecContext) {
		srv := httptest.NewServer(fakeRPC(http.StatusOK,
			`{"result":[{"id":3,"addr":"10.0.0.1:18444","subver":"/x:1/","version":70016,"inbound":true,`+
				`"connection_type":"inbound","transport_protocol_type":"v1","extra":1}],"error":null,"id":1}`))
		defer srv.Close()

		peers, err := newClient(srv.URL, nil, "u", "p").PeerInfo(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(peers).To(ConsistOf(And(
			HaveField("ID", BeEquivalentTo(3)),
			HaveField("Addr", "10.0.0.1:18444"),
			HaveField("SubVer", "/x:1/"),
			HaveField("Version", BeEquivalentTo(70016)),
			HaveField("Inbound", true),
			HaveField("ConnectionType", "inbound"),
			HaveField("TransportProtocolType", "v1"),
			HaveField("Raw", MatchJSON(`{"id":3,"addr":"10.0.0.1:18444","subver":"/x:1/","version":70016,`+
				`"inbound":true,"connection_type":"inbound","transport_protocol_type":"v1","extra":1}`)),
		)))
	})

	It("returns Bitcoin Core's error objects, sent with HTTP 500, as *RPCError", func(ctx SpecContext) {
		srv := httptest.NewServer(fakeRPC(http.StatusInternalServerError,
			`{"result":null,"error":{"code":-24,"message":"Node has not been added."},"id":1}`))
		defer srv.Close()

		err := newClient(srv.URL, nil, "u", "p").AddNode(ctx, "10.0.0.1:18444", "remove")
		var rpcErr *integration.RPCError
		Expect(errors.As(err, &rpcErr)).To(BeTrue(), "got %v", err)
		Expect(rpcErr.Code).To(Equal(-24))
		Expect(rpcErr.Method).To(Equal("addnode"))
		Expect(err).To(MatchError(ContainSubstring("Node has not been added")))
	})

	It("reports rejected credentials as ErrRPCUnauthorized", func(ctx SpecContext) {
		srv := httptest.NewServer(fakeRPC(http.StatusOK, `{"result":[],"error":null,"id":1}`))
		defer srv.Close()

		_, err := newClient(srv.URL, nil, "u", "wrong").Call(ctx, "getpeerinfo")
		Expect(err).To(MatchError(integration.ErrRPCUnauthorized))
	})

	It("reports a body that is not JSON-RPC with the status", func(ctx SpecContext) {
		srv := httptest.NewServer(fakeRPC(http.StatusBadGateway, `<html>proxy error</html>`))
		defer srv.Close()

		_, err := newClient(srv.URL, nil, "u", "p").Call(ctx, "getpeerinfo")
		Expect(err).To(MatchError(And(ContainSubstring("502"), ContainSubstring("proxy error"))))
	})

	It("talks TLS to a server presenting the pinned certificate, whatever the host name", func(ctx SpecContext) {
		srv := newTLSServer(fakeRPC(http.StatusOK, `{"result":"ok","error":null,"id":1}`))
		defer srv.Close()

		res, err := newClient(srv.URL, certPEM(srv), "u", "p").Call(ctx, "ping")
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(MatchJSON(`"ok"`))
	})

	It("refuses a TLS server presenting another certificate", func(ctx SpecContext) {
		srv := newTLSServer(fakeRPC(http.StatusOK, `{"result":"ok","error":null,"id":1}`))
		defer srv.Close()

		_, err := newClient(srv.URL, selfSignedPEM(), "u", "p").Call(ctx, "ping")
		Expect(err).To(MatchError(ContainSubstring("not the node's pinned certificate")))
	})

	It("needs a certificate for an https URL", func() {
		_, _, err := integration.NewRPCNode(integration.RPCConfig{URL: "https://127.0.0.1:1/"})
		Expect(err).To(MatchError(ContainSubstring("no PEM certificate")))
	})
})
