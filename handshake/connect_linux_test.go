//go:build linux

package handshake_test

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/btc-handshake/btc-handshake/handshake"
	"github.com/btc-handshake/btc-handshake/wire"
)

// stalledListener listens on 127.0.0.1 with a backlog of 0 and never
// accepts; one connection fills its accept queue, after which Linux drops
// every SYN (tcp_conn_request: "accept queue full"), so a connect to it
// waits until the dialer gives up. It returns the address.
func stalledListener() string {
	GinkgoHelper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = syscall.Close(fd) })
	Expect(syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})).To(Succeed())
	Expect(syscall.Listen(fd, 0)).To(Succeed())
	sa, err := syscall.Getsockname(fd)
	Expect(err).NotTo(HaveOccurred())
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := net.DialTimeout("tcp", addr, 5*time.Second)
	Expect(err).NotTo(HaveOccurred(), "the first connection fills the queue")
	DeferCleanup(filler.Close)
	return addr
}

// dialWithin dials and fails the spec, instead of hanging it, when Dial
// has not returned within limit.
func dialWithin(ctx context.Context, limit time.Duration, addr string, cfg handshake.Config) (*handshake.Result, error, time.Duration) {
	GinkgoHelper()
	type result struct {
		res     *handshake.Result
		err     error
		elapsed time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		res, err := handshake.Dial(ctx, addr, cfg)
		done <- result{res, err, time.Since(start)}
	}()
	var r result
	Eventually(done).WithTimeout(limit).Should(Receive(&r), "Dial still connecting after %v", limit)
	return r.res, r.err, r.elapsed
}

var _ = Describe("A connect the peer never completes", func() {
	// An IP address is dialed at once; a host name is looked up first.
	// Either way the connect ends at DialTimeout, at the context's own
	// deadline or at its cancellation, whichever comes first.
	DescribeTable("ends at DialTimeout with a timeout in the connect phase",
		func(host string, cancelable bool) {
			addr := stalledListener()
			_, port, _ := net.SplitHostPort(addr)
			target := net.JoinHostPort(host, port)
			ctx := context.Background()
			if cancelable { // a context that can end, but does not here
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			res, err, elapsed := dialWithin(ctx, 300*time.Millisecond+schedulingMargin, target,
				handshake.Config{Network: wire.Regtest, Timeout: 10 * time.Second, DialTimeout: 300 * time.Millisecond})
			expectFailure(res, err, target, handshake.KindTimeout, handshake.PhaseConnect)
			Expect(elapsed).To(BeNumerically(">=", 300*time.Millisecond))
		},
		Entry("an IP address", "127.0.0.1", false),
		Entry("an IP address, under a cancelable context", "127.0.0.1", true),
		Entry("a host name", "localhost", false),
		Entry("a host name, under a cancelable context", "localhost", true),
	)

	DescribeTable("ends at once when the context is canceled, as canceled",
		func(host string) {
			addr := stalledListener()
			_, port, _ := net.SplitHostPort(addr)
			target := net.JoinHostPort(host, port)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(200*time.Millisecond, cancel)
			res, err, _ := dialWithin(ctx, 200*time.Millisecond+schedulingMargin, target,
				handshake.Config{Network: wire.Regtest, Timeout: 10 * time.Second})
			expectFailure(res, err, target, handshake.KindCanceled, handshake.PhaseConnect)
		},
		Entry("an IP address", "127.0.0.1"),
		Entry("a host name", "localhost"),
	)

	It("ends at the context's deadline when it comes before DialTimeout", func() {
		addr := stalledListener()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		res, err, _ := dialWithin(ctx, 200*time.Millisecond+schedulingMargin, addr,
			handshake.Config{Network: wire.Regtest, Timeout: 10 * time.Second})
		expectFailure(res, err, addr, handshake.KindTimeout, handshake.PhaseConnect)
	})
})
