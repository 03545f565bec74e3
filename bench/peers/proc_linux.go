// Process attributes of the servers and of Reap's child on Linux: each ends when ftpbench does.
package peers

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// serverAttr starts a server in a session of its own, and has the kernel
// send it SIGTERM should ftpbench die without stopping it.
func serverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGTERM}
}

// childAttr: Reap's child gets SIGTERM when Reap dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// subreaper makes this process the child subreaper of what it starts.
func subreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_CHILD_SUBREAPER: %w", err)
	}
	return nil
}
