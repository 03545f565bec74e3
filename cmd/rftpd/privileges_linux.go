// Dropping root on Linux: setgroups, setgid, setuid for every thread, then checks that nothing is left.
package main

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// canDrop: dropPrivileges works on this system.
const canDrop = true

// dropPrivileges makes the process a: no supplementary groups, a.gid and
// a.uid as real, effective and saved ids. Go applies these calls to every
// thread of the process (syscall.AllThreadsSyscall, or the C library's
// own broadcast with cgo). Leaving uid 0 clears the permitted, effective
// and ambient capabilities (capabilities(7)); the function checks that
// it did, and that root cannot be regained.
func dropPrivileges(a runAs) error {
	if err := syscall.Setgroups([]int{}); err != nil {
		return fmt.Errorf("run_as: setgroups: %v", err)
	}
	if err := syscall.Setgid(a.gid); err != nil {
		return fmt.Errorf("run_as: setgid %d: %v", a.gid, err)
	}
	if err := syscall.Setuid(a.uid); err != nil {
		return fmt.Errorf("run_as: setuid %d: %v", a.uid, err)
	}
	ruid, euid, suid := unix.Getresuid()
	rgid, egid, sgid := unix.Getresgid()
	if ruid != a.uid || euid != a.uid || suid != a.uid || rgid != a.gid || egid != a.gid || sgid != a.gid {
		return fmt.Errorf("run_as: after the drop the ids are uid %d/%d/%d, gid %d/%d/%d; want uid %d, gid %d",
			ruid, euid, suid, rgid, egid, sgid, a.uid, a.gid)
	}
	if groups, err := syscall.Getgroups(); err != nil || len(groups) > 0 {
		return fmt.Errorf("run_as: supplementary groups %v remain (%v)", groups, err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capget(&hdr, &caps[0]); err != nil {
		return fmt.Errorf("run_as: capget: %v", err)
	}
	for _, c := range caps {
		if c.Permitted != 0 || c.Effective != 0 {
			return fmt.Errorf("run_as: capabilities remain after the drop (permitted %#x, effective %#x)", c.Permitted, c.Effective)
		}
	}
	if err := syscall.Setuid(0); err == nil {
		return fmt.Errorf("run_as: uid 0 could be regained after the drop")
	}
	return nil
}
