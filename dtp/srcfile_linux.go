// Opening a download's file, looking at a path, or syncing a folder, in one
// system call whatever the path's depth: openat2 with RESOLVE_BENEATH.
//go:build linux

package dtp

import (
	"io/fs"
	"os"
	"path"
	"sync/atomic"
	"syscall"
	"time"

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

// pathHow resolves a path as beneathHow does, for a look at it: O_PATH
// opens neither the file's data nor a device or FIFO, and needs no
// permission on the file itself, only on the directories on the way, as
// stat(2) does.
var pathHow = unix.OpenHow{
	Flags:   unix.O_PATH | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
}

// dirHow opens a folder to fsync it, resolving as beneathHow does.
var dirHow = unix.OpenHow{
	Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
}

// openBeneath opens rel beneath the directory dir with one openat2 call.
// ok is false when the caller must go through os.Root instead: no handle,
// no openat2, or an error that os.Root should report in its own words (an
// escape, a rename race that openat2 gives up on with EAGAIN, anything
// unusual). A missing file is answered here.
func openBeneath(dir syscall.RawConn, rel string, how *unix.OpenHow) (fd int, ok bool, err error) {
	if dir == nil || noOpenat2.Load() {
		return -1, false, nil
	}
	fd = -1
	var oerr error
	cerr := dir.Control(func(dfd uintptr) {
		for {
			fd, oerr = unix.Openat2(int(dfd), rel, how)
			if oerr != unix.EINTR {
				return
			}
		}
	})
	switch {
	case cerr != nil:
		return -1, false, nil
	case oerr == unix.ENOSYS:
		noOpenat2.Store(true)
		return -1, false, nil
	case oerr == unix.ENOENT:
		return -1, true, &os.PathError{Op: "openat2", Path: rel, Err: oerr}
	case oerr != nil:
		return -1, false, nil
	}
	return fd, true, nil
}

// fstat describes the open descriptor fd of rel.
func fstat(fd int, rel string, st *unix.Stat_t) error {
	for {
		err := unix.Fstat(fd, st)
		switch {
		case err == nil:
			return nil
		case err != unix.EINTR:
			return &os.PathError{Op: "fstat", Path: rel, Err: err}
		}
	}
}

// openSourceBeneath opens rel for reading beneath the root's directory
// with one openat2 call and fstat; ok as for openBeneath.
func openSourceBeneath(dir syscall.RawConn, rel string) (s *source, ok bool, err error) {
	fd, ok, err := openBeneath(dir, rel, &beneathHow)
	if fd < 0 {
		return nil, ok, err
	}
	var st unix.Stat_t
	if err := fstat(fd, rel, &st); err != nil {
		unix.Close(fd)
		return nil, true, err
	}
	return &source{fd: fd, name: rel, size: st.Size, mode: statMode(st.Mode)}, true, nil
}

// statBeneath describes rel beneath the root's directory, following a
// final symlink as os.Root.Stat does, with openat2, fstat and close: three
// system calls at any depth, where os.Root opens and closes every
// directory on the way. ok as for openBeneath.
func statBeneath(dir syscall.RawConn, rel string) (fi fs.FileInfo, ok bool, err error) {
	fd, ok, err := openBeneath(dir, rel, &pathHow)
	if fd < 0 {
		return nil, ok, err
	}
	st := &statInfo{name: path.Base(rel)}
	err = fstat(fd, rel, &st.st)
	unix.Close(fd)
	if err != nil {
		return nil, true, err
	}
	return st, true, nil
}

// statInfo is the fs.FileInfo of a stat(2) result.
type statInfo struct {
	name string
	st   unix.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.st.Size }
func (s *statInfo) Mode() fs.FileMode  { return statMode(s.st.Mode) }
func (s *statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.st }

func closeFd(fd int) { unix.Close(fd) }

// fsyncBeneath fsyncs the folder rel beneath the root's directory dir:
// that directory's own descriptor for ".", else one openat2 call. ok as
// for openBeneath.
func fsyncBeneath(dir syscall.RawConn, rel string) (ok bool, err error) {
	if dir == nil {
		return false, nil
	}
	if rel == "." {
		cerr := dir.Control(func(fd uintptr) { err = fsyncFd(int(fd), rel) })
		return cerr == nil, err
	}
	fd, ok, err := openBeneath(dir, rel, &dirHow)
	if fd < 0 {
		return ok, err
	}
	err = fsyncFd(fd, rel)
	unix.Close(fd)
	return true, err
}

// fsyncFd is fsync(2) of the descriptor fd of rel.
func fsyncFd(fd int, rel string) error {
	for {
		err := unix.Fsync(fd)
		switch {
		case err == nil:
			return nil
		case err != unix.EINTR:
			return &os.PathError{Op: "fsync", Path: rel, Err: err}
		}
	}
}
