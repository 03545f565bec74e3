// The floor server: the noop step's commands answered by one thread on raw epoll, the least CPU a server can spend per command.
package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"path"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Floor answers the commands of the noop step (USER, PASS, NOOP, PWD,
// SIZE, TYPE, QUIT) and nothing else, as cheaply as a server can: one
// thread, locked to its OS thread, waits in epoll_wait on every session,
// reads what a session sent, answers all of its complete lines with one
// write, and holds no timers, logs or per-session goroutines. SIZE stats
// the file under Root (fstatat), as a server must. What it spends per
// command is the kernel's price of a read, a write and the loopback
// delivery of the reply, plus its share of an epoll_wait: what no server
// avoids, and the floor of the noop rows.
type Floor struct {
	Root string // the folder SIZE paths are resolved in

	ln, ep, wake int
	root         int
	conns        map[int]*floorConn
}

type floorConn struct {
	in  []byte // a partial line
	out []byte // replies the socket had no room for
}

// floorLine bounds a command line; a longer one closes the session.
const floorLine = 1024

// Listen opens the listening socket on addr ("127.0.0.1:0" picks a port)
// and returns the address it listens on.
func (f *Floor) Listen(addr string) (string, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "", fmt.Errorf("bench: floor: %w", err)
	}
	if !ap.Addr().Is4() {
		return "", errors.New("bench: floor: IPv4 addresses only")
	}
	f.root, err = unix.Open(f.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("bench: floor: %s: %w", f.Root, err)
	}
	f.ln, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("bench: floor: %w", err)
	}
	_ = unix.SetsockoptInt(f.ln, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(f.ln, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		unix.Close(f.ln)
		return "", fmt.Errorf("bench: floor: bind %s: %w", addr, err)
	}
	if err := unix.Listen(f.ln, 4096); err != nil {
		unix.Close(f.ln)
		return "", fmt.Errorf("bench: floor: %w", err)
	}
	sa, err := unix.Getsockname(f.ln)
	if err != nil {
		unix.Close(f.ln)
		return "", fmt.Errorf("bench: floor: %w", err)
	}
	a := sa.(*unix.SockaddrInet4)
	if f.wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		unix.Close(f.ln)
		return "", fmt.Errorf("bench: floor: %w", err)
	}
	return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String(), nil
}

// Close makes Serve return.
func (f *Floor) Close() error {
	_, err := unix.Write(f.wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	return err
}

// Serve runs the loop on the calling goroutine's own OS thread until
// Close.
func (f *Floor) Serve() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var err error
	if f.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return fmt.Errorf("bench: floor: %w", err)
	}
	f.conns = map[int]*floorConn{}
	defer func() {
		for fd := range f.conns {
			unix.Close(fd)
		}
		unix.Close(f.ep)
		unix.Close(f.ln)
		unix.Close(f.wake)
		unix.Close(f.root)
	}()
	for _, fd := range []int{f.ln, f.wake} {
		if err := unix.EpollCtl(f.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			return fmt.Errorf("bench: floor: %w", err)
		}
	}
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 4096)
	for {
		n, err := unix.EpollWait(f.ep, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("bench: floor: %w", err)
		}
		for _, ev := range events[:n] {
			switch fd := int(ev.Fd); fd {
			case f.wake:
				return nil
			case f.ln:
				f.accept()
			default:
				f.serve(fd, ev.Events, buf)
			}
		}
	}
}

func (f *Floor) accept() {
	for {
		fd, _, err := unix.Accept4(f.ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return // EAGAIN, or out of descriptors: the client waits in the backlog
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if unix.EpollCtl(f.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}) != nil {
			unix.Close(fd)
			continue
		}
		c := &floorConn{}
		f.conns[fd] = c
		f.send(fd, c, []byte("220 floor ready.\r\n"))
	}
}

// serve handles one session's event: what it sent, or room to write.
func (f *Floor) serve(fd int, events uint32, buf []byte) {
	c := f.conns[fd]
	if c == nil {
		return
	}
	if events&unix.EPOLLOUT != 0 && len(c.out) > 0 {
		if !f.send(fd, c, nil) {
			return
		}
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0 {
		return
	}
	n, err := unix.Read(fd, buf)
	if err == unix.EAGAIN || err == unix.EINTR {
		return
	}
	if err != nil || n == 0 {
		f.drop(fd)
		return
	}
	data := buf[:n]
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		data = c.in
	}
	var out []byte
	quit := false
	for !quit {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		out, quit = f.answer(out, bytes.TrimRight(data[:i], "\r"))
		data = data[i+1:]
	}
	if len(data) > floorLine {
		f.drop(fd)
		return
	}
	c.in = append(c.in[:0], data...)
	if len(out) > 0 && !f.send(fd, c, out) {
		return
	}
	if quit {
		f.drop(fd)
	}
}

// answer appends the reply to one command line.
func (f *Floor) answer(out, line []byte) ([]byte, bool) {
	verb, arg, _ := bytes.Cut(line, []byte{' '})
	switch string(bytes.ToUpper(verb)) {
	case "USER":
		return append(out, "331 Password, please.\r\n"...), false
	case "PASS":
		return append(out, "230 Logged in.\r\n"...), false
	case "NOOP":
		return append(out, "200 OK.\r\n"...), false
	case "PWD":
		return append(out, "257 \"/\" is the current directory.\r\n"...), false
	case "TYPE":
		return append(out, "200 Type set.\r\n"...), false
	case "SIZE":
		p := path.Clean("/" + string(arg))[1:]
		if p == "" {
			p = "."
		}
		var st unix.Stat_t
		if unix.Fstatat(f.root, p, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			return append(out, "550 No such file.\r\n"...), false
		}
		out = append(out, "213 "...)
		out = strconv.AppendInt(out, st.Size, 10)
		return append(out, "\r\n"...), false
	case "QUIT":
		return append(out, "221 Bye.\r\n"...), true
	}
	return append(out, "502 Not implemented.\r\n"...), false
}

// send writes what is pending and then b; what the socket has no room
// for waits for EPOLLOUT. It reports false when it closed the session.
func (f *Floor) send(fd int, c *floorConn, b []byte) bool {
	if len(c.out) > 0 {
		c.out = append(c.out, b...)
		b = c.out
	}
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			f.drop(fd)
			return false
		}
		b = b[n:]
	}
	was := len(c.out) > 0
	c.out = append(c.out[:0], b...)
	if now := len(c.out) > 0; now != was {
		ev := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
		if now {
			ev |= unix.EPOLLOUT
		}
		_ = unix.EpollCtl(f.ep, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: ev, Fd: int32(fd)})
	}
	return true
}

func (f *Floor) drop(fd int) {
	delete(f.conns, fd)
	unix.Close(fd)
}
