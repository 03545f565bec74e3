//go:build !linux

// Portable fallbacks for the Linux socket options, limits, free disk space and socket dump.
package bench

import (
	"errors"
	"os"
	"syscall"
)

func bindNoPort(syscall.RawConn) error { return nil }

// RaiseFileLimit is only implemented on Linux.
func RaiseFileLimit() (soft, hard uint64, err error) {
	return 0, 0, errors.New("bench: open-file limit: not supported on this system")
}

func isTerminal(uintptr) bool { return false }

// diskSpace is only implemented on Linux.
func diskSpace(string) (DiskSpace, error) {
	return DiskSpace{}, errors.New("free disk space: not supported on this system")
}

// setRcvBuf is only implemented on Linux; elsewhere the system's buffer stays.
func setRcvBuf(syscall.RawConn, int) error { return nil }

// dumpTCP is only implemented on Linux.
func dumpTCP(func(SockInfo)) error {
	return errors.New("bench: sock_diag: not supported on this system")
}

// lockNB is only implemented on Linux, the one system with the settings it locks.
func lockNB(*os.File) (busy bool, err error) { return false, nil }
