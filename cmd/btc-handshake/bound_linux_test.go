//go:build linux

package main_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// synSent reports whether a socket is connecting to 127.0.0.1:port and
// still waiting for the answer to its SYN (state 02 in /proc/net/tcp).
func synSent(port int) bool {
	f, err := os.Open("/proc/net/tcp")
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	want := fmt.Sprintf("0100007F:%04X", port)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 3 && fields[2] == want && fields[3] == "02" {
			return true
		}
	}
	return false
}

var _ = Describe("-t bounds the whole peer, connect included", func() {
	It("ends a peer whose connect completes late, then stays silent, within -t", func() {
		// A listener with a full accept queue drops our SYN; once the
		// queue has room, the SYN sent again (after Linux's 1 s initial
		// retransmission timeout) connects, and the peer never speaks.
		// Before, the handshake got a whole -t after that late connect.
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = syscall.Close(fd) })
		Expect(syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})).To(Succeed())
		Expect(syscall.Listen(fd, 0)).To(Succeed())
		sa, err := syscall.Getsockname(fd)
		Expect(err).NotTo(HaveOccurred())
		port := sa.(*syscall.SockaddrInet4).Port
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		filler, err := net.DialTimeout("tcp", addr, 5*time.Second)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(filler.Close)

		s := run("--connect", addr, "-n", "regtest", "-t", "1.5", "--json")
		Eventually(func() bool { return synSent(port) }).WithTimeout(5*time.Second).WithPolling(5*time.Millisecond).
			Should(BeTrue(), "our SYN is waiting")
		nfd, _, err := syscall.Accept(fd) // room in the queue for the retransmitted SYN
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() { _ = syscall.Close(nfd) })

		Eventually(s).WithTimeout(10 * time.Second).Should(gexec.Exit(1))
		peer := ndjson(s.Out.Contents())[0]
		Expect(peer["error"]).To(HaveKeyWithValue("kind", "timeout"))
		// The first phase after the connect: v2's with the default auto.
		Expect(peer).To(HaveKeyWithValue("phase", BeElementOf("version", "v2-handshake")), "it did connect, late")
		timings := peer["timings"].(map[string]any)
		Expect(timings["connect_ms"]).To(BeNumerically(">=", 500), "the connect was late")
		Expect(timings["total_ms"]).To(BeNumerically("<=", 1500+200), "-t 1.5 is the whole peer's time")
	})
})
