// Tests of the CPU busy time read from /proc/stat.
package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// statText is a /proc/stat of two CPUs; cpu1 has steal, guest and
// iowait time that are not counted as busy.
const statText = `cpu  563299 0 860174 890166 17554 0 191100 7 0 0
cpu0 301351 0 509990 294738 10928 0 144009 0 0 0
cpu1 261948 12 350183 595428 6626 5 47091 7 3 0
intr 1 2 3
ctxt 42
`

func TestCPUBusy(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "stat"), []byte(statText), 0o644); err != nil {
		t.Fatal(err)
	}
	for cpu, ticks := range map[int]int64{
		0: 301351 + 509990 + 144009,
		1: 261948 + 12 + 350183 + 5 + 47091,
	} {
		got, err := CPUBusy(root, cpu)
		if want := time.Duration(ticks) * 10 * time.Millisecond; err != nil || got != want {
			t.Errorf("CPU %d: %v, %v; want %v", cpu, got, err, want)
		}
	}
	// "cpu1" must not be read as "cpu10", nor "cpu" as any CPU.
	if _, err := CPUBusy(root, 10); err == nil || !strings.Contains(err.Error(), "no cpu10 line") {
		t.Errorf("CPU 10: %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "stat"), []byte("cpu0 1 2 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CPUBusy(root, 0); err == nil || !strings.Contains(err.Error(), "4 fields") {
		t.Errorf("a short line: %v", err)
	}
	if _, err := CPUBusy(filepath.Join(root, "none"), 0); err == nil {
		t.Error("no stat file: no error")
	}
}

// The machine's own /proc/stat reads, and the busy time does not go back.
func TestCPUBusyProc(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat")
	}
	a, err := CPUBusy("/proc", 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := CPUBusy("/proc", 0)
	if err != nil || b < a {
		t.Errorf("busy time %v then %v (%v)", a, b, err)
	}
}
