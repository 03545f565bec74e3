// Tests of portHold: a port chosen for a listener stays out of others' reach until gnet binds it.
package reactor

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// plainBind binds a socket without SO_REUSEADDR, as a connect's ephemeral
// port or another program's listener would, and closes it.
func plainBind(t *testing.T, a *net.TCPAddr) error {
	t.Helper()
	family, sa := unix.AF_INET6, unix.Sockaddr(&unix.SockaddrInet6{Port: a.Port, Addr: [16]byte(a.IP.To16())})
	if ip4 := a.IP.To4(); ip4 != nil {
		family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: a.Port, Addr: [4]byte(ip4)}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	return unix.Bind(fd, sa)
}

// TestPortHold: while held, a port chosen for port 0 refuses plain binds
// but takes a listener that sets SO_REUSEADDR, as gnet's does (and Go's);
// released, it is free.
func TestPortHold(t *testing.T) {
	for _, tt := range []struct{ proto, addr string }{
		{"tcp4", "127.0.0.1:0"},
		{"tcp6", "[::1]:0"},
	} {
		t.Run(tt.proto, func(t *testing.T) {
			var h portHold
			defer h.release()
			a, err := h.reserve(tt.proto, netip.MustParseAddrPort(tt.addr))
			if tt.proto == "tcp6" && err != nil && errors.Is(err, unix.EADDRNOTAVAIL) {
				t.Skipf("no IPv6 loopback: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Port == 0 {
				t.Fatalf("reserved %v: port 0 not resolved", a)
			}
			if err := plainBind(t, a); !errors.Is(err, unix.EADDRINUSE) {
				t.Fatalf("a plain bind to the held %v: %v, want EADDRINUSE", a, err)
			}
			ln, err := net.Listen(tt.proto, a.String())
			if err != nil {
				t.Fatalf("a listener on the held %v: %v", a, err)
			}
			ln.Close()
			h.release()
			if err := plainBind(t, a); err != nil {
				t.Fatalf("a plain bind to %v once released: %v", a, err)
			}
		})
	}
}
