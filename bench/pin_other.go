//go:build !linux

// CPU affinity elsewhere: not supported, so every placement other than off is refused.
package bench

import (
	"errors"
	"os/exec"
)

var errPinLinux = errors.New("bench: pinning to CPUs needs Linux")

// AllowedCPUs is not known here.
func AllowedCPUs() ([]int, error) { return nil, errPinLinux }

// PinTree is not supported here.
func PinTree(string, int, int) (func() error, error) { return nil, errPinLinux }

// PinSelf is not supported here.
func PinSelf(string, int) (func() error, error) { return nil, errPinLinux }

// PinThread is not supported here.
func PinThread(int) (func() error, error) { return nil, errPinLinux }

// StartPinned is not supported here.
func StartPinned(*exec.Cmd, int) error { return errPinLinux }
