//go:build unix

package harness

import (
	"os"
	"os/exec"
	"syscall"
)

// setGroup makes the client the leader of a process group of its own, so
// that everything it starts can be killed with it, and so that a Ctrl-C at
// the terminal (sent to the foreground group) reaches the harness, which
// then stops its clients, rather than the clients behind its back.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills every process of the client's group. A group that is
// already empty (ESRCH) is no error.
func killGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
}
