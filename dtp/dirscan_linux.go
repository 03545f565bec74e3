// Listing a directory on Linux: getdents64 and one fstatat per entry.
//go:build linux

package dtp

import (
	"io"
	"io/fs"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/protocol"
)

// dirScanBuf is the getdents64 buffer: a few hundred entries a call.
const dirScanBuf = 16 << 10

// dirScanner reads the entries of a directory and looks at each with
// fstatat relative to the directory's descriptor. os.File.ReadDir on a
// directory opened in an os.Root does the same fstatat but allocates an
// entry, a FileInfo and a path for every name. The scanner uses the
// descriptor directly: the caller keeps dir open until the scan is over.
type dirScanner struct {
	dir   *os.File
	fd    int
	buf   []byte
	names []string
	st    unix.Stat_t
}

func newDirScanner(dir *os.File, _ *os.Root, _ string) (*dirScanner, error) {
	rc, err := dir.SyscallConn()
	if err != nil {
		return nil, err
	}
	d := &dirScanner{dir: dir, buf: make([]byte, dirScanBuf)}
	if err := rc.Control(func(fd uintptr) { d.fd = int(fd) }); err != nil {
		return nil, err
	}
	return d, nil
}

// next returns the names of the next entries but . and ..; io.EOF after
// the last. The slice is reused by the next call.
func (d *dirScanner) next() ([]string, error) {
	for {
		n, err := unix.Getdents(d.fd, d.buf)
		runtime.KeepAlive(d.dir)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, &os.PathError{Op: "getdents64", Path: d.dir.Name(), Err: err}
		case n <= 0:
			return nil, io.EOF
		}
		_, _, d.names = unix.ParseDirent(d.buf[:n], -1, d.names[:0])
		if len(d.names) > 0 {
			return d.names, nil
		}
	}
}

// lstat describes the entry name without following a symlink.
func (d *dirScanner) lstat(name string) (protocol.FileInfo, error) {
	err := unix.Fstatat(d.fd, name, &d.st, unix.AT_SYMLINK_NOFOLLOW)
	for err == unix.EINTR {
		err = unix.Fstatat(d.fd, name, &d.st, unix.AT_SYMLINK_NOFOLLOW)
	}
	runtime.KeepAlive(d.dir)
	if err != nil {
		return protocol.FileInfo{}, &os.PathError{Op: "fstatat", Path: name, Err: err}
	}
	return protocol.FileInfo{
		Name:    name,
		Size:    d.st.Size,
		ModTime: time.Unix(d.st.Mtim.Unix()),
		Mode:    statMode(d.st.Mode),
		Nlink:   uint64(d.st.Nlink),
	}, nil
}

// statMode converts st_mode as os.Lstat does.
func statMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	}
	if m&unix.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&unix.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
