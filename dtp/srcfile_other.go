// Downloads open, and paths are looked at, through os.Root where openat2
// does not exist.
//go:build !linux

package dtp

import (
	"io/fs"
	"syscall"
)

const haveBeneath = false

func openSourceBeneath(syscall.RawConn, string) (*source, bool, error) { return nil, false, nil }

func statBeneath(syscall.RawConn, string) (fs.FileInfo, bool, error) { return nil, false, nil }

func fsyncBeneath(syscall.RawConn, string) (bool, error) { return false, nil }

func closeFd(fd int) { syscall.Close(fd) }
