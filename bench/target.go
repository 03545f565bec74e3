// Targets: the ftp:// URL of a server, its credentials and base folder.
package bench

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path"
	"strings"
)

// Target is the server under test: ftp://[user[:pass]@]host[:port][/path],
// or ftps:// for implicit TLS. Without a user the login is anonymous.
type Target struct {
	Addr string // host:port
	User string
	Pass string
	Path string // base folder on the server, "/" when absent
	// TLS: plain FTP, explicit FTPS (AUTH TLS) or implicit FTPS. With TLS
	// the data connections are protected too (PROT P).
	TLS TLSMode
	// TLSConfig checks the server's certificate (see TLSOptions.Config);
	// required with TLS.
	TLSConfig *tls.Config
}

// ParseTarget parses an ftp:// or ftps:// (implicit TLS) URL. The port
// defaults to 21 (ftps: 990), the user to "anonymous" (password
// "ftpbench@") and the path to "/". An ftps:// target still needs its
// TLSConfig.
func ParseTarget(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, fmt.Errorf("bench: target %q: %w", s, err)
	}
	if u.Scheme != "ftp" && u.Scheme != "ftps" {
		return Target{}, fmt.Errorf("bench: target %q: scheme must be ftp:// or ftps://", s)
	}
	if u.Host == "" || u.Opaque != "" {
		return Target{}, fmt.Errorf("bench: target %q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return Target{}, fmt.Errorf("bench: target %q: query and fragment are not allowed", s)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "21"
		if u.Scheme == "ftps" {
			port = "990"
		}
	}
	t := Target{Addr: net.JoinHostPort(host, port), User: "anonymous", Pass: "ftpbench@", Path: "/"}
	if u.Scheme == "ftps" {
		t.TLS = TLSImplicit
	}
	if u.User != nil {
		t.User = u.User.Username()
		if p, ok := u.User.Password(); ok {
			t.Pass = p
		} else if t.User != "anonymous" && t.User != "ftp" {
			t.Pass = ""
		}
	}
	if strings.ContainsAny(t.User+t.Pass, "\r\n") {
		return Target{}, fmt.Errorf("bench: target %q: CR or LF in credentials", s)
	}
	if u.Path != "" {
		t.Path = path.Clean("/" + u.Path)
	}
	return t, nil
}

// String returns the URL without the password.
func (t Target) String() string {
	u := url.URL{Scheme: "ftp", Host: t.Addr, Path: t.Path}
	if t.TLS == TLSImplicit {
		u.Scheme = "ftps"
	}
	if t.User != "" && t.User != "anonymous" {
		u.User = url.User(t.User)
	}
	return u.String()
}

// Join returns the server path of p under the target's base folder.
func (t Target) Join(p string) string {
	return path.Join(t.Path, p)
}

// LoopbackIPv4 reports whether the target's host is an IPv4 loopback address
// (127.0.0.0/8), where source addresses can be spread over 127.0.0.x.
func (t Target) LoopbackIPv4() bool {
	host, _, err := net.SplitHostPort(t.Addr)
	if err != nil {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Is4() && a.IsLoopback()
}

// Sources returns n source addresses 127.0.0.1 … 127.0.0.n for a loopback
// IPv4 target (n ≤ 254), or a single nil entry (the system's choice) otherwise.
func (t Target) Sources(n int) []net.IP {
	if n <= 1 || !t.LoopbackIPv4() {
		return []net.IP{nil}
	}
	n = min(n, 254)
	out := make([]net.IP, n)
	for i := range out {
		out[i] = net.IPv4(127, 0, 0, byte(i+1)).To4()
	}
	return out
}
