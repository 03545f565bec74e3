// End-to-end test that an idle server sleeps: no periodic wakeups while its sessions wait.
package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// contextSwitches sums the context switches of every thread of process pid.
func contextSwitches(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/status")
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	n := 0
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread has exited
		}
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				c, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					t.Fatalf("%s: %q", f, line)
				}
				n += c
			}
		}
	}
	return n
}

// TestIdleServerSleeps: with sessions logged in and waiting for their
// idle timeout, the process is not woken up: neither a sweep of the
// sessions every timer tick nor a library's clock.
func TestIdleServerSleeps(t *testing.T) {
	p := startProc(t, "-anonymous", fixtureTree(t))
	for range 50 {
		c := dial(t, p.addr)
		c.login("anonymous", "guest@")
		c.cmd("PWD", 257)
	}
	time.Sleep(time.Second) // what the logins set going settles
	pid := p.cmd.Process.Pid
	before := contextSwitches(t, pid)
	const quiet = 3 * time.Second
	time.Sleep(quiet)
	// A timer that fires every 250 ms costs some 30 switches in that time:
	// the timer's thread, the loop's and the runtime's monitor each wake.
	if n := contextSwitches(t, pid) - before; n > 20 {
		t.Fatalf("%d context switches in %v with every session idle", n, quiet)
	}
}
