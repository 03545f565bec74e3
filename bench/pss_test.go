// Tests of PSS parsing and the process-tree walk over a fake /proc.
package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const rollup = `561940c10000-7ffd15aba000 ---p 00000000 00:00 0                          [rollup]
Rss:                1620 kB
Pss:                 417 kB
Pss_Dirty:           116 kB
Pss_Anon:            116 kB
Pss_File:            301 kB
Pss_Shmem:             0 kB
Shared_Clean:       1436 kB
Private_Dirty:       116 kB
SwapPss:               0 kB
`

func TestParseSmapsRollup(t *testing.T) {
	cases := []struct {
		name, in string
		want     int64
		ok       bool
	}{
		{"rollup", rollup, 417 * 1024, true},
		{"smaps sums mappings", "Pss: 4 kB\nPss_Anon: 4 kB\nPss: 8 kB\n", 12 * 1024, true},
		{"zero", "Pss: 0 kB\n", 0, true},
		{"no Pss", "Rss: 10 kB\n", 0, false},
		{"bad unit", "Pss: 10 MB\n", 0, false},
		{"bad number", "Pss: ten kB\n", 0, false},
		{"negative", "Pss: -1 kB\n", 0, false},
		{"empty", "", 0, false},
	}
	for _, c := range cases {
		got, err := ParseSmapsRollup(strings.NewReader(c.in))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%s: got %d, %v; want %d, ok=%v", c.name, got, err, c.want, c.ok)
		}
	}
}

func TestParseSmapsMemory(t *testing.T) {
	m, err := ParseSmapsMemory(strings.NewReader(rollup))
	if err != nil || m != (Memory{RSS: 1620 * 1024, PSS: 417 * 1024, Procs: 1}) {
		t.Errorf("rollup: %+v, %v", m, err)
	}
	m, err = ParseSmapsMemory(strings.NewReader("Rss: 8 kB\nPss: 4 kB\nRss: 16 kB\nPss: 2 kB\n"))
	if err != nil || m.RSS != 24*1024 || m.PSS != 6*1024 {
		t.Errorf("smaps: %+v, %v", m, err)
	}
	if _, err := ParseSmapsMemory(strings.NewReader("Rss: 8 MB\nPss: 4 kB\n")); err == nil {
		t.Error("a malformed Rss line was accepted")
	}
}

func TestParseStatPPID(t *testing.T) {
	cases := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1234 (vsftpd) S 1 1234 1234 0 -1", 1, true},
		{"99 (a (weird) name) R 42 99 99", 42, true},
		{"99 (x) S", 0, false},
		{"no parens", 0, false},
	}
	for _, c := range cases {
		got, err := parseStatPPID(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%q: got %d, %v; want %d, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

// fakeProc writes a /proc-like tree: procs maps pid → (ppid, Pss kB, with
// an Rss of twice that); a negative Pss leaves smaps_rollup out (a process
// without access).
func fakeProc(t *testing.T, procs map[int][2]int) string {
	t.Helper()
	root := t.TempDir()
	for pid, v := range procs {
		d := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := strconv.Itoa(pid) + " (srv x) S " + strconv.Itoa(v[0]) + " 1 1 0 -1 0 0 0 0 0 1 1 1 1\n" // 4 ticks of CPU
		os.WriteFile(filepath.Join(d, "stat"), []byte(stat), 0o644)
		if v[1] >= 0 {
			os.WriteFile(filepath.Join(d, "smaps_rollup"), []byte("Rss: "+strconv.Itoa(2*v[1])+" kB\nPss: "+strconv.Itoa(v[1])+" kB\n"), 0o644)
		}
	}
	os.MkdirAll(filepath.Join(root, "self"), 0o755) // not a pid: ignored
	return root
}

func TestPSSSumsDescendants(t *testing.T) {
	root := fakeProc(t, map[int][2]int{
		1:   {0, 1000},
		100: {1, 500}, // the server
		101: {100, 10},
		102: {100, 20},
		103: {102, 30}, // grandchild
		104: {102, -1}, // unreadable: skipped
		200: {1, 9999}, // unrelated
	})
	pids, err := Descendants(root, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != 5 || pids[0] != 100 {
		t.Errorf("Descendants = %v, want 100 and its 4 descendants", pids)
	}
	got, n, err := PSS(root, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(500+10+20+30) * 1024; got != want || n != 4 {
		t.Errorf("PSS = %d over %d processes, want %d over 4", got, n, want)
	}
	if m, err := ProcessMemory(root, 100); err != nil || m.RSS != 2*got || m.PSS != got || m.Procs != 4 {
		t.Errorf("ProcessMemory = %+v, %v; want RSS %d, PSS %d over 4", m, err, 2*got, got)
	}
	if cpu, err := CPUTime(root, 100); err != nil || cpu != 5*4*time.Second/100 {
		t.Errorf("CPUTime = %v, %v; want 5 processes × 4 ticks", cpu, err)
	}
	if _, _, err := PSS(root, 300); err == nil {
		t.Error("PSS of a missing process succeeded")
	}
	if _, _, err := PSS(root, 104); err == nil {
		t.Error("PSS of an unreadable root process succeeded")
	}
}

func TestPSSOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		t.Skip("no /proc/self/smaps_rollup on this system")
	}
	got, n, err := PSS("/proc", os.Getpid())
	if err != nil || n < 1 || got < 1<<20 {
		t.Errorf("PSS(self) = %d over %d processes, %v; want at least 1 MiB", got, n, err)
	}
}

func TestParseLimits(t *testing.T) {
	const limits = "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max processes             95000                95000                processes \n" +
		"Max open files            20000                20000                files     \n"
	if got, err := parseLimitsNOFILE(limits); err != nil || got != 20000 {
		t.Errorf("got %d, %v", got, err)
	}
	if got, err := parseLimitsNOFILE("Max open files            unlimited            unlimited            files\n"); err != nil || got != -1 {
		t.Errorf("unlimited: got %d, %v", got, err)
	}
	if _, err := parseLimitsNOFILE("nothing\n"); err == nil {
		t.Error("no line: no error")
	}
	if got, err := ProcessFileLimit("/proc", os.Getpid()); err != nil || got == 0 {
		t.Errorf("ProcessFileLimit(self) = %d, %v", got, err)
	}
}

func TestParseStatCPU(t *testing.T) {
	// Fields 14-17 (utime stime cutime cstime) are 7, 3, 20 and 10.
	const stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 20 10 20 0 1 0 99 1000 50"
	if got, err := parseStatCPU(stat); err != nil || got != 40 {
		t.Errorf("parseStatCPU = %d, %v; want 40", got, err)
	}
	for _, bad := range []string{"no parens", "1 (x) S 1 1 1", "1 (x) S 1 2 3 4 5 6 7 8 9 10 -1 2 3 4 5"} {
		if _, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q) succeeded", bad)
		}
	}
}

func TestCPUTimeOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc/self/stat on this system")
	}
	before, err := CPUTime("/proc", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the kernel's count moves: at least two ticks.
	x := 0
	for start := time.Now(); time.Since(start) < 5*time.Second; {
		for i := range 1 << 20 {
			x ^= i
		}
		now, err := CPUTime("/proc", os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now-before >= 20*time.Millisecond {
			return
		}
	}
	t.Errorf("CPUTime did not grow in 5 s of work (%d)", x)
}
