// Tests of PROXY protocol on control listeners: the header's client is the session's everywhere, bad and untrusted headers close the connection.
package reactor

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	proxyproto "github.com/pires/go-proxyproto"

	"github.com/rftpd/rftpd/dtp"
)

// proxyServer runs a server whose listener takes PROXY headers from
// 127.0.0.1 only (mode), logging into logs.
func proxyServer(t *testing.T, mode ProxyMode, more func(*Config), dmore ...func(*dtp.Config)) (*testServer, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	ts := startServer(t, serverOpts{
		reactor: func(c *Config) {
			c.Listeners = []Listener{{Address: "127.0.0.1:0", Proxy: mode, ProxyData: true}}
			c.ProxyTrusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			c.ProxyHeaderTimeout = 300 * time.Millisecond
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			if more != nil {
				more(c)
			}
		},
		dtp: func(c *dtp.Config) {
			c.ProxyTrusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			for _, f := range dmore {
				f(c)
			}
		},
	})
	return ts, logs
}

// v1 is a v1 header from client src that reached dst.
func v1(src, dst string) string {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	return fmt.Sprintf("PROXY TCP4 %s %s %d %d\r\n", s.Addr(), d.Addr(), s.Port(), d.Port())
}

// v2hdr is a v2 header from client src that reached dst.
func v2hdr(t *testing.T, src, dst string) string {
	t.Helper()
	h := proxyproto.HeaderProxyFromAddrs(2,
		net.TCPAddrFromAddrPort(netip.MustParseAddrPort(src)),
		net.TCPAddrFromAddrPort(netip.MustParseAddrPort(dst)))
	b, err := h.Format()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// viaBalancer connects from 127.0.0.1 (the trusted balancer), sends
// header and reads the greeting.
func viaBalancer(t *testing.T, addr, header string) *client {
	t.Helper()
	cl := dialFrom(t, "127.0.0.1", addr)
	if _, err := io.WriteString(cl.c, header); err != nil {
		t.Fatal(err)
	}
	if got := cl.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting through the balancer: %q", got)
	}
	return cl
}

// closedSilently reads until the server closes c, and fails if it sent
// anything.
func closedSilently(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(replyWait))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("waiting for the close: %v", err)
	}
	if len(b) != 0 {
		t.Fatalf("got %q before the close, want nothing", b)
	}
}

// TestProxyRequired: the header's client is the session's for the
// per-address limits and for PASV (the address the client reached);
// untrusted peers, bad headers and missing ones are closed with a log line.
func TestProxyRequired(t *testing.T) {
	ts, logs := proxyServer(t, ProxyRequired, func(c *Config) { c.MaxPerIP = 1 })
	front := "198.51.100.1:21"

	a := viaBalancer(t, ts.addr, v1("192.0.2.7:40000", front))
	a.login()
	// The second session of 192.0.2.7 is over MaxPerIP, though the
	// balancer's address holds one already; another client's is not.
	second := dialFrom(t, "127.0.0.1", ts.addr)
	io.WriteString(second.c, v1("192.0.2.7:40001", front))
	if got := second.reply(); !strings.HasPrefix(got, "421 ") {
		t.Fatalf("second session of one client through the balancer: %q", got)
	}
	b := viaBalancer(t, ts.addr, v2hdr(t, "192.0.2.8:40000", front))
	// The header and the first command in one segment.
	c := dialFrom(t, "127.0.0.1", ts.addr)
	io.WriteString(c.c, v1("192.0.2.9:40000", front)+"USER anonymous\r\n")
	if got := c.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting: %q", got)
	}
	if got := c.reply(); !strings.HasPrefix(got, "331 ") {
		t.Fatalf("USER behind the header: %q", got)
	}
	// PASV names the address the client reached, not the node's.
	b.login()
	if got := b.cmd("PASV"); !strings.HasPrefix(got, "227 Entering Passive Mode (198,51,100,1,") {
		t.Fatalf("PASV through the balancer: %q", got)
	}
	// PORT and EPRT may name only the header's client, not the balancer.
	b.expect("EPRT |1|127.0.0.1|40000|", "501 ")
	b.expect("PORT 127,0,0,1,156,64", "501 ")
	b.expect("EPRT |1|192.0.2.8|40000|", "200 ")

	for _, tt := range []struct {
		name, from, send, log string
	}{
		{"untrusted peer", "127.0.0.2", "", "not trusted to send headers"},
		{"malformed header", "127.0.0.1", "PROXY TCP4 192.0.2.300 198.51.100.1 1 21\r\n", "PROXY: bad header"},
		{"oversized header", "127.0.0.1", "PROXY TCP4 " + strings.Repeat("9", 120), "PROXY: bad header"},
		{"a command instead", "127.0.0.1", "USER anonymous\r\n", "PROXY: bad header"},
		{"no header", "127.0.0.1", "", "PROXY: no header in time"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := strings.Count(logs.String(), tt.log)
			cl := dialFrom(t, tt.from, ts.addr)
			if tt.send != "" {
				io.WriteString(cl.c, tt.send)
			}
			closedSilently(t, cl.c)
			if strings.Count(logs.String(), tt.log) != before+1 {
				t.Fatalf("no %q in the log:\n%s", tt.log, logs.String())
			}
		})
	}
	a.expect("NOOP", "200 ") // sessions go on
}

