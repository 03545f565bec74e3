// End to end: RunSuite pins a single-stream step's server and load generator, and only that step, and gives both their CPUs back.
package bench_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rftpd/rftpd/bench"
	"golang.org/x/sys/unix"
)

// cpusOf reads the CPUs every thread of pid may run on, as a set of
// distinct lists.
func cpusOf(pid int) [][]int {
	ents, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	var out [][]int
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var set unix.CPUSet
		if unix.SchedGetaffinity(tid, &set) != nil {
			continue
		}
		var l []int
		for cpu := 0; len(l) < set.Count(); cpu++ {
			if set.IsSet(cpu) {
				l = append(l, cpu)
			}
		}
		if !slices.ContainsFunc(out, func(x []int) bool { return slices.Equal(x, l) }) {
			out = append(out, l)
		}
	}
	return out
}

// pinnedConfig starts rftpd and returns the CPUs this process may use
// and a suite config for it placed as placement says; it skips the test
// where that placement cannot be had (split on one CPU).
func pinnedConfig(t *testing.T, placement bench.Placement) ([]int, bench.Config) {
	t.Helper()
	cpus, err := bench.AllowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := bench.PlanFor(placement, cpus)
	if errors.Is(err, bench.ErrOneCPU) {
		t.Skipf("this test may run on one CPU only (%v)", cpus)
	}
	if err != nil {
		t.Fatal(err)
	}
	s, _ := startRftpd(t)
	read, err := bench.ParseTarget(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return cpus, bench.Config{
		Target: read, Label: "rftpd", Timeout: 20 * time.Second, Splice: true, Sources: 2,
		Layout: testDataset.Layout(), PID: s.PID, Pin: plan,
	}
}

func TestRunSuitePinsSingleStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cpus, cfg := pinnedConfig(t, bench.PinSplit)
	// What the progress line sees, once a second, per step.
	var mu sync.Mutex
	seen := map[string][2][][]int{}
	cfg.Progress = func(p bench.Progress) {
		if p.Phase != "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		seen[p.Scenario] = [2][][]int{cpusOf(cfg.PID), cpusOf(os.Getpid())}
	}
	steps := []bench.Step{
		{Label: "large-get 1", Scenario: "large-get", Concurrency: 1, Duration: 2500 * time.Millisecond, Pin: true},
		{Label: "small-get", Scenario: "small-get", Concurrency: 2, Duration: 1500 * time.Millisecond},
	}
	rs, err := bench.RunSuite(context.Background(), steps, cfg)
	if err != nil || len(rs) != 2 {
		t.Fatalf("%d results, %v", len(rs), err)
	}
	if want := "split: server on CPU " + strconv.Itoa(cpus[0]) + ", client on CPU " + strconv.Itoa(cpus[1]); rs[0].Placement != want || rs[1].Placement != "" {
		t.Errorf("placements %q and %q, want %q and none", rs[0].Placement, rs[1].Placement, want)
	}
	if !slices.Contains(rs[0].Notes, "placement "+rs[0].Placement) {
		t.Errorf("large-get's notes %q lack the placement", rs[0].Notes)
	}
	if rs[0].SharedCPU != 0 || rs[1].SharedCPU != 0 {
		t.Errorf("a shared CPU's busy time (%v, %v) where server and client had CPUs of their own or none", rs[0].SharedCPU, rs[1].SharedCPU)
	}
	mu.Lock()
	defer mu.Unlock()
	got := seen["large-get"]
	if want := [2][][]int{{{cpus[0]}}, {{cpus[1]}}}; !slices.EqualFunc(got[0], want[0], slices.Equal) || !slices.EqualFunc(got[1], want[1], slices.Equal) {
		t.Errorf("during large-get the server's threads could run on %v and ftpbench's on %v; want %v and %v", got[0], got[1], want[0], want[1])
	}
	got = seen["small-get"]
	if all := [][]int{cpus}; !slices.EqualFunc(got[0], all, slices.Equal) || !slices.EqualFunc(got[1], all, slices.Equal) {
		t.Errorf("during small-get the server's threads could run on %v and ftpbench's on %v; want %v for both", got[0], got[1], cpus)
	}
}

// With server and client on one CPU, a pinned step also reads that CPU's
// busy time: at least the server's share of it (less /proc/stat's
// sampling error), and no more than one CPU can be busy in the time.
func TestRunSuiteSharedCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	_, cfg := pinnedConfig(t, bench.PinSame)
	steps := []bench.Step{{Label: "large-get 1", Scenario: "large-get", Concurrency: 1, Duration: 2 * time.Second, Pin: true}}
	rs, err := bench.RunSuite(context.Background(), steps, cfg)
	if err != nil || len(rs) != 1 {
		t.Fatalf("%d results, %v", len(rs), err)
	}
	r := rs[0]
	t.Logf("shared CPU %.3fs, server CPU %.3fs, in %.3fs", r.SharedCPU, r.ServerCPU, r.Seconds)
	if r.ServerCPU <= 0 || r.SharedCPU < r.ServerCPU/2 || r.SharedCPU > r.Seconds+0.1 {
		t.Errorf("shared CPU %.3fs, server CPU %.3fs, in %.3fs", r.SharedCPU, r.ServerCPU, r.Seconds)
	}
}
