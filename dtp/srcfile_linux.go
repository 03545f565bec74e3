// Opening a download's file in one system call: openat2 with RESOLVE_BENEATH.
//go:build linux

package dtp

import (
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

const haveBeneath = true

// noOpenat2 is set once openat2 has failed with ENOSYS (an old kernel, or
// a seccomp filter that refuses it that way): every later open goes
// through os.Root.
var noOpenat2 atomic.Bool

// beneathHow opens for reading, without blocking on a FIFO or taking a
// terminal, and resolves the path the way os.Root does: no step may leave
// the directory, by "..", an absolute path or a symbolic link (EXDEV), and
// /proc's magic links are refused.
var beneathHow = unix.OpenHow{
	Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
}

// openSourceBeneath opens rel beneath the root's directory with one
// openat2 call and fstat. ok is false when the caller must open through
// os.Root instead: no handle, no openat2, or an error that os.Root should
// report in its own words (an escape, a rename race that openat2 gives up
// on with EAGAIN, anything unusual). A missing file is answered here.
func openSourceBeneath(dir syscall.RawConn, rel string) (s *source, ok bool, err error) {
	if dir == nil || noOpenat2.Load() {
		return nil, false, nil
	}
	fd := -1
	var oerr error
	cerr := dir.Control(func(dfd uintptr) {
		for {
			fd, oerr = unix.Openat2(int(dfd), rel, &beneathHow)
			if oerr != unix.EINTR {
				return
			}
		}
	})
	switch {
	case cerr != nil:
		return nil, false, nil
	case oerr == unix.ENOSYS:
		noOpenat2.Store(true)
		return nil, false, nil
	case oerr == unix.ENOENT:
		return nil, true, &os.PathError{Op: "openat2", Path: rel, Err: oerr}
	case oerr != nil:
		return nil, false, nil
	}
	var st unix.Stat_t
	for {
		err = unix.Fstat(fd, &st)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, true, &os.PathError{Op: "fstat", Path: rel, Err: err}
	}
	return &source{fd: fd, name: rel, size: st.Size, mode: statMode(uint32(st.Mode))}, true, nil
}

func closeFd(fd int) { unix.Close(fd) }
