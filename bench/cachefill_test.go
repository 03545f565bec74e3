// Tests of the page-cache fill: sizes, meminfo, the refusals, and a small fill written and removed.
package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// meminfo16G is /proc/meminfo of a 16 GiB machine, cut short.
const meminfo16G = `MemTotal:       16777216 kB
MemFree:         1048576 kB
MemAvailable:   12582912 kB
Buffers:           49860 kB
Cached:         11534336 kB
SwapCached:            0 kB
Dirty:            121600 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
`

func TestParseMemInfo(t *testing.T) {
	m, err := ParseMemInfo(meminfo16G)
	want := MemInfo{Total: 16 << 30, Free: 1 << 30, Available: 12 << 30, Cached: 11 << 30, Dirty: 121600 << 10}
	if err != nil || m != want {
		t.Fatalf("got %+v, %v; want %+v", m, err, want)
	}
	for _, bad := range []string{"", "MemFree: 1 kB\n", "MemTotal: lots kB\n"} {
		if _, err := ParseMemInfo(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	// This machine's own, where there is one.
	if _, err := os.Stat("/proc/meminfo"); err == nil {
		m, err := ReadMemInfo("")
		if err != nil || m.Total <= 0 || m.Available > m.Total || m.Free > m.Total {
			t.Errorf("/proc/meminfo: %+v, %v", m, err)
		}
	}
}

func TestParseFillSize(t *testing.T) {
	const total = 16 << 30
	cases := []struct {
		in   string
		want int64
	}{
		{"", 0},
		{"0", 0},
		{"4096", 4096},
		{"4096B", 4096},
		{"20GiB", 20 << 30},
		{"20G", 20 << 30},
		{"20gib", 20 << 30},
		{" 512MiB ", 512 << 20},
		{"1.5GiB", 3 << 29},
		{"64k", 64 << 10},
		{"10GB", 10e9},
		{"2TiB", 2 << 40},
		{"auto", total - total/32}, // 15.5 GiB
	}
	for _, c := range cases {
		if got, err := ParseFillSize(c.in, total); err != nil || got != c.want {
			t.Errorf("%q: %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	// A small machine keeps at least 256 MiB aside.
	if got, err := ParseFillSize("auto", 2<<30); err != nil || got != 2<<30-256<<20 {
		t.Errorf("auto on 2 GiB: %d, %v", got, err)
	}
	for _, bad := range []string{"-1GiB", "GiB", "20XB", "1..5G", "lots", "1e3", "0.0000001", "9999999TiB"} {
		if got, err := ParseFillSize(bad, total); err == nil {
			t.Errorf("%q: %d, no error", bad, got)
		}
	}
	if _, err := ParseFillSize("auto", 100<<20); err == nil {
		t.Error("auto with 100 MiB of memory: no error")
	}
}

func TestCheckFill(t *testing.T) {
	mem := MemInfo{Total: 64 << 30}
	disk := DiskSpace{Total: 100 << 30, Avail: 40 << 30} // 5 GiB must stay free
	cases := []struct {
		name string
		size int64
		disk DiskSpace
		want string // "" for no error
	}{
		{"fits", 16 << 30, disk, ""},
		{"up to the reserve", 35 << 30, disk, ""},
		{"past the reserve", 35<<30 + 1, disk, "would leave 5.00 GiB free of its filesystem's 100 GiB (5.00 GiB must stay free"},
		{"more than memory", 64<<30 + 1, DiskSpace{Total: 1 << 40, Avail: 1 << 40}, "more than this machine's memory (MemTotal 64.0 GiB)"},
		{"disk too small", 8 << 30, DiskSpace{Total: 100 << 30, Avail: 12 << 30}, "would leave 4.00 GiB free of its filesystem's 100 GiB (5.00 GiB must stay free"},
		{"small disk keeps 1 GiB", 17 << 29, DiskSpace{Total: 10 << 30, Avail: 9 << 30}, "would leave 512 MiB free of its filesystem's 10.0 GiB (1.00 GiB must stay free"},
		{"small disk, just room", 8 << 30, DiskSpace{Total: 10 << 30, Avail: 9 << 30}, ""},
		{"no room at all", 1 << 20, DiskSpace{Total: 10 << 30, Avail: 0}, "would leave 0 B free"},
		{"tmpfs", 1 << 30, DiskSpace{Total: 100 << 30, Avail: 100 << 30, InMemory: true}, "tmpfs or ramfs"},
		{"nothing", 0, disk, "must be positive"},
	}
	for _, c := range cases {
		err := checkFill(c.size, mem, c.disk, "/x")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
}

// TestDiskSpace checks statfs against the mount table: a tmpfs is in
// memory, the temporary folder's disk has a size.
func TestDiskSpace(t *testing.T) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Skip("no /proc/self/mounts")
	}
	var tmpfs string
	for line := range strings.Lines(string(mounts)) {
		if f := strings.Fields(line); len(f) > 2 && f[2] == "tmpfs" {
			tmpfs = f[1]
			break
		}
	}
	if tmpfs == "" {
		t.Skip("no tmpfs mounted")
	}
	d, err := diskSpace(tmpfs)
	if err != nil || !d.InMemory {
		t.Errorf("%s: %+v, %v; want a filesystem in memory", tmpfs, d, err)
	}
	if err := checkFill(1<<20, MemInfo{Total: 1 << 40}, d, tmpfs); err == nil || !strings.Contains(err.Error(), "tmpfs or ramfs") {
		t.Errorf("a fill of %s: %v", tmpfs, err)
	}
	if d, err := diskSpace(t.TempDir()); err != nil || d.Total <= 0 || d.Avail > d.Total {
		t.Errorf("temporary folder: %+v, %v", d, err)
	}
	if _, err := diskSpace(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("statfs of a missing folder: no error")
	}
}

// fakeMemInfo writes meminfo16G where FillCache reads it.
func fakeMemInfo(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "meminfo")
	if err := os.WriteFile(p, []byte(meminfo16G), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFillCacheRefusesAFullDisk(t *testing.T) {
	parent := t.TempDir()
	small := func(string) (DiskSpace, error) { return DiskSpace{Total: 4 << 30, Avail: 2 << 30}, nil }
	_, err := FillCache(context.Background(), FillOptions{Parent: parent, Size: 1<<30 + 1<<20, memInfo: fakeMemInfo(t), statfs: small})
	if err == nil || !strings.Contains(err.Error(), "would leave 1023 MiB free") {
		t.Fatalf("err %v; want the disk refused", err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("a refused fill left %v", ents)
	}
	// Past MemTotal, before the disk is asked.
	_, err = FillCache(context.Background(), FillOptions{Parent: parent, Size: 17 << 30, memInfo: fakeMemInfo(t)})
	if err == nil || !strings.Contains(err.Error(), "more than this machine's memory") {
		t.Errorf("17 GiB on 16 GiB: %v", err)
	}
	// The disk must take Max, all the fill may write.
	_, err = FillCache(context.Background(), FillOptions{Parent: parent, Size: 1 << 20, Max: 1<<30 + 1<<20, memInfo: fakeMemInfo(t), statfs: small})
	if err == nil || !strings.Contains(err.Error(), "would leave 1023 MiB free") {
		t.Errorf("Max past the disk's reserve: %v", err)
	}
}

func TestFillCacheWritesAndRemoves(t *testing.T) {
	parent := tmpForFill(t)
	const size = 3*fillBuf + 12345 // a short last write
	fill, err := FillCache(context.Background(), FillOptions{Parent: parent, Size: size})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(fill.Dir) != parent || !strings.HasPrefix(filepath.Base(fill.Dir), "ftpbench-fill-") {
		t.Errorf("folder %s, want ftpbench-fill-* in %s", fill.Dir, parent)
	}
	ents, err := os.ReadDir(fill.Dir)
	if err != nil || len(ents) != 1 || fill.Files != 1 || fill.Size != size {
		t.Fatalf("files %v (%v), fill %+v", ents, err, fill)
	}
	fi, err := os.Stat(filepath.Join(fill.Dir, ents[0].Name()))
	if err != nil || fi.Size() != size {
		t.Fatalf("fill file: %v, %v; want %d bytes", fi, err, size)
	}
	// No two 8 MiB writes alike (the first bytes of each differ).
	b, _ := os.ReadFile(filepath.Join(fill.Dir, ents[0].Name()))
	if string(b[:fillBuf]) == string(b[fillBuf:2*fillBuf]) || string(b[2:fillBuf]) != string(b[fillBuf+2:2*fillBuf]) {
		t.Error("the writes are not one random block varied at its start")
	}
	if fill.Before.Total <= 0 || fill.After.Total != fill.Before.Total {
		t.Errorf("meminfo before %+v, after %+v", fill.Before, fill.After)
	}
	end := fill.After
	notes := strings.Join(fill.Notes(&end), "\n")
	for _, want := range []string{"page cache filled first: 24.0 MiB of throwaway files", fill.Dir, "MemAvailable", "Cached", "memory after this scenario"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if err := fill.Remove(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("left after Remove: %v", ents)
	}
}

// tmpForFill returns a temporary folder on a disk with room for a small
// fill, or skips the test.
func tmpForFill(t *testing.T) string {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo")
	}
	parent := t.TempDir()
	if d, err := diskSpace(parent); err != nil || d.InMemory || d.Avail-64<<20 < fillReserve(d) {
		t.Skipf("the temporary folder cannot take a fill (%+v, %v)", d, err)
	}
	return parent
}

func TestFillCacheSpansFiles(t *testing.T) {
	parent := tmpForFill(t)
	const size = 2*5<<20 + 7 // two full files of 5 MiB and 7 bytes
	fill, err := FillCache(context.Background(), FillOptions{Parent: parent, Size: size, fileSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer fill.Remove()
	var sizes []int64
	ents, _ := os.ReadDir(fill.Dir)
	for _, e := range ents {
		fi, _ := e.Info()
		sizes = append(sizes, fi.Size())
	}
	if fill.Files != 3 || fill.Size != size || !slices.Equal(sizes, []int64{5 << 20, 5 << 20, 7}) {
		t.Errorf("fill %+v, file sizes %v", fill, sizes)
	}
}

// TestFillCacheGoesOnWhileMemoryStaysFree fills on a fake 16 GiB machine
// with 1 GiB free (over notFull's 0.8 GiB): past Size in steps up to Max;
// and with only 100 MiB free, exactly Size.
func TestFillCacheGoesOnWhileMemoryStaysFree(t *testing.T) {
	parent := tmpForFill(t)
	const size, top, step = 3 << 20, 10 << 20, 4 << 20
	fill, err := FillCache(context.Background(), FillOptions{Parent: parent, Size: size, Max: top, memInfo: fakeMemInfo(t), step: step})
	if err != nil {
		t.Fatal(err)
	}
	defer fill.Remove()
	if fill.Size != top || fill.Asked != size || fill.Files != 3 {
		t.Errorf("fill %+v; want 3 MiB, then 4 and 3 more in files of their own", fill)
	}
	if n := fill.Notes(nil)[0]; !strings.Contains(n, "10.0 MiB of throwaway files (7.00 MiB more than the 3.00 MiB asked, while memory stayed free)") {
		t.Errorf("note %q", n)
	}
	full := filepath.Join(t.TempDir(), "meminfo")
	if err := os.WriteFile(full, []byte(strings.Replace(meminfo16G, "MemFree:         1048576 kB", "MemFree:          102400 kB", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	fill2, err := FillCache(context.Background(), FillOptions{Parent: parent, Size: size, Max: top, memInfo: full, step: step})
	if err != nil {
		t.Fatal(err)
	}
	defer fill2.Remove()
	if fill2.Size != size || fill2.Files != 1 || fill2.After.Free != 100<<20 {
		t.Errorf("with the cache full: fill %+v; want 3 MiB only", fill2)
	}
}

func TestFillCacheStopsOnCancel(t *testing.T) {
	parent := tmpForFill(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FillCache(ctx, FillOptions{Parent: parent, Size: 1 << 20}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled fill: %v", err)
	}
	if ents, _ := os.ReadDir(parent); len(ents) != 0 {
		t.Errorf("a cancelled fill left %v", ents)
	}
}

func TestFillNotes(t *testing.T) {
	c := &CacheFill{Dir: "/var/tmp/ftpbench-fill-1", Size: 22 << 30, Asked: 22 << 30, Files: 22, Took: 61e9,
		Before: MemInfo{Total: 23 << 30, Free: 21 << 30, Available: 22 << 30, Cached: 2 << 30, Dirty: 0},
		After:  MemInfo{Total: 23 << 30, Free: 1 << 28, Available: 22 << 30, Cached: 21 << 30, Dirty: 4 << 30}}
	want := []string{
		"page cache filled first: 22.0 GiB of throwaway files written in 61 s to /var/tmp/ftpbench-fill-1, kept during the run (MemTotal 23.0 GiB)",
		"memory before → after the fill, GiB: MemAvailable 22.0 → 22.0, Cached 2.0 → 21.0, MemFree 21.0 → 0.2, Dirty 0.0 → 4.0",
	}
	if got := c.Notes(nil); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c.After.Free = 5 << 30
	if got := c.Notes(nil); len(got) != 3 || !strings.Contains(got[2], "did not fill: 5.00 GiB stayed free") {
		t.Errorf("a fill that left 5 GiB free: %q", got)
	}
}
