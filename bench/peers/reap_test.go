// Tests of the subreaper: orphans are reaped by it, exit statuses and signals pass through.
package peers

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestMain lets a test run this binary as `reap PROGRAM ...`.
func TestMain(m *testing.M) {
	if os.Getenv("PEERS_TEST_REAP") == "1" {
		os.Exit(Reap(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

// reaper is the command that runs args under Reap.
func reaper(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PEERS_TEST_REAP=1")
	return cmd
}

func TestReapKeepsOrphans(t *testing.T) {
	// The shell leaves a second shell behind and exits: that orphan is
	// handed to the reaper, which waits for it before exiting.
	out := filepath.Join(t.TempDir(), "parent")
	script := `sh -c 'sleep 0.3; cut -d" " -f4 /proc/$$/stat > ` + out + `' & exit 3`
	cmd := reaper("sh", "-c", script)
	err := cmd.Run()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 3 {
		t.Fatalf("exit: %v, want status 3", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("the reaper exited before the orphan had finished: %v", err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("the orphan's parent was %s, not the reaper (%d)", got, cmd.Process.Pid)
	}
}

func TestReapPassesSignals(t *testing.T) {
	cmd := reaper("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Once sleep runs below the reaper, SIGTERM to the reaper ends it.
	deadline := time.Now().Add(20 * time.Second)
	for len(childrenOf(cmd.Process.Pid)) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the reaper did not exit after SIGTERM")
	}
	if got := cmd.ProcessState.ExitCode(); got != 128+int(unix.SIGTERM) {
		t.Errorf("exit status %d, want %d", got, 128+int(unix.SIGTERM))
	}
}

func TestReapUsage(t *testing.T) {
	var b strings.Builder
	if code := Reap(nil, &b); code != 2 || !strings.Contains(b.String(), "usage: ftpbench reap") {
		t.Errorf("no program: %d %q", code, b.String())
	}
}

func TestStatParent(t *testing.T) {
	for stat, want := range map[string]int{
		"123 (vsftpd) S 45 123 123 0 -1": 45,
		"7 (a b) (c)) R 1 7 7 0 -1":      1,
		"garbage":                        0,
	} {
		if got, ok := statParent(stat); got != want || ok != (want != 0) {
			t.Errorf("%q: %d %v", stat, got, ok)
		}
	}
}

// Options.Reaper puts `REAPER reap` before a peer's command line.
func TestCommandUnderReaper(t *testing.T) {
	for _, c := range []struct {
		reaper string
		want   []string
	}{
		{"", []string{"/peers/vsftpd", "/work/vsftpd.conf"}},
		{"/opt/ftpbench", []string{"/opt/ftpbench", "reap", "/peers/vsftpd", "/work/vsftpd.conf"}},
	} {
		cmd := Options{Reaper: c.reaper}.command("/peers/vsftpd", "/work/vsftpd.conf")
		if !slices.Equal(cmd.Args, c.want) || cmd.Path != c.want[0] {
			t.Errorf("reaper %q: %q (%s), want %q", c.reaper, cmd.Args, cmd.Path, c.want)
		}
	}
}
