// The exhaustion battery: floods and hoarders from a few addresses against the real binary under a small open-file limit, each time checked by a client from a fresh address.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// freshWithin is how long a client from a fresh address may take to log
// in, list and download beside an attack.
const freshWithin = 5 * time.Second

// hostileConn is one attacking connection: its control connection and,
// when it holds one, its data connection.
type hostileConn struct {
	ctrl, data net.Conn
	r          *bufio.Reader
}

// hostileCrowd is the connections of an attack, closed together.
type hostileCrowd struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (h *hostileCrowd) add(c ...net.Conn) {
	h.mu.Lock()
	h.conns = append(h.conns, c...)
	h.mu.Unlock()
}

func (h *hostileCrowd) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *hostileCrowd) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
}

// dialFromAddr connects from the loopback address from (any port), with
// a receive buffer of rcvbuf bytes when it is positive.
func dialFromAddr(from, addr string, rcvbuf int) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
		}
	}
	return d.Dial("tcp", addr)
}

// exchange sends line (unless empty) and reads one reply's last line.
func (h *hostileConn) exchange(line string) (string, error) {
	h.ctrl.SetDeadline(time.Now().Add(20 * time.Second))
	if line != "" {
		if _, err := io.WriteString(h.ctrl, line+"\r\n"); err != nil {
			return "", err
		}
	}
	return h.read()
}

// read reads one reply's last line, without sending.
func (h *hostileConn) read() (string, error) {
	for {
		l, err := h.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		if len(l) >= 4 && l[3] == ' ' {
			return strings.TrimRight(l, "\r\n"), nil
		}
	}
}

// hostileSession connects from from, reads the greeting and logs in
// anonymously; nil when the server refused it.
func hostileSession(t *testing.T, from, addr string) *hostileConn {
	t.Helper()
	c, err := dialFromAddr(from, addr, 0)
	if err != nil {
		t.Fatalf("hostile connect from %s: %v", from, err)
	}
	h := &hostileConn{ctrl: c, r: bufio.NewReader(c)}
	if g, err := h.exchange(""); err != nil || !strings.HasPrefix(g, "220 ") {
		c.Close()
		return nil
	}
	for _, l := range []string{"USER anonymous", "PASS x", "TYPE I"} {
		if r, err := h.exchange(l); err != nil || r[0] != '2' && r[0] != '3' {
			c.Close()
			return nil
		}
	}
	return h
}

// epsvPort asks for a passive port; 0 when refused.
func (h *hostileConn) epsvPort() int {
	r, err := h.exchange("EPSV")
	if err != nil || !strings.HasPrefix(r, "229 ") {
		return 0
	}
	i := strings.Index(r, "(|||")
	p, _ := strconv.Atoi(strings.TrimSuffix(r[i+4:], "|)."))
	return p
}

// freshClient logs in anonymously from the address from, lists the root
// and downloads name, and fails the test unless it all works within
// freshWithin.
func freshClient(t *testing.T, addr, from, name string, want []byte, opts ...ftp.DialOption) {
	t.Helper()
	start := time.Now()
	var dbg syncBuffer
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: freshWithin}
	opts = append([]ftp.DialOption{ftp.DialWithDialer(d), ftp.DialWithDebugOutput(&dbg)}, opts...)
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("fresh client from %s: %s after %v\ntranscript:\n%s", from, fmt.Sprintf(format, args...), time.Since(start).Round(time.Millisecond), dbg.String())
	}
	c, err := ftp.Dial(addr, opts...)
	if err != nil {
		fail("dial: %v", err)
	}
	defer c.Quit()
	if err := c.Login("anonymous", "fresh@example.org"); err != nil {
		fail("login: %v", err)
	}
	entries, err := c.List("/")
	if err != nil || len(entries) == 0 {
		fail("list: %d entries, %v", len(entries), err)
	}
	r, err := c.Retr(name)
	if err != nil {
		fail("RETR %s: %v", name, err)
	}
	got, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil || !bytes.Equal(got, want) {
		fail("RETR %s: %d bytes, %v", name, len(got), err)
	}
	if d := time.Since(start); d > freshWithin {
		fail("login, list and download took %v, want at most %v", d, freshWithin)
	}
}

// alive fails the test when rftpd has exited.
func alive(t *testing.T, p *proc) {
	t.Helper()
	select {
	case <-p.exited:
		t.Fatalf("rftpd exited: %v\nstderr:\n%s", p.err, p.stderr.String())
	default:
	}
}