// TestProxyDataConnections: a passive data connection through the
// balancer carries a header naming the session's client; one naming
// another client is refused, and the right one still gets the data.
func TestProxyDataConnections(t *testing.T) {
	t.Run("own listener", func(t *testing.T) { proxyData(t, false) })
	t.Run("shared ports", func(t *testing.T) { proxyData(t, true) })
}

func proxyData(t *testing.T, shared bool) {
	ts, _ := proxyServer(t, ProxyRequired, nil, func(c *dtp.Config) {
		if shared {
			c.PassiveLow, c.PassiveHigh = freeRange(t, 3)
			c.PassiveShared = true
		}
	})
	cl := viaBalancer(t, ts.addr, v1("192.0.2.7:40000", "127.0.0.1:21"))
	cl.login()
	cl.expect("TYPE I", "200 ")
	got := cl.expect("EPSV", "229 ")
	port := got[strings.Index(got, "(|||")+4 : strings.LastIndex(got, "|)")]
	data := net.JoinHostPort("127.0.0.1", port)

	thief, err := net.Dial("tcp", data)
	if err != nil {
		t.Fatal(err)
	}
	defer thief.Close()
	io.WriteString(thief, v1("192.0.2.66:5000", "127.0.0.1:"+port))
	cl.send("RETR hello.txt")
	closedSilently(t, thief)

	d, err := net.Dial("tcp", data)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	io.WriteString(d, v2hdr(t, "192.0.2.7:40001", "127.0.0.1:"+port))
	if got := cl.reply(); !strings.HasPrefix(got, "150 ") {
		t.Fatalf("RETR: %q", got)
	}
	body, _ := io.ReadAll(bufio.NewReader(d))
	if string(body) != "hello\n" {
		t.Fatalf("data: %q", body)
	}
	if got := cl.reply(); !strings.HasPrefix(got, "226 ") {
		t.Fatalf("after the data: %q", got)
	}
	if n := ts.dtp.ForeignData(); n < 1 {
		t.Fatalf("foreign data connections counted: %d", n)
	}
}

