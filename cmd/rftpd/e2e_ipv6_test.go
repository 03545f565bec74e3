// End-to-end test over IPv6 loopback: EPSV and EPRT |2| with curl, and refusals of the IPv4 forms.
package main

import (
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIPv6 serves on [::1] and downloads with curl in EPSV and EPRT modes.
func TestIPv6(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		ln.Close()
	}
	s := startStd(t, "-listen", "[::1]:0")
	if host, _, _ := net.SplitHostPort(s.addr); host != "::1" {
		t.Fatalf("server address %q, want [::1]", s.addr)
	}
	for _, mode := range []struct {
		name string
		args []string
		want string
	}{
		{"EPSV", nil, "EPSV"},
		{"EPRT", []string{"-P", "::1"}, "EPRT"}, // |2|: the control connection is IPv6
	} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "big")
			u := "ftp://[::1]:" + s.port + "/" + fBig
			r := mustCurl(t, dir, append(slices.Clone(mode.args), "-g", "-o", out, u)...)
			if !slices.ContainsFunc(sentCommands(r.stderr), func(c string) bool { return strings.HasPrefix(c, mode.want) }) {
				t.Errorf("curl did not send %s: %q", mode.want, sentCommands(r.stderr))
			}
			checkFile(t, out, fixtureFiles[fBig])
		})
	}

	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("PASV", 425)
	c.cmd("EPSV 1", 522)
	c.cmd("EPRT |1|127.0.0.1|5000|", 501)
	c.cmd("EPRT |2|::2|5000|", 501)
	c.cmd("EPSV 2", 229)
}
