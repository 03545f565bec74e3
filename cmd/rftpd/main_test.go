package main

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rftpd/rftpd/reactor"
)

// runCLI runs rftpd's main logic in-process with the given arguments.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCLIErrors: every start-up mistake is one line naming the problem, with
// exit status 2 for usage and 1 otherwise.
func TestCLIErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"-bogus"}, 2, "flag provided but not defined: -bogus"},
		{"stray argument", []string{"extra"}, 2, `unexpected argument "extra"`},
		{"missing config", []string{"-config", filepath.Join(dir, "nope.toml")}, 1, "nope.toml"},
		{"unknown setting", []string{"-config", writeFile(t, "c.toml", "listen = \"127.0.0.1:0\"\nlisten_port = 21\n")}, 1, "unknown setting listen_port"},
		{"unknown nested setting", []string{"-config", writeFile(t, "c.toml", "[timeouts]\nidel = \"5s\"\n")}, 1, "unknown setting timeouts.idel"},
		{"bad duration", []string{"-config", writeFile(t, "c.toml", "[timeouts]\nidle = \"soon\"\n")}, 1, "c.toml"},
		{"bad limit", []string{"-config", writeFile(t, "c.toml", "[limits]\nmax_line = 10\n")}, 1, "limits.max_line = 10"},
		{"bad passive range", []string{"-passive-ports", "6000-5000"}, 1, `passive ports "6000-5000"`},
		{"bad listen", []string{"-listen", "nonsense"}, 1, `listen "nonsense"`},
		{"missing anonymous root", []string{"-listen", "127.0.0.1:0", "-anonymous", filepath.Join(dir, "missing")}, 1, "missing"},
		{"missing users file", []string{"-listen", "127.0.0.1:0", "-users", filepath.Join(dir, "users.toml")}, 1, "users.toml"},
		{"port in use", []string{"-listen", busy.Addr().String(), "-anonymous", dir}, 1, "address already in use"},
		{"certificate without key", []string{"-listen", "127.0.0.1:0", "-tls-cert", "testdata/tls/cert.pem"}, 1, "-tls-key"},
		{"implicit without certificate", []string{"-listen", "127.0.0.1:0", "-implicit-listen", "127.0.0.1:0"}, 1, "implicit FTPS needs -tls-cert"},
		{"missing certificate", []string{"-listen", "127.0.0.1:0", "-anonymous", dir, "-tls-cert", filepath.Join(dir, "c.pem"), "-tls-key", "testdata/tls/key.pem"}, 1, "c.pem"},
		{"key of another certificate", []string{"-listen", "127.0.0.1:0", "-anonymous", dir, "-tls-cert", "testdata/tls/cert.pem", "-tls-key", "testdata/tls/other-key.pem"}, 1, "other-key.pem"},
		{"implicit port in use", []string{"-listen", "127.0.0.1:0", "-anonymous", dir, "-tls-cert", "testdata/tls/cert.pem", "-tls-key", "testdata/tls/key.pem", "-implicit-listen", busy.Addr().String()}, 1, "address already in use"},
		{"proxy without trusted networks", []string{"-config", writeFile(t, "c.toml", "[proxy]\nmode = \"required\"\n")}, 1, "proxy.trusted must name"},
		{"bad proxy mode", []string{"-config", writeFile(t, "c.toml", "[proxy]\nmode = \"sometimes\"\n")}, 1, "proxy.mode"},
		{"bad trusted network", []string{"-config", writeFile(t, "c.toml", "[proxy]\ntrusted = [\"10.0.0.0/33\"]\n")}, 1, "proxy.trusted"},
		{"bad listener proxy", []string{"-config", writeFile(t, "c.toml", "[[listener]]\naddress = \"127.0.0.1:0\"\nproxy = \"yes\"\n")}, 1, "listener[0].proxy"},
		{"bad passive host", []string{"-config", writeFile(t, "c.toml", "[[passive_host]]\nnetworks = [\"10.0.0.0/8\"]\n")}, 1, "passive_host[0]"},
		{"bad listen list", []string{"-config", writeFile(t, "c.toml", "listen = [21]\n")}, 1, "listen"},
		{"second listen in use", []string{"-listen", "127.0.0.1:0", "-listen", busy.Addr().String(), "-anonymous", dir}, 1, "address already in use"},
		{"duration without a unit", []string{"-config", writeFile(t, "c.toml", "[timeouts]\nlogin = 60\n")}, 1, `timeouts.login: a duration needs a unit, as in "60s"`},
		{"duration as a float", []string{"-config", writeFile(t, "c.toml", "[proxy]\nheader_timeout = 2.5\n")}, 1, "proxy.header_timeout"},
		{"accounts file without a password", []string{"-listen", "127.0.0.1:0", "-users", writeFile(t, "u.toml", "[[user]]\nname = \"x\"\nroot = \".\"\n")}, 1, "password is missing"},
		{"bad tls setting", []string{"-config", writeFile(t, "c.toml", "[tls]\nhandshake_timeout = \"0s\"\n")}, 1, "tls.handshake_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not name %q", stderr, tt.want)
			}
			if line := strings.TrimSpace(stderr); strings.Contains(line, "\n") || !strings.HasPrefix(line, "rftpd: ") {
				t.Errorf("stderr %q is not one line starting with \"rftpd: \"", stderr)
			}
			for _, pkg := range []string{"dtp: ", "reactor: ", "protocol: "} {
				if strings.Contains(stderr, pkg) {
					t.Errorf("stderr %q names the package %q", stderr, pkg)
				}
			}
		})
	}
}

