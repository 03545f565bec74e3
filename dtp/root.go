// Login roots: the os.Root every path goes through, and a handle on the
// same directory for one-call opens and looks (openat2).
package dtp

import (
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// rootDir is a login's root directory. Every path goes through root. Where
// haveBeneath (Linux: openat2 with RESOLVE_BENEATH), dir is the
// same directory opened through root; downloads open their file, and
// deeper paths are looked at, beneath it in one openat2 call: os.Root walks
// a path with one openat per element and closes each directory it passed.
type rootDir struct {
	path    string // the directory as configured, for reports
	root    *os.Root
	dir     *os.File        // nil without haveBeneath
	beneath syscall.RawConn // dir's descriptor; Control keeps it open while in use
}

func openRootDir(path string) (*rootDir, error) {
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	r := &rootDir{path: path, root: root}
	if !haveBeneath {
		return r, nil
	}
	dir, err := root.Open(".")
	if err != nil {
		return r, nil // downloads open through root
	}
	rc, err := dir.SyscallConn()
	if err != nil {
		dir.Close()
		return r, nil
	}
	r.dir, r.beneath = dir, rc
	return r, nil
}

// Close closes both handles. A call in flight on beneath finishes first:
// RawConn.Control holds the descriptor open until its function returns.
func (r *rootDir) Close() error {
	if r.dir != nil {
		r.dir.Close()
	}
	return r.root.Close()
}

// statPath describes rel beneath id's root, following a final symlink. A
// path of more than one element is looked at with openat2 (three system
// calls at any depth); os.Root does one in the root itself, but opens and
// closes each directory on the way to anything deeper.
func statPath(id *identity, rel string) (fs.FileInfo, error) {
	if strings.IndexByte(rel, '/') >= 0 {
		if fi, ok, err := statBeneath(id.beneath, rel); ok {
			return fi, err
		}
	}
	return id.root.Stat(rel)
}

// syncDir fsyncs the folder rel beneath id's root, so that the names
// just made or renamed in it are on stable storage. The root itself is
// synced through the handle already open on it; a deeper folder is opened
// with one openat2 call where there is one.
func syncDir(id *identity, rel string) error {
	if ok, err := fsyncBeneath(id.beneath, rel); ok {
		return err
	}
	d, err := id.root.Open(rel)
	if err != nil {
		return err
	}
	err = d.Sync()
	d.Close()
	return err
}

// source is a file opened for a download: its size and type as they were
// when it was opened, and the open file.
type source struct {
	fd   int      // the descriptor while f is nil (srcfile_linux.go); -1 otherwise
	f    *os.File // set when opened through os.Root, or by file()
	name string
	size int64
	mode fs.FileMode
}

// openSource opens rel for reading beneath id's root without blocking on a
// FIFO, and looks at what it opened.
func openSource(id *identity, rel string) (*source, error) {
	if s, ok, err := openSourceBeneath(id.beneath, rel); ok {
		return s, err
	}
	f, err := openRead(id.root, rel)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &source{fd: -1, f: f, name: rel, size: fi.Size(), mode: fi.Mode()}, nil
}

// file returns the source as an *os.File, which from then on owns the
// descriptor.
func (s *source) file() *os.File {
	if s.f == nil {
		s.f = os.NewFile(uintptr(s.fd), s.name)
		s.fd = -1
	}
	return s.f
}

// control runs fn with the source's descriptor.
func (s *source) control(fn func(fd uintptr)) error {
	if s.f == nil {
		fn(uintptr(s.fd))
		return nil
	}
	rc, err := s.f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(fn)
}

func (s *source) close() {
	if s.f != nil {
		s.f.Close()
		return
	}
	closeFd(s.fd)
}
