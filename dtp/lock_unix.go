// Advisory locks on temporary upload files (flock), on systems that have them.
//go:build unix

package dtp

import (
	"os"

	"golang.org/x/sys/unix"
)

// tryLock takes an exclusive flock(2) on f without waiting. held reports
// that another open file of it holds the lock (EWOULDBLOCK); err is any
// other failure (a file system without locks).
func tryLock(f *os.File) (held bool, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	cerr := rc.Control(func(fd uintptr) {
		for {
			err = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
			if err != unix.EINTR {
				return
			}
		}
	})
	switch {
	case cerr != nil:
		return false, cerr
	case err == unix.EWOULDBLOCK:
		return true, nil
	}
	return false, err
}
