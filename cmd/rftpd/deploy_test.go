// Tests of deploy/: the systemd unit says what the README promises, and systemd-analyze finds nothing wrong in it.
package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// unitSettings returns the unit's Key=value lines (comments skipped).
func unitSettings(unit string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(unit, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// verifyUnit runs systemd-analyze verify on unit, saved as rftpd.service
// with its /usr/local/bin/rftpd replaced by the test's binary (verify
// checks that the executable exists), and returns what it said about the
// unit, one entry per line, and its exit status.
func verifyUnit(t *testing.T, analyze, unit string) ([]string, int) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rftpd.service")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(unit, "/usr/local/bin/rftpd", rftpdBin)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, analyze, "verify", p).CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("systemd-analyze verify: %v", err)
		}
		code = ee.ExitCode()
	}
	// Other units of the system may draw remarks too: only this one's count.
	var about []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "rftpd.service") || strings.Contains(line, p) {
			about = append(about, line)
		}
	}
	return about, code
}

func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("deploy/rftpd.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	got := unitSettings(unit)
	for k, want := range map[string]string{
		"Type":                    "simple",
		"ExecStart":               "/usr/local/bin/rftpd -config /etc/rftpd/rftpd.toml",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"User":                    "rftpd",
		"Group":                   "rftpd",
		"AmbientCapabilities":     "CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet":   "CAP_NET_BIND_SERVICE",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"LogsDirectory":           "rftpd",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"LimitNOFILE":             "65536",
		"Restart":                 "on-failure",
		"KillSignal":              "SIGTERM",
	} {
		if got[k] != want {
			t.Errorf("%s=%q, want %q", k, got[k], want)
		}
	}
	if got["ReadWritePaths"] == "" {
		t.Error("no ReadWritePaths= for the writable roots")
	}
	// systemd kills what is left after TimeoutStopSec: it must outlast the
	// default shutdown grace.
	stop, err := time.ParseDuration(got["TimeoutStopSec"])
	if grace := defaults().Timeouts.Shutdown; err != nil || stop <= grace {
		t.Errorf("TimeoutStopSec=%q (%v), want more than timeouts.shutdown's default %v", got["TimeoutStopSec"], err, grace)
	}

	analyze := needTool(t, "systemd-analyze", "systemd")
	if about, code := verifyUnit(t, analyze, unit); code != 0 || len(about) > 0 {
		t.Errorf("systemd-analyze verify: status %d:\n%s", code, strings.Join(about, "\n"))
	}
	// The check sees mistakes: a misspelt value and an unknown key.
	bad := strings.Replace(unit, "Type=simple", "Type=simpel", 1) + "Bogus=1\n"
	if about, _ := verifyUnit(t, analyze, bad); len(about) < 2 {
		t.Errorf("systemd-analyze verify missed a misspelt type and an unknown key: %q", about)
	}
}
