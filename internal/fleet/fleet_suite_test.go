package fleet_test

import (
	"net"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"

	"github.com/btc-handshake/btc-handshake/wire"
)

func TestFleet(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "fleet")
}

// Every spec must leave no goroutine behind once its fleets are closed.
var _ = BeforeEach(func() {
	good := gleak.Goroutines()
	DeferCleanup(func() {
		Eventually(gleak.Goroutines).ShouldNot(gleak.HaveLeaked(good))
	})
})

// coreAnswers sends a version to addr and reads a Core peer's answer.
func coreAnswers(addr string) {
	GinkgoHelper()
	conn, err := net.Dial("tcp", addr)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	v := &wire.Version{ProtocolVersion: 70016, Services: wire.NodeNetwork, Timestamp: time.Now().Unix(),
		Nonce: 0x5eed, UserAgent: "/fleet-test:0.1/", Relay: true}
	Expect(conn.Write(wire.AppendMessage(nil, wire.Regtest, v))).Error().To(Succeed())
	Expect(conn.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
	r := wire.NewReader(conn, wire.Regtest)
	var got []string
	for range 4 {
		f, err := r.Next()
		Expect(err).NotTo(HaveOccurred())
		got = append(got, f.Command())
	}
	Expect(got).To(Equal([]string{"version", "wtxidrelay", "sendaddrv2", "verack"}))
}

// expectEOF dials addr and expects the connection closed at once.
func expectEOF(addr string) {
	GinkgoHelper()
	conn, err := net.Dial("tcp", addr)
	Expect(err).NotTo(HaveOccurred())
	defer conn.Close()
	Expect(conn.SetReadDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
	_, err = conn.Read(make([]byte, 1))
	Expect(err).To(HaveOccurred())
}
