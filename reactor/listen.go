// Holding the listeners' ports from when they are chosen until gnet has bound them.
package reactor

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// portHold keeps the ports chosen for the listeners bound until gnet's own
// listeners are. gnet reports a failed bind without the address, and a
// port 0 must be resolved before gnet binds it, so that it can be printed:
// so each address is bound first, here. Were that socket closed at once,
// any other socket (a connect's ephemeral port, another listener on port 0)
// could take the port before gnet binds it, and gnet would fail with
// "address already in use". Each held socket is bound with SO_REUSEADDR
// and does not listen: plain binds and connects leave its port alone, while
// gnet's listener, which sets SO_REUSEADDR too, may bind it and listen.
type portHold struct {
	mu  sync.Mutex
	fds []int
}

// reserve binds a socket to ap for proto ("tcp4" or "tcp6") and holds it;
// it returns the address bound, with port 0 resolved.
func (h *portHold) reserve(proto string, ap netip.AddrPort) (*net.TCPAddr, error) {
	fail := func(call string, err error) (*net.TCPAddr, error) {
		return nil, fmt.Errorf("reactor: listen %s %s: %v", proto, ap, os.NewSyscallError(call, err))
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if proto == "tcp6" {
		family = unix.AF_INET6
		s6 := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
		if z := ap.Addr().Zone(); z != "" {
			if ifi, err := net.InterfaceByName(z); err == nil {
				s6.ZoneId = uint32(ifi.Index)
			} else if n, err := strconv.ParseUint(z, 10, 32); err == nil {
				s6.ZoneId = uint32(n)
			}
		}
		sa = s6
	} else {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().Unmap().As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fail("socket", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return fail("setsockopt", err)
	}
	if family == unix.AF_INET6 {
		// As gnet's tcp6 listener: IPv6 only.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			unix.Close(fd)
			return fail("setsockopt", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return fail("bind", err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return fail("getsockname", err)
	}
	h.mu.Lock()
	h.fds = append(h.fds, fd)
	h.mu.Unlock()
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}, nil
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port, Zone: ap.Addr().Zone()}, nil
	}
	return nil, fmt.Errorf("reactor: listen %s %s: bound to %T", proto, ap, got)
}

// release closes the held sockets. It may be called again, from any goroutine.
func (h *portHold) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fd := range h.fds {
		unix.Close(fd)
	}
	h.fds = nil
}
