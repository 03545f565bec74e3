// End-to-end test of the shipped fail2ban filter, run by fail2ban-regex on a log rftpd wrote.
package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// failLogin logs in from the loopback address from with a password that is
// wrong, and waits for the refusal.
func failLogin(t *testing.T, addr, from, user string) {
	t.Helper()
	c, greet := dialFrom(t, addr, from)
	if greet.code != 220 {
		t.Fatalf("greeting %q", greet)
	}
	c.cmd("USER "+user, 331)
	c.cmd("PASS wrong-password", 530)
	c.cmd("QUIT", 221)
}

// The filter finds each refused password guess in the log rftpd writes,
// text or JSON, with the guesser's address, and nothing else: accepted
// logins and other lines do not match.
func TestFail2banFilter(t *testing.T) {
	f2b := needTool(t, "fail2ban-regex", "fail2ban")
	filter, err := filepath.Abs("deploy/fail2ban-filter-rftpd.conf")
	if err != nil {
		t.Fatal(err)
	}
	curl := needTool(t, "curl", "curl")
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			logFile := filepath.Join(t.TempDir(), "rftpd.log")
			s := startStd(t, "-log-file", logFile, "-log-format", format)
			mustRun(t, t.TempDir(), curl, "-sS", "-o", "/dev/null", s.url("writer:"+writerPass, "/"))
			failLogin(t, s.addr, "127.0.0.21", "writer")
			failLogin(t, s.addr, "127.0.0.22", "no-such-user")
			failLogin(t, s.addr, "127.0.0.21", `a user " client=192.0.2.1`)
			mustRun(t, t.TempDir(), curl, "-sS", "-o", "/dev/null", s.url("", "/"))
			// every line is written before the process exits
			if err := s.proc.stop(); err != nil {
				t.Fatal(err)
			}
			out := mustRun(t, t.TempDir(), f2b, "-v", logFile, filter).stdout
			m := regexp.MustCompile(`Lines: (\d+) lines, 0 ignored, (\d+) matched, (\d+) missed`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no summary in fail2ban-regex's output:\n%s", out)
			}
			if m[2] != "3" {
				t.Errorf("%s of %s lines matched, want the 3 refused logins:\n%s", m[2], m[1], out)
			}
			if n, _ := strconv.Atoi(m[1]); n < 6 {
				t.Errorf("only %d lines in the log, want the logins and transfers too", n)
			}
			var hosts []string
			for _, h := range regexp.MustCompile(`(?m)^\|\s+(127\.0\.0\.\d+|192\.0\.2\.\d+)\s+`).FindAllStringSubmatch(out, -1) {
				hosts = append(hosts, h[1])
			}
			slices.Sort(hosts)
			if want := []string{"127.0.0.21", "127.0.0.21", "127.0.0.22"}; !slices.Equal(hosts, want) {
				t.Errorf("matched hosts %v, want %v:\n%s", hosts, want, out)
			}
			if strings.Contains(out, "192.0.2.1 ") {
				t.Errorf("a user name posed as an address:\n%s", out)
			}
		})
	}
}
