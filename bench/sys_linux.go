// Linux socket options, the open-file limit and free disk space.
package bench

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT so that binding to a source
// address leaves the port to connect(), which can share it among 4-tuples.
func bindNoPort(c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// RaiseFileLimit lifts the soft open-file limit of this process to the hard
// one and returns both.
func RaiseFileLimit() (soft, hard uint64, err error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, err
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = want.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
			return lim.Cur, lim.Max, err
		}
		lim = want
	}
	return lim.Cur, lim.Max, nil
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	return err == nil
}

// diskSpace reads the size and free space of dir's filesystem, and whether
// it lives in memory (tmpfs, ramfs).
func diskSpace(dir string) (DiskSpace, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return DiskSpace{}, &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	bs := int64(st.Bsize)
	fsType := uint32(st.Type) // int32 on some 32-bit systems
	return DiskSpace{
		Total:    int64(st.Blocks) * bs,
		Avail:    int64(st.Bavail) * bs,
		InMemory: fsType == unix.TMPFS_MAGIC || fsType == unix.RAMFS_MAGIC,
	}, nil
}
