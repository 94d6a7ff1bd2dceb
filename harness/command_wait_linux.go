package harness

import (
	"os/exec"
	"syscall"
	"unsafe"
)

// waitExit blocks until the client's main process has exited, without
// reaping it, and returns the function that reaps it. While the exited
// process is a zombie its pid, which is also its group's id, cannot be
// given to another process, so killing the group (-pid) after waitExit
// can only reach the client's own processes.
func waitExit(cmd *exec.Cmd) (reap func() error) {
	const pPID = 1 // P_PID: wait for the process whose id is given
	var info [128]byte
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(cmd.Process.Pid),
			uintptr(unsafe.Pointer(&info)), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if errno != syscall.EINTR {
			break
		}
	}
	// On any other error Wait reports it.
	return cmd.Wait
}
