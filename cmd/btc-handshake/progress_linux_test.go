//go:build linux

package main_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"golang.org/x/sys/unix"

	"github.com/btc-handshake/btc-handshake/wire"
)

// openPTY returns a pseudo-terminal's controlling side and its terminal.
func openPTY() (*os.File, *os.File) {
	GinkgoHelper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	Expect(err).NotTo(HaveOccurred())
	Expect(unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0)).To(Succeed())
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	Expect(err).NotTo(HaveOccurred())
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	Expect(err).NotTo(HaveOccurred())
	return ptm, pts
}

var _ = Describe("Progress on a terminal", func() {
	It("shows done/total, rate and ETA on stderr while a survey runs, and clears it", func() {
		stuck := startPeer("127.0.0.1:0", wire.Regtest, noVerack)
		DeferCleanup(stuck.Close)
		ptm, pts := openPTY()
		cmd := exec.Command(binPath, "--connect", stuck.Addr(), "--connect", stuck.Addr(), "-n", "regtest", "-t", "0.6", "--concurrency", "1")
		cmd.Stderr = pts
		tty := gbytes.NewBuffer()
		go func() { _, _ = io.Copy(tty, ptm) }()
		DeferCleanup(func() { _ = ptm.Close() })
		// gexec would replace Stderr with its own pipe: start it by hand.
		out := gbytes.NewBuffer()
		cmd.Stdout = out
		Expect(cmd.Start()).To(Succeed())
		exited := make(chan int, 1)
		go func() { _ = cmd.Wait(); exited <- cmd.ProcessState.ExitCode() }()
		Expect(pts.Close()).To(Succeed())
		Eventually(tty).WithTimeout(5 * time.Second).Should(gbytes.Say(`\r\x1b\[K\d/2 peers, [0-9.]+/s, ETA \S+`))
		Eventually(exited).WithTimeout(10 * time.Second).Should(Receive(Equal(1)))
		Eventually(func() bool { return strings.HasSuffix(string(tty.Contents()), "\r\x1b[K") }).Should(BeTrue(), "the line is cleared at the end")
		Expect(string(out.Contents())).To(ContainSubstring("finished with 0 SUCCESS & 2 FAILED"))
		Expect(string(out.Contents())).NotTo(ContainSubstring("peers, "), "progress never goes to stdout")
	})
})
