package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// minFreeDir makes a folder like PageReportingDir whose min_free_ms holds v,
// and returns it and the setting's path.
func minFreeDir(t *testing.T, v string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "min_free_ms")
	if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func TestHoldPageReporting(t *testing.T) {
	dir, path := minFreeDir(t, "0\n")
	restore, note, err := HoldPageReporting(dir, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "600000" {
		t.Errorf("held: min_free_ms = %q, want 600000", b)
	}
	if !strings.Contains(note, "from 0 to 600000 ms") {
		t.Errorf("note %q does not say what changed", note)
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "0" {
		t.Errorf("restored: min_free_ms = %q, want 0", b)
	}
}

func TestHoldPageReportingLeavesLongerAlone(t *testing.T) {
	dir, path := minFreeDir(t, "900000\n")
	restore, note, err := HoldPageReporting(dir, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "900000\n" {
		t.Errorf("min_free_ms = %q, want it untouched", b)
	}
	if !strings.Contains(note, "900000 ms") {
		t.Errorf("note %q does not give the setting", note)
	}
}

func TestHoldPageReportingAbsent(t *testing.T) {
	restore, note, err := HoldPageReporting(filepath.Join(t.TempDir(), "none"), time.Minute)
	if err != nil || note != "" {
		t.Fatalf("no setting: note %q, err %v; want nothing", note, err)
	}
	if err := restore(); err != nil {
		t.Fatal(err)
	}
}

func TestHoldPageReportingNotANumber(t *testing.T) {
	dir, _ := minFreeDir(t, "soon")
	if _, _, err := HoldPageReporting(dir, time.Minute); err == nil {
		t.Fatal("a value that is not a number was accepted")
	}
}
