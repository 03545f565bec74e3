// Advisory locks on temporary upload files where the system has no flock.
//go:build !unix

package dtp

import (
	"errors"
	"os"
)

// tryLock is not available here: the clean-up of other instances'
// leftovers treats every temporary file as live.
func tryLock(*os.File) (held bool, err error) { return false, errors.ErrUnsupported }
