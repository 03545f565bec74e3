// Downloads open through os.Root where openat2 does not exist.
//go:build !linux

package dtp

import "syscall"

const haveBeneath = false

func openSourceBeneath(syscall.RawConn, string) (*source, bool, error) { return nil, false, nil }

func closeFd(fd int) { syscall.Close(fd) }
