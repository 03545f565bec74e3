// Tests of the acceptors: wildcard listeners name the address the client reached (accept_linux_test.go: an accept that fails for want of descriptors).
package reactor

import (
	"bytes"
	"net"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWildcardListen: on a wildcard listener, PASV names the address the
// client reached (the accepted socket's own, not 0.0.0.0), and the IPv6
// wildcard serves IPv4 clients too where the system allows both.
func TestWildcardListen(t *testing.T) {
	for _, tt := range []struct {
		listen string
		dials  []string
	}{
		{"0.0.0.0:0", []string{"127.0.0.1", "127.0.0.7"}},
		{"[::]:0", []string{"127.0.0.1", "127.0.0.7", "::1"}},
	} {
		t.Run(tt.listen, func(t *testing.T) {
			if strings.HasPrefix(tt.listen, "[") {
				if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
					t.Skipf("no IPv6: %v", err)
				} else {
					ln.Close()
				}
			}
			ts := startServer(t, serverOpts{reactor: func(c *Config) { c.Listen = tt.listen }})
			_, port, _ := net.SplitHostPort(ts.addr)
			for _, host := range tt.dials {
				cl := dial(t, net.JoinHostPort(host, port))
				cl.login()
				if ip := net.ParseIP(host); ip.To4() != nil {
					want := "227 Entering Passive Mode (" + strings.ReplaceAll(host, ".", ",") + ","
					if got := cl.cmd("PASV"); !strings.HasPrefix(got, want) {
						t.Errorf("PASV over %s: %q, want prefix %q", host, got, want)
					}
				} else {
					d := cl.pasv() // EPSV, and a data connection to the same address
					d.Close()
				}
			}
		})
	}
}
