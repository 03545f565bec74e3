package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseCPUStat(t *testing.T) {
	d, err := parseCPUStat("usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n")
	if err != nil || d != 1234567*time.Microsecond {
		t.Fatalf("parseCPUStat = %v, %v; want 1.234567s", d, err)
	}
	for _, bad := range []string{"", "user_usec 5\n", "usage_usec x\n", "usage_usec -1\n"} {
		if _, err := parseCPUStat(bad); err == nil {
			t.Errorf("parseCPUStat(%q): no error", bad)
		}
	}
}

// TestTrackCPUCountsOrphans tracks a shell that starts a CPU-bound
// process in the background and exits before it: /proc can no longer say
// what either used, and the group must count both.
func TestTrackCPUCountsOrphans(t *testing.T) {
	t.Run("default", func(t *testing.T) { testTrackCPU(t, false) })
	t.Run("cgroup2", func(t *testing.T) { testTrackCPU(t, true) })
}

func testTrackCPU(t *testing.T, v2 bool) {
	v1dir, _, v2dir, err := cgroupMounts()
	if err != nil {
		t.Fatal(err)
	}
	if v2 && v2dir == "" {
		t.Skip("cgroup2 is not mounted")
	}
	preferCgroup2 = v2
	defer func() { preferCgroup2 = false }()
	// The orphan writes its own CPU time (the times builtin) once done.
	report := filepath.Join(t.TempDir(), "times")
	cmd := exec.Command("sh", "-c", `read go
busy() { i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done; }
(busy; busy; busy; times >"$0.tmp"; mv "$0.tmp" "$0") &
busy`, report)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	untrack, err := TrackCPU("/proc", cmd.Process.Pid)
	if err != nil {
		t.Skipf("no control group can be made here: %v", err)
	}
	pid := cmd.Process.Pid
	want := "cgroup v1 cpuacct"
	if v2 || v1dir == "" {
		want = "cgroup v2"
	}
	if kind, ok := TrackedCPU(pid); !ok || kind != want {
		t.Fatalf("TrackedCPU(%d) = %q, %v; want %q", pid, kind, ok, want)
	}
	g, _ := tracked.Load(pid)
	dir := g.(*cpuGroup).dir
	sched, why, _ := TrackedSched(pid)
	var schedDir string
	_, cpuMount, _, _ := cgroupMounts()
	switch {
	case sched == "cgroup v1 cpu":
		schedDir = g.(*cpuGroup).cpu.dir
		got, err := cgroupOf(pid, "cpu")
		if err != nil || filepath.Join(cpuMount, got) != schedDir {
			t.Fatalf("scheduled in %q (%v); want the group %s", got, err, schedDir)
		}
	case sched == "cgroup v2 cpu":
		if !g.(*cpuGroup).v2 {
			t.Fatalf("TrackedSched = %q for a cpuacct group", sched)
		}
	case cpuMount != "":
		t.Fatalf("a cpu hierarchy is mounted at %s, yet TrackedSched = %q: %v", cpuMount, sched, why)
	case why == nil:
		t.Fatal("TrackedSched says neither how the server is scheduled nor why not")
	}
	start := time.Now()
	in.Write([]byte("go\n"))
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	shell := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	// Wait until the orphan is done and gone.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(b)) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left in %s: %s", dir, b)
		}
	}
	wall := time.Since(start)
	used, err := CPUTime("/proc", pid)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	orphan, err := parseTimes(string(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("group %v, the shell %v, its orphan %v, wall %v", used, shell, orphan, wall)
	// The group holds both, less what times(2)'s ticks may truncate. Two
	// processes ran at a time, so at most twice the wall time (and a tick
	// of slack).
	if orphan < 50*time.Millisecond {
		t.Fatalf("the orphan used %v: too little to tell whether it is counted", orphan)
	}
	if used < shell+orphan-20*time.Millisecond {
		t.Errorf("group counted %v; the shell used %v and its orphan %v", used, shell, orphan)
	}
	if used > 2*wall+10*time.Millisecond {
		t.Errorf("group counted %v in %v of wall time, by two processes", used, wall)
	}
	if err := untrack(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, schedDir} {
		if _, err := os.Stat(d); d != "" && !os.IsNotExist(err) {
			t.Errorf("group %s not removed: %v", d, err)
		}
	}
	if _, ok := TrackedCPU(pid); ok {
		t.Error("still tracked after untrack")
	}
}

// TestTrackCPUSchedulesAsOne runs a tracked server that, like vsftpd,
// starts a session per transfer (setsid) for two busy transfers, beside an
// untracked busy process in a session of its own, all on one CPU for
// 1.5 s. Weighed as one, the server's tree gets the CPU's time half and
// half with the other process; weighed per process, or per session under
// autogroup, it would get two thirds, twice the other's.
func TestTrackCPUSchedulesAsOne(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make control groups")
	}
	for _, tool := range []string{"setsid", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s: %v", tool, err)
		}
	}
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	const busy = `timeout 1.5 sh -c 'while :; do :; done'`
	server := exec.Command("sh", "-c", `read go
setsid -w `+busy+` &
setsid -w `+busy+` &
wait`)
	in, err := server.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := StartPinned(server, cpus[0]); err != nil {
		t.Fatal(err)
	}
	defer server.Process.Kill()
	untrack, err := TrackCPU("/proc", server.Process.Pid)
	if err != nil {
		t.Skipf("no control group can be made here: %v", err)
	}
	defer untrack()
	if sched, why, _ := TrackedSched(server.Process.Pid); sched == "" {
		t.Skipf("no cpu control group here: %v", why)
	}
	before, err := CPUTime("/proc", server.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	other := exec.Command("sh", "-c", busy)
	other.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := StartPinned(other, cpus[0]); err != nil {
		t.Fatal(err)
	}
	in.Write([]byte("go\n"))
	if err := server.Wait(); err != nil {
		t.Fatal(err)
	}
	other.Wait() // timeout ends its loop with SIGTERM
	after, err := CPUTime("/proc", server.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	tree := after - before
	rival := other.ProcessState.UserTime() + other.ProcessState.SystemTime()
	t.Logf("on CPU %d: the server's two sessions %v, the other process %v", cpus[0], tree, rival)
	if rival < 100*time.Millisecond {
		t.Fatalf("the other process ran %v: too little to compare", rival)
	}
	// Half and half is ×1; two thirds against one third, ×2.
	if r := float64(tree) / float64(rival); r > 1.5 {
		t.Errorf("the server's tree got ×%.2f the other process's CPU time; weighed as one it gets about ×1, per session ×2", r)
	}
}

// parseTimes reads the first line of the shell's times builtin, the
// shell's own user and system time ("0m0.150000s 0m0.010000s"), and
// returns their sum.
func parseTimes(s string) (time.Duration, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) != 2 {
		return 0, fmt.Errorf("times printed %q", s)
	}
	var sum time.Duration
	for _, v := range f {
		d, err := time.ParseDuration(v) // "0m0.150000s"
		if err != nil {
			return 0, fmt.Errorf("times printed %q: %v", s, err)
		}
		sum += d
	}
	return sum, nil
}
