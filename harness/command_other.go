//go:build !unix

package harness

import (
	"os"
	"os/exec"
)

// setGroup does nothing where there are no process groups.
func setGroup(*exec.Cmd) {}

// killGroup kills the client's main process only: without process groups,
// what it started in the background may survive it.
func killGroup(p *os.Process) { _ = p.Kill() }
