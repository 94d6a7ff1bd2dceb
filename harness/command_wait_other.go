//go:build !linux

package harness

import "os/exec"

// waitExit waits for the client's main process and reaps it. Without
// waitid's WNOWAIT the group is killed after the reaping, when the group's
// id could in principle have been reused if the group was already empty.
func waitExit(cmd *exec.Cmd) (reap func() error) {
	err := cmd.Wait()
	return func() error { return err }
}