// TestProxyOptional: a trusted peer's header is read; a trusted peer
// without one is greeted once the wait is over; an untrusted client is
// served at once, and closed if it sends a header.
func TestProxyOptional(t *testing.T) {
	ts, logs := proxyServer(t, ProxyOptional, nil)
	viaBalancer(t, ts.addr, v1("192.0.2.7:40000", "198.51.100.1:21")).login()

	start := time.Now()
	quiet := dialFrom(t, "127.0.0.1", ts.addr)
	if got := quiet.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("trusted peer without a header: %q", got)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("greeted after %v, before the header wait was over", waited)
	}
	direct := dialFrom(t, "127.0.0.3", ts.addr)
	if got := direct.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("untrusted client: %q", got)
	}
	direct.expect("NOOP", "200 ")
	sneaky := dialFrom(t, "127.0.0.4", ts.addr)
	if got := sneaky.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("untrusted client: %q", got)
	}
	io.WriteString(sneaky.c, v1("192.0.2.7:1", "198.51.100.1:21"))
	_ = sneaky.c.SetReadDeadline(time.Now().Add(replyWait))
	if rest, _ := io.ReadAll(sneaky.c); len(rest) != 0 {
		t.Fatalf("an untrusted header got %q", rest)
	}
	if !strings.Contains(logs.String(), "header from an address not trusted to send one") {
		t.Fatalf("no log line for the untrusted header:\n%s", logs.String())
	}
}

// TestProxyLocal: a LOCAL header (a balancer's health check) keeps the
// socket's own addresses.
func TestProxyLocal(t *testing.T) {
	ts, _ := proxyServer(t, ProxyRequired, nil)
	local := string(append([]byte("\r\n\r\n\x00\r\nQUIT\n"), 0x20, 0x00, 0, 0))
	cl := viaBalancer(t, ts.addr, local)
	cl.login()
	if got := cl.cmd("PASV"); !strings.HasPrefix(got, "227 Entering Passive Mode (127,0,0,1,") {
		t.Fatalf("PASV after a LOCAL header: %q", got)
	}
}

// TestPassiveHosts: clients of a LAN get its address in PASV/EPSV replies,
// the rest the listener's public one.
func TestPassiveHosts(t *testing.T) {
	ts, _ := proxyServer(t, ProxyRequired, func(c *Config) {
		c.Listeners[0].PublicHost = netip.MustParseAddr("203.0.113.9")
		c.PassiveHosts = []PassiveHost{{
			Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.0/16")},
			Host:     netip.MustParseAddr("10.1.2.3"),
		}}
	})
	for _, tt := range []struct{ client, want string }{
		{"10.9.8.7", "10,1,2,3"},
		{"192.168.1.5", "10,1,2,3"},
		{"192.0.2.7", "203,0,113,9"},
	} {
		cl := viaBalancer(t, ts.addr, v1(tt.client+":4000", "198.51.100.1:21"))
		cl.login()
		if got := cl.cmd("PASV"); !strings.HasPrefix(got, "227 Entering Passive Mode ("+tt.want+",") {
			t.Errorf("PASV for %s: %q, want %s", tt.client, got, tt.want)
		}
		cl.expect("QUIT", "221 ")
	}
}

// TestProxyImplicitTLS: on an implicit-TLS listener taking optional PROXY
// headers, a client not trusted to send one handshakes at once, and a
// balancer's header is followed by its client's TLS handshake.
func TestProxyImplicitTLS(t *testing.T) {
	ts, ccfg := startTLSServer(t, func(c *Config) {
		c.Listeners = []Listener{{Address: "127.0.0.1:0"}, {Address: "127.0.0.1:0", ImplicitTLS: true, Proxy: ProxyOptional}}
		c.ProxyTrusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	ia := ts.srv.ImplicitAddr().String()
	greet := func(c net.Conn) {
		t.Helper()
		tc := tls.Client(c, ccfg)
		_ = tc.SetDeadline(time.Now().Add(replyWait))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("handshake: %v", err)
		}
		cl := &client{t: t, c: tc, r: bufio.NewReader(tc)}
		if got := cl.reply(); !strings.HasPrefix(got, "220 ") {
			t.Fatalf("greeting %q", got)
		}
		cl.login()
	}
	direct := dialFrom(t, "127.0.0.2", ia)
	greet(direct.c)
	viaLB := dialFrom(t, "127.0.0.1", ia)
	io.WriteString(viaLB.c, v1("192.0.2.7:40000", "198.51.100.1:990"))
	greet(viaLB.c)
}
