//go:build !linux

// Portable fallbacks for the Linux socket options and limits.
package bench

import (
	"errors"
	"syscall"
)

func bindNoPort(syscall.RawConn) error { return nil }

// RaiseFileLimit is only implemented on Linux.
func RaiseFileLimit() (soft, hard uint64, err error) {
	return 0, 0, errors.New("bench: open-file limit: not supported on this system")
}

func isTerminal(uintptr) bool { return false }
