package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCongestion(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tcp_congestion_control")
	if err := os.WriteFile(p, []byte("bbr\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := congestion(p), ", TCP congestion control bbr"; got != want {
		t.Errorf("congestion = %q, want %q", got, want)
	}
	if err := os.WriteFile(p, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := congestion(p); got != "" {
		t.Errorf("empty file: congestion = %q, want none", got)
	}
	if got := congestion(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("missing file: congestion = %q, want none", got)
	}
}

func TestMachineNamesCongestionControl(t *testing.T) {
	b, err := os.ReadFile(congestionPath)
	if err != nil {
		t.Skipf("no %s here", congestionPath)
	}
	want := "TCP congestion control " + strings.TrimSpace(string(b))
	if m := Machine(); !strings.Contains(m, want) {
		t.Errorf("Machine() = %q, want it to say %q", m, want)
	}
}
