//go:build !linux

// Process attributes elsewhere: no parent-death signal, no subreaper.
package peers

import (
	"errors"
	"syscall"
)

// serverAttr starts a server in a session of its own; ftpbench stops it
// when it ends (Server.Stop), but nothing does should ftpbench die.
func serverAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// childAttr: Reap's child gets no signal when Reap dies.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

// subreaper is Linux's alone (PR_SET_CHILD_SUBREAPER).
func subreaper() error {
	return errors.New("a child subreaper needs Linux (PR_SET_CHILD_SUBREAPER)")
}
