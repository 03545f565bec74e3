// Tests of CPU pinning on Linux: a thread, a started command, a process tree and this process.
package bench

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

// twoCPUs returns the CPUs this test may run on, or skips it when there
// is one: pinning then changes nothing to see.
func twoCPUs(t *testing.T) []int {
	t.Helper()
	cpus, err := AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) < 2 {
		t.Skipf("this test may run on one CPU only (%v)", cpus)
	}
	return cpus
}

// affinity reads the CPUs thread or process tid may run on.
func affinity(t *testing.T, tid int) []int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		t.Fatalf("sched_getaffinity %d: %v", tid, err)
	}
	return cpuList(&set)
}

func TestPinThread(t *testing.T) {
	cpus := twoCPUs(t)
	undo, err := PinThread(cpus[0])
	if err != nil {
		t.Fatal(err)
	}
	got := affinity(t, 0)
	tid := unix.Gettid()
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, cpus[:1]) {
		t.Errorf("pinned thread %d may run on %v, want %v", tid, got, cpus[:1])
	}
	if back := affinity(t, tid); !slices.Equal(back, cpus) {
		t.Errorf("after undo thread %d may run on %v, want %v", tid, back, cpus)
	}
}

func TestStartPinned(t *testing.T) {
	cpus := twoCPUs(t)
	last := cpus[len(cpus)-1]
	cmd := exec.Command("cat", "/proc/self/status")
	var out strings.Builder
	cmd.Stdout = &out
	if err := StartPinned(cmd, last); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	var list string
	for line := range strings.SplitSeq(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			list = strings.TrimSpace(v)
		}
	}
	if list != strconv.Itoa(last) {
		t.Errorf("the command could run on %q, want %d", list, last)
	}
	if got := affinity(t, 0); !slices.Equal(got, cpus) {
		t.Errorf("the test's thread was left on %v", got)
	}
}

// waitTree waits until pid has n processes in its tree, and returns them.
func waitTree(t *testing.T, pid, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps, err := Descendants("/proc", pid)
		if err == nil && len(ps) >= n {
			return ps
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d has %v below it, want %d processes", pid, ps, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// threads lists the threads of pid.
func threads(t *testing.T, pid int) []int {
	ents, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, tid)
		}
	}
	return out
}

func TestPinTree(t *testing.T) {
	cpus := twoCPUs(t)
	last := cpus[len(cpus)-1]
	// A shell with two children, the second started after the pinning.
	cmd := exec.Command("sh", "-c", "sleep 30 & read x; sleep 30 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}()
	waitTree(t, cmd.Process.Pid, 2)
	undo, err := PinTree("/proc", cmd.Process.Pid, last)
	if err != nil {
		t.Fatal(err)
	}
	in.Write([]byte("go\n"))
	for _, p := range waitTree(t, cmd.Process.Pid, 3) {
		if got := affinity(t, p); !slices.Equal(got, []int{last}) {
			t.Errorf("pinned: process %d may run on %v, want [%d]", p, got, last)
		}
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	for _, p := range waitTree(t, cmd.Process.Pid, 3) {
		if got := affinity(t, p); !slices.Equal(got, cpus) {
			t.Errorf("restored: process %d may run on %v, want %v", p, got, cpus)
		}
	}
}

func TestPinSelf(t *testing.T) {
	cpus := twoCPUs(t)
	undo, err := PinSelf("/proc", cpus[0])
	if err != nil {
		t.Fatal(err)
	}
	var pinned []int
	for _, tid := range threads(t, os.Getpid()) {
		if got := affinity(t, tid); !slices.Equal(got, cpus[:1]) {
			pinned = append(pinned, tid)
		}
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	if len(pinned) > 0 {
		t.Errorf("threads %v were not pinned to CPU %d", pinned, cpus[0])
	}
	for _, tid := range threads(t, os.Getpid()) {
		if got := affinity(t, tid); !slices.Equal(got, cpus) {
			t.Errorf("restored: thread %d may run on %v, want %v", tid, got, cpus)
		}
	}
}
