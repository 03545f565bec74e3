// Linux socket options, the open-file limit, free disk space and the sock_diag dump of TCP sockets.
package bench

import (
	"encoding/binary"
	"fmt"
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

// setRcvBuf sets SO_RCVBUF (the kernel doubles it, and no longer autotunes
// the socket's receive buffer): set before connect, it also fixes the
// window scale the connection offers.
func setRcvBuf(c syscall.RawConn, n int) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
	})
	if err != nil {
		return err
	}
	return serr
}

// dumpTCP asks sock_diag for every TCP socket of this network namespace,
// IPv4 and IPv6, with its memory (INET_DIAG_SKMEMINFO) and tcp_info, and
// calls fn for each.
func dumpTCP(fn func(SockInfo)) error {
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := dumpTCPFamily(family, fn); err != nil {
			return err
		}
	}
	return nil
}

// dumpBuf is the receive buffer of a dump: the kernel fills at most 32 KiB
// per datagram.
const dumpBuf = 64 << 10

func dumpTCPFamily(family uint8, fn func(SockInfo)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("bench: sock_diag: %w", err)
	}
	defer unix.Close(fd)
	// struct nlmsghdr, then struct inet_diag_req_v2 (56 bytes) asking for
	// every state of every socket.
	req := make([]byte, nlmsgHdrLen+56)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1)
	req[16] = family
	req[17] = unix.IPPROTO_TCP
	req[18] = 1<<(inetDiagInfo-1) | 1<<(inetDiagSkMemInfo-1)
	ne.PutUint32(req[20:], 0xffffffff)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("bench: sock_diag: %w", err)
	}
	buf := make([]byte, dumpBuf)
	for range 1 << 20 { // bounded: a million datagrams
		n, _, flags, _, err := unix.Recvmsg(fd, buf, nil, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("bench: sock_diag: %w", err)
		}
		if flags&unix.MSG_TRUNC != 0 {
			return fmt.Errorf("bench: sock_diag: a datagram longer than %d bytes", len(buf))
		}
		done, err := ParseDiag(buf[:n], fn)
		if err != nil || done {
			return err
		}
	}
	return fmt.Errorf("bench: sock_diag: the dump did not end")
}

// lockNB takes an exclusive flock on f without waiting; busy reports that
// another open file holds it.
func lockNB(f *os.File) (busy bool, err error) {
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if err == unix.EWOULDBLOCK {
		return true, nil
	}
	return false, err
}
