// Listing a directory on Linux: getdents64 and one statx per entry.
//go:build linux

package dtp

import (
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/protocol"
)

// dirScanBuf is the getdents64 buffer: a few hundred entries a call.
const dirScanBuf = 16 << 10

// dirScanner reads the entries of a directory and looks at each with
// statx relative to the directory's descriptor. os.File.ReadDir on a
// directory opened in an os.Root does the same fstatat but allocates an
// entry, a FileInfo and a path for every name; unix.ParseDirent and
// unix.Fstatat still allocate a string and a C string per name. The
// scanner makes one string per getdents64 call, which the names of that
// call share, and no allocation per name. It uses the descriptor
// directly: the caller keeps dir open until the scan is over.
type dirScanner struct {
	dir   *os.File
	fd    int
	buf   []byte
	names []string
	cname []byte // the name being looked at, NUL-terminated
	stx   unix.Statx_t
}

// scanners keeps dirScanners (their buffers) between listings.
var scanners = sync.Pool{New: func() any {
	return &dirScanner{buf: make([]byte, dirScanBuf), cname: make([]byte, 0, 256)}
}}

func newDirScanner(dir *os.File, _ *os.Root, _ string) (*dirScanner, error) {
	rc, err := dir.SyscallConn()
	if err != nil {
		return nil, err
	}
	d := scanners.Get().(*dirScanner)
	d.dir = dir
	if err := rc.Control(func(fd uintptr) { d.fd = int(fd) }); err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

// close gives the scanner back for another listing; the names it
// returned stay valid.
func (d *dirScanner) close() {
	d.dir, d.fd = nil, -1
	clear(d.names)
	d.names = d.names[:0]
	scanners.Put(d)
}

// next returns the names of the next entries but . and ..; io.EOF after
// the last. The slice is reused by the next call; the strings are not.
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
		clear(d.names)
		d.names = direntNames(d.buf[:n], d.names[:0])
		if len(d.names) > 0 {
			return d.names, nil
		}
	}
}

// direntNames appends the names of the linux_dirent64 records in buf to
// names, skipping . and .. and records with no inode, as
// unix.ParseDirent does; the names share one string made from buf.
func direntNames(buf []byte, names []string) []string {
	const nameOff = int(unsafe.Offsetof(unix.Dirent{}.Name)) // after ino, off, reclen, type
	s := string(buf)
	for off := 0; off+nameOff <= len(buf); {
		ino := binary.NativeEndian.Uint64(buf[off:])
		reclen := int(binary.NativeEndian.Uint16(buf[off+int(unsafe.Offsetof(unix.Dirent{}.Reclen)):]))
		if reclen <= nameOff || off+reclen > len(buf) {
			break
		}
		name := s[off+nameOff : off+reclen]
		off += reclen
		if i := strings.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if ino == 0 || name == "." || name == ".." {
			continue
		}
		names = append(names, name)
	}
	return names
}

// statxMask is what a listing shows of an entry.
const statxMask = unix.STATX_TYPE | unix.STATX_MODE | unix.STATX_NLINK | unix.STATX_SIZE | unix.STATX_MTIME

// noStatx is set once statx(2) proved missing (Linux before 4.11) or
// refused by a seccomp filter: lstat uses fstatat from then on.
var noStatx atomic.Bool

// lstat describes the entry name without following a symlink.
func (d *dirScanner) lstat(name string) (protocol.FileInfo, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return protocol.FileInfo{}, &os.PathError{Op: "statx", Path: name, Err: unix.EINVAL}
	}
	if noStatx.Load() {
		return d.fstatat(name)
	}
	d.cname = append(append(d.cname[:0], name...), 0)
	var errno unix.Errno
	for {
		_, _, errno = unix.Syscall6(unix.SYS_STATX, uintptr(d.fd), uintptr(unsafe.Pointer(&d.cname[0])),
			unix.AT_SYMLINK_NOFOLLOW|unix.AT_STATX_SYNC_AS_STAT, statxMask, uintptr(unsafe.Pointer(&d.stx)), 0)
		if errno != unix.EINTR {
			break
		}
	}
	runtime.KeepAlive(d.dir)
	switch errno {
	case 0:
	case unix.ENOSYS, unix.EPERM:
		noStatx.Store(true)
		return d.fstatat(name)
	default:
		return protocol.FileInfo{}, &os.PathError{Op: "statx", Path: name, Err: errno}
	}
	return protocol.FileInfo{
		Name:    name,
		Size:    int64(d.stx.Size),
		ModTime: time.Unix(d.stx.Mtime.Sec, int64(d.stx.Mtime.Nsec)),
		Mode:    statMode(uint32(d.stx.Mode)),
		Nlink:   uint64(d.stx.Nlink),
	}, nil
}

// fstatat is lstat where statx is missing.
func (d *dirScanner) fstatat(name string) (protocol.FileInfo, error) {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	for err == unix.EINTR {
		err = unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	runtime.KeepAlive(d.dir)
	if err != nil {
		return protocol.FileInfo{}, &os.PathError{Op: "fstatat", Path: name, Err: err}
	}
	return protocol.FileInfo{
		Name:    name,
		Size:    st.Size,
		ModTime: time.Unix(st.Mtim.Unix()),
		Mode:    statMode(st.Mode),
		Nlink:   uint64(st.Nlink),
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
