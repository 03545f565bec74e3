//go:build !linux

// Dropping root elsewhere than Linux: not implemented (run_as is refused before anything is bound).
package main

import "errors"

// canDrop: dropPrivileges works on this system.
const canDrop = false

func dropPrivileges(runAs) error {
	return errors.New("run_as: dropping root is implemented for Linux only")
}
