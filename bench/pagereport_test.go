package bench

import (
	"errors"
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
	pr, err := HoldPageReporting(dir, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "600000" {
		t.Errorf("held: min_free_ms = %q, want 600000", b)
	}
	if !strings.Contains(pr.Note, "from 0 to 600000 ms") || pr.Warning != "" {
		t.Errorf("note %q (warning %q) does not say what changed", pr.Note, pr.Warning)
	}
	if err := pr.Release(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "0" {
		t.Errorf("restored: min_free_ms = %q, want 0", b)
	}
	if err := pr.Release(); err != nil {
		t.Fatal(err)
	}
}

// A second run while the first holds the setting is refused: it would take
// the hold over, and the first run would end it under the second.
func TestHoldPageReportingBusy(t *testing.T) {
	dir, path := minFreeDir(t, "25")
	first, err := HoldPageReporting(dir, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := HoldPageReporting(dir, time.Minute); !errors.Is(err, ErrPageReportingBusy) {
		t.Fatalf("second hold while the first runs: %v, want ErrPageReportingBusy", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "60000" {
		t.Errorf("after the refused second hold: min_free_ms = %q, want the first's 60000", b)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := HoldPageReporting(dir, time.Minute)
	if err != nil {
		t.Fatalf("hold after the first was released: %v", err)
	}
	if !strings.Contains(again.Note, "from 25 to 60000 ms") {
		t.Errorf("note %q: the first run did not put 25 back", again.Note)
	}
	if err := again.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestHoldPageReportingLeavesLongerAlone(t *testing.T) {
	dir, path := minFreeDir(t, "900000\n")
	pr, err := HoldPageReporting(dir, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := pr.Release(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "900000\n" {
		t.Errorf("min_free_ms = %q, want it untouched", b)
	}
	if !strings.Contains(pr.Note, "900000 ms") {
		t.Errorf("note %q does not give the setting", pr.Note)
	}
}

func TestHoldPageReportingAbsent(t *testing.T) {
	pr, err := HoldPageReporting(filepath.Join(t.TempDir(), "none"), time.Minute)
	if err != nil || pr.Note != "" || pr.Warning != "" {
		t.Fatalf("no setting: %+v, err %v; want nothing", pr, err)
	}
	if err := pr.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestHoldPageReportingNotANumber(t *testing.T) {
	dir, path := minFreeDir(t, "soon")
	pr, err := HoldPageReporting(dir, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Release()
	if !strings.Contains(pr.Warning, "is not a number") || !strings.Contains(pr.Note, "not held back") {
		t.Errorf("warning %q, note %q: want both to say it was not held", pr.Warning, pr.Note)
	}
	if b, _ := os.ReadFile(path); string(b) != "soon" {
		t.Errorf("min_free_ms = %q, want it untouched", b)
	}
}

// A setting that cannot be written (a user who is not root, on a real guest)
// leaves the run going with a warning. A read-only sysctl stands in for it:
// its mode binds root too.
func TestHoldPageReportingReadOnly(t *testing.T) {
	const ro = "/proc/sys/kernel/ngroups_max"
	b, err := os.ReadFile(ro)
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(ro, filepath.Join(dir, "min_free_ms")); err != nil {
		t.Fatal(err)
	}
	pr, err := HoldPageReporting(dir, time.Duration(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Release()
	if pr.Warning == "" || !strings.Contains(pr.Note, "not held back") {
		t.Errorf("warning %q, note %q: want both to say it was not held", pr.Warning, pr.Note)
	}
	if after, _ := os.ReadFile(ro); string(after) != string(b) {
		t.Errorf("%s changed from %q to %q", ro, b, after)
	}
}
