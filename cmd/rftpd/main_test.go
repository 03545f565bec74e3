package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
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
	if r.Listen != "127.0.0.1:0" {
		t.Errorf("listen %q: the flag must override the file", r.Listen)
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
