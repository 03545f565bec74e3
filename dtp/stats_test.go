// Tests of the DTP's stats snapshot.
package dtp

import (
	"net/netip"
	"testing"
)

func TestPoolStats(t *testing.T) {
	p := newPool(1, 1)
	defer p.close()
	from := netip.MustParseAddr("192.0.2.1")
	started, release := make(chan struct{}), make(chan struct{})
	if !p.submit(from, func() { close(started); <-release }) {
		t.Fatal("first task refused")
	}
	<-started
	if !p.submit(from, func() {}) {
		t.Fatal("second task refused")
	}
	if p.submit(from, func() {}) {
		t.Fatal("third task taken by a pool of one worker and one queue slot")
	}
	got := p.stats()
	want := PoolStats{Workers: 1, Capacity: 2, Running: 1, Queued: 1, Refused: 1}
	if got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
	close(release)
}

func TestServerStats(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FSWorkers, cfg.FSQueue, cfg.AuthWorkers, cfg.AuthQueue, cfg.MaxTransfers = 3, 5, 2, 7, 9
	cfg.OpenFiles = 1000
	cfg.CleanStaleUploads = false
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := s.Stats()
	if st.Storage.Workers != 3 || st.Storage.Capacity != 8 || st.Password.Workers != 2 || st.Password.Capacity != 9 || st.MaxTransfers != 9 {
		t.Fatalf("stats %+v", st)
	}
	if st.DescriptorLimit <= 0 || st.DescriptorLimit > 1000 {
		t.Fatalf("descriptor limit %d with 1000 open files", st.DescriptorLimit)
	}
}
