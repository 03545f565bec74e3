// Portable fallbacks for the system calls of sys_linux.go.
//go:build !linux

package dtp

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/rftpd/rftpd/protocol"
)

const oNonblock = syscall.O_NONBLOCK

func errnoProtocol(err error) error {
	switch {
	case errors.Is(err, syscall.ENOTDIR):
		return protocol.ErrNotDir
	case errors.Is(err, syscall.EISDIR):
		return protocol.ErrIsDir
	case errors.Is(err, syscall.ENOTEMPTY):
		return protocol.ErrNotEmpty
	case errors.Is(err, syscall.ENOSPC):
		return protocol.ErrNoSpace
	case errors.Is(err, syscall.EDQUOT):
		return protocol.ErrQuota
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS),
		errors.Is(err, syscall.ENXIO), errors.Is(err, syscall.EOPNOTSUPP):
		// ENXIO, EOPNOTSUPP: open(2) of a socket or of a FIFO for
		// writing without a reader; special files are never served.
		return protocol.ErrPermission
	case errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.ELOOP):
		return protocol.ErrBadName
	}
	return nil
}

func isStorageErrno(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, syscall.EFBIG) || errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EROFS)
}

// removeDir checks the type first (a race with a rename is possible here,
// unlike the descriptor-based Linux version) and then removes.
func removeDir(root *os.Root, rel string) error {
	fi, err := root.Lstat(rel)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &os.PathError{Op: "rmdir", Path: rel, Err: syscall.ENOTDIR}
	}
	return root.Remove(rel)
}

func removeFile(root *os.Root, rel string) error {
	fi, err := root.Lstat(rel)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return &os.PathError{Op: "unlink", Path: rel, Err: syscall.EISDIR}
	}
	return root.Remove(rel)
}

// sendFile sends f from off to its end over c; unsent has no effect here.
func sendFile(c *net.TCPConn, src *source, off, size int64, _ int, progress *atomic.Int64, first func(sent int64), lim *limiter, _ *laneUse) (int64, error) {
	f := src.file()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, storageErr(err)
	}
	return copyToConn(c, f, size, progress, lim)
}

// spliceFile receives c into f at f's offset until EOF; check, when set,
// runs before every chunk written to f.
func spliceFile(f *os.File, c *net.TCPConn, progress *atomic.Int64, check func() error, lim *limiter) (int64, error) {
	return copyFromConn(f, c, progress, check, lim)
}

// ephemeralRange is unknown here: passive listeners ask for port 0.
func ephemeralRange() (uint16, uint16) { return 0, 0 }

// canReuseListeners: without drain, passive listeners are not pooled.
const canReuseListeners = false

// quiet is not available here: the event loop never takes a listener.
func quiet(syscall.Conn) bool { return false }

// drain is not available here: a pooled listener is never reused.
func drain(syscall.Conn) bool { return false }

// openDescriptors is not known here: the budget counts from 0.
func openDescriptors() int { return 0 }

// limitUnsent has no effect here.
func limitUnsent(*net.TCPConn, int) {}

// syncData writes f's data to stable storage (fsync; F_FULLFSYNC on macOS).
func syncData(f *os.File) error { return f.Sync() }

// dropCache has no effect here.
func dropCache(*os.File) {}

// wakeSend: nothing blocks in sendfile here (no send threads).
func wakeSend(*net.TCPConn) {}