// TestExhaustion runs rftpd under a 1,200 open-file limit with small limits
// of its own, and attacks it from a few loopback addresses in turn: a
// connection flood, passive-port hoarders, stalled TLS handshakes and slow
// readers. After each, a client from an address of its own logs in, lists
// and downloads within freshWithin (also over explicit and implicit FTPS
// beside the stalled handshakes); rftpd never exits, and exits with status
// 0 at the end.
func TestExhaustion(t *testing.T) {
	prlimit := needTool(t, "prlimit", "util-linux")
	root := t.TempDir()
	small := []byte("a small file for fresh clients\n")
	putFile(t, filepath.Join(root, "small.txt"), string(small))
	big, err := os.Create(filepath.Join(root, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	big.Close()
	lo := 61000 + os.Getpid()%2000
	cfg := filepath.Join(t.TempDir(), "rftpd.toml")
	putFile(t, cfg, fmt.Sprintf(`anonymous = %q
passive_ports = "%d-%d"
log_level = "error"
[limits]
max_transfers = 64
[tls]
cert = %q
key = %q
implicit_listen = "127.0.0.1:0"
max_handshakes = 64
handshake_timeout = "60s"
`, root, lo, lo+39, certFile, keyFile))
	p := startProcUnder(t, []string{prlimit, "--nofile=1200:1200"}, "-config", cfg)
	addr, iaddr := p.addr, p.implicitAddr(t)
	fresh := 200

	t.Run("connection flood from 50 addresses", func(t *testing.T) {
		var h hostileCrowd
		defer h.close()
		var wg sync.WaitGroup
		for i := range 1300 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if c, err := dialFromAddr(fmt.Sprintf("127.0.0.%d", 50+i%50), addr, 0); err == nil {
					h.add(c)
				}
			}()
		}
		wg.Wait()
		t.Logf("%d flooding connections open", h.count())
		alive(t, p)
		fresh++
		freshClient(t, addr, fmt.Sprintf("127.0.0.%d", fresh), "small.txt", small)
	})
	alive(t, p)

	t.Run("passive hoarders from 8 addresses", func(t *testing.T) {
		var h hostileCrowd
		defer h.close()
		held := 0
		for i := range 8 {
			for range 10 {
				s := hostileSession(t, fmt.Sprintf("127.0.0.%d", 11+i), addr)
				if s == nil {
					continue
				}
				h.add(s.ctrl)
				if s.epsvPort() > 0 {
					held++
				}
			}
		}
		t.Logf("hoarders hold %d of 40 passive ports", held)
		if held >= 40 {
			t.Fatalf("8 addresses hold all %d passive ports", held)
		}
		fresh++
		freshClient(t, addr, fmt.Sprintf("127.0.0.%d", fresh), "small.txt", small)
	})
	alive(t, p)

	t.Run("stalled TLS handshakes from 8 addresses", func(t *testing.T) {
		var h hostileCrowd
		defer h.close()
		// Half a ClientHello: a record header announcing 512 bytes, and 100 of them.
		half := append([]byte{0x16, 0x03, 0x01, 0x02, 0x00}, make([]byte, 100)...)
		for i := range 8 {
			for range 20 {
				c, err := dialFromAddr(fmt.Sprintf("127.0.0.%d", 21+i), addr, 0)
				if err != nil {
					t.Fatal(err)
				}
				h.add(c)
				s := &hostileConn{ctrl: c, r: bufio.NewReader(c)}
				if g, err := s.exchange(""); err != nil || !strings.HasPrefix(g, "220 ") {
					continue
				}
				if r, err := s.exchange("AUTH TLS"); err != nil || !strings.HasPrefix(r, "234 ") {
					continue
				}
				c.Write(half)
			}
			for range 20 {
				c, err := dialFromAddr(fmt.Sprintf("127.0.0.%d", 21+i), iaddr, 0)
				if err != nil {
					t.Fatal(err)
				}
				h.add(c)
				c.Write(half)
			}
		}
		fresh++
		freshClient(t, addr, fmt.Sprintf("127.0.0.%d", fresh), "small.txt", small, ftp.DialWithExplicitTLS(clientTLS(t)))
		fresh++
		freshClient(t, iaddr, fmt.Sprintf("127.0.0.%d", fresh), "small.txt", small, ftp.DialWithTLS(clientTLS(t)))
	})
	alive(t, p)

	t.Run("slow readers from 8 addresses", func(t *testing.T) {
		var h hostileCrowd
		defer h.close()
		reading := 0
		for i := range 8 {
			from := fmt.Sprintf("127.0.0.%d", 31+i)
			for range 16 {
				s := hostileSession(t, from, addr)
				if s == nil {
					continue
				}
				h.add(s.ctrl)
				port := s.epsvPort()
				if port == 0 {
					continue
				}
				d, err := dialFromAddr(from, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 4096)
				if err != nil {
					continue
				}
				h.add(d)
				if r, err := s.exchange("RETR big.bin"); err == nil && strings.HasPrefix(r, "150 ") {
					reading++
				}
			}
		}
		t.Logf("%d slow readers of 64 transfers", reading)
		if reading >= 64 {
			t.Fatalf("8 addresses hold all %d transfers", reading)
		}
		fresh++
		freshClient(t, addr, fmt.Sprintf("127.0.0.%d", fresh), "small.txt", small)
	})
	alive(t, p)
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
}