// TestFlagsOverrideConfig: a flag wins over the same setting in the file.
func TestFlagsOverrideConfig(t *testing.T) {
	cfg := writeFile(t, "c.toml", "listen = \"127.0.0.1:1\"\npassive_ports = \"40000-40010\"\n[timeouts]\nidle = \"7s\"\n")
	s, err := parseArgs([]string{"-config", cfg, "-listen", "127.0.0.1:0"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	r, p, d, err := s.configs()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Listeners) != 1 || r.Listeners[0].Address != "127.0.0.1:0" {
		t.Errorf("listeners %+v: the flag must override the file", r.Listeners)
	}
	if p.IdleTimeout != 7*time.Second {
		t.Errorf("idle timeout %v, want the file's 7s", p.IdleTimeout)
	}
	if d.PassiveLow != 40000 || d.PassiveHigh != 40010 {
		t.Errorf("passive ports %d-%d, want the file's 40000-40010", d.PassiveLow, d.PassiveHigh)
	}
	if r.SendBuffer != 64<<10 {
		t.Errorf("send buffer %d by default, want 65536", r.SendBuffer)
	}

	// limits.send_buffer: 0 leaves the kernel's autotuning; below 0 is refused.
	for _, tt := range []struct {
		body string
		want int
		err  bool
	}{
		{"[limits]\nsend_buffer = 16384\n", 16384, false},
		{"[limits]\nsend_buffer = 0\n", 0, false},
		{"[limits]\nsend_buffer = -1\n", 0, true},
	} {
		s, err := parseArgs([]string{"-config", writeFile(t, "c.toml", tt.body)}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		r, _, _, err := s.configs()
		switch {
		case tt.err && err == nil:
			t.Errorf("%q: accepted", tt.body)
		case !tt.err && err != nil:
			t.Errorf("%q: %v", tt.body, err)
		case !tt.err && r.SendBuffer != tt.want:
			t.Errorf("%q: send buffer %d, want %d", tt.body, r.SendBuffer, tt.want)
		}
	}
}

// TestHelpAndVersion: -h and -version print to stdout and exit 0; -h
// names the config keys, the signals and the exit statuses.
func TestHelpAndVersion(t *testing.T) {
	code, out, errOut := runCLI(t, "", "-h")
	if code != 0 || errOut != "" {
		t.Fatalf("-h: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"usage: rftpd", "-listen", "timeouts.login", "listener[].proxy", "passive_host[].networks", "SIGHUP", "SIGTERM", "exit status", "2  a usage mistake"} {
		if !strings.Contains(out, want) {
			t.Errorf("-h does not say %q:\n%s", want, out)
		}
	}
	code, out, errOut = runCLI(t, "", "-version")
	if code != 0 || errOut != "" || !strings.HasPrefix(out, "rftpd ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("-version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	version = "v1.2.3"
	defer func() { version = "" }()
	if _, out, _ = runCLI(t, "", "-version"); !strings.HasPrefix(out, "rftpd v1.2.3 (") {
		t.Errorf("-version with a stamped version: %q", out)
	}
}

// TestConfigRelativePaths: relative paths in the config file are taken
// from its folder; on the command line, from the working directory.
func TestConfigRelativePaths(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rftpd.toml")
	body := "users = \"users.toml\"\nanonymous = \"pub\"\n[tls]\ncert = \"tls/cert.pem\"\nkey = \"/etc/abs/key.pem\"\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := parseArgs([]string{"-config", cfg}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{s.Users, filepath.Join(dir, "users.toml")},
		{s.Anonymous, filepath.Join(dir, "pub")},
		{s.TLS.Cert, filepath.Join(dir, "tls/cert.pem")},
		{s.TLS.Key, "/etc/abs/key.pem"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	s, err = parseArgs([]string{"-config", cfg, "-users", "mine.toml"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Users != "mine.toml" {
		t.Errorf("-users mine.toml became %q; a flag's path is the working directory's", s.Users)
	}
}

// TestListenerSettings: listen takes one address or a list (and -listen
// repeats), [proxy] applies to every listener unless a [[listener]] says
// otherwise, and [[passive_host]] rules keep their order.
func TestListenerSettings(t *testing.T) {
	cfg := writeFile(t, "c.toml", `listen = ["127.0.0.1:2121", "[::1]:2121"]
[proxy]
mode = "required"
trusted = ["10.0.0.0/8", "192.0.2.1"]
data = true
header_timeout = "3s"

[[listener]]
address = "127.0.0.2:2122"
proxy = "off"
public_host = "203.0.113.9"

[[listener]]
address = "127.0.0.3:2123"
proxy_data = false

[[passive_host]]
networks = ["192.168.0.0/16", "fd00::/8"]
host = "192.168.1.1"
`)
	s, err := parseArgs([]string{"-config", cfg}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	r, _, d, err := s.configs()
	if err != nil {
		t.Fatal(err)
	}
	want := []reactor.Listener{
		{Address: "127.0.0.1:2121", Proxy: reactor.ProxyRequired, ProxyData: true},
		{Address: "[::1]:2121", Proxy: reactor.ProxyRequired, ProxyData: true},
		{Address: "127.0.0.2:2122", Proxy: reactor.ProxyOff, ProxyData: true, PublicHost: netip.MustParseAddr("203.0.113.9")},
		{Address: "127.0.0.3:2123", Proxy: reactor.ProxyRequired, ProxyData: false},
	}
	if !reflect.DeepEqual(r.Listeners, want) {
		t.Errorf("listeners\n%+v\nwant\n%+v", r.Listeners, want)
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32")}
	if !reflect.DeepEqual(r.ProxyTrusted, trusted) || !reflect.DeepEqual(d.ProxyTrusted, trusted) {
		t.Errorf("trusted %v / %v, want %v", r.ProxyTrusted, d.ProxyTrusted, trusted)
	}
	if r.ProxyHeaderTimeout != 3*time.Second || d.ProxyTimeout != 3*time.Second {
		t.Errorf("header timeout %v / %v, want 3s", r.ProxyHeaderTimeout, d.ProxyTimeout)
	}
	hosts := []reactor.PassiveHost{{
		Networks: []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fd00::/8")},
		Host:     netip.MustParseAddr("192.168.1.1"),
	}}
	if !reflect.DeepEqual(r.PassiveHosts, hosts) {
		t.Errorf("passive hosts %+v, want %+v", r.PassiveHosts, hosts)
	}

	// -listen repeats, and replaces the file's list.
	s, err = parseArgs([]string{"-config", cfg, "-listen", "127.0.0.1:0", "-listen", "127.0.0.5:0"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _, err = s.configs(); err != nil {
		t.Fatal(err)
	}
	if got := []string{r.Listeners[0].Address, r.Listeners[1].Address, r.Listeners[2].Address}; !reflect.DeepEqual(got, []string{"127.0.0.1:0", "127.0.0.5:0", "127.0.0.2:2122"}) {
		t.Errorf("with -listen twice: %v", got)
	}
}

// TestPasswd: the printed hash verifies against the password read from stdin.
func TestPasswd(t *testing.T) {
	code, out, stderr := runCLI(t, "s3cret pass\n", "passwd")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	hash := strings.TrimSpace(out)
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret pass")); err != nil {
		t.Fatalf("hash %q does not verify: %v", hash, err)
	}
	if code, _, _ := runCLI(t, "\n", "passwd"); code != 1 {
		t.Errorf("empty password: exit %d, want 1", code)
	}
	if code, _, _ := runCLI(t, "x\n", "passwd", "extra"); code != 2 {
		t.Errorf("passwd with an argument: exit %d, want 2", code)
	}
}

// TestPassiveShares: the passive range's size is what the fair shares of
// passive listeners divide; passive_per_ip is an absolute cap, off unless
// configured.
func TestPassiveShares(t *testing.T) {
	for _, tt := range []struct {
		args          []string
		capacity, cap int
	}{
		{nil, 0, 0},
		{[]string{"-passive-ports", "50000-50099"}, 100, 0},
		{[]string{"-passive-ports", "50000-50001"}, 2, 0},
		{[]string{"-passive-ports", "50000-50099", "-config", writeFile(t, "c.toml", "[limits]\npassive_per_ip = 7\n")}, 100, 7},
	} {
		s, err := parseArgs(tt.args, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		r, _, _, err := s.configs()
		if err != nil {
			t.Fatal(err)
		}
		if r.PassiveCapacity != tt.capacity || r.PassivePerIP != tt.cap {
			t.Errorf("%v: passive capacity %d, per IP %d; want %d, %d", tt.args, r.PassiveCapacity, r.PassivePerIP, tt.capacity, tt.cap)
		}
	}
}

// TestDemoKeyNotServed: `make run` serves its demo tree anonymously; its
// TLS key must lie outside that tree (it was downloadable).
func TestDemoKeyNotServed(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var served, key string
	for _, line := range strings.Split(string(mk), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "./$(BIN)" {
			continue
		}
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "-anonymous":
				served = f[i+1]
			case "-tls-key":
				key = f[i+1]
			}
		}
	}
	if served == "" || key == "" {
		t.Fatalf("no `./$(BIN) ... -anonymous DIR ... -tls-key FILE` line in the Makefile")
	}
	if rel, err := filepath.Rel(served, key); err == nil && !strings.HasPrefix(rel, "..") {
		t.Errorf("make run serves %s, which holds its TLS key %s", served, key)
	}
}
