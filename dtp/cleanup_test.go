// Tests of the start-up clean-up: dead instances' temporary upload files go, a live instance's stay.
package dtp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// cleanupEnv starts a server on dir whose start-up clean-up reports to
// the returned channel.
func cleanupEnv(t *testing.T, dir string) (*env, chan CleanupReport) {
	t.Helper()
	reports := make(chan CleanupReport, 4)
	cfg := DefaultConfig()
	cfg.OnCleanup = func(r CleanupReport) { reports <- r }
	return newEnvIn(t, dir, &cfg), reports
}

func nextReport(t *testing.T, reports chan CleanupReport) CleanupReport {
	t.Helper()
	select {
	case r := <-reports:
		return r
	case <-time.After(wait):
		t.Fatal("no clean-up report")
		return CleanupReport{}
	}
}

func exists(t *testing.T, p string) bool {
	t.Helper()
	_, err := os.Lstat(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// Leftovers of dead instances are removed wherever they are in the tree;
// a file another process holds locked (a live upload), this instance's
// own form of name, other names under the reserved prefix, symlinks and
// reserved folders are left alone.
func TestCleanupDeadInstances(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, data string, mode os.FileMode) string {
		p := filepath.Join(dir, rel)
		mustOK(t, os.MkdirAll(filepath.Dir(p), 0o755))
		mustOK(t, os.WriteFile(p, []byte(data), mode))
		return p
	}
	dead := []string{
		".rftpd-upload.deadbeef.0123456789ab",
		"a/b/.rftpd-upload.0badf00d.aaaaaaaaaaaa",
		"a/.rftpd-upload.0badf00d.bbbbbbbbbbbb", // write-only, as an upload over a 0200 file is
	}
	write(dead[0], "partial", 0o644)
	write(dead[1], "", 0o644)
	write(dead[2], "partial", 0o200)
	live := write("a/.rftpd-upload.11111111.cccccccccccc", "live", 0o644)
	f, err := os.Open(live)
	mustOK(t, err)
	defer f.Close()
	if held, err := tryLock(f); held || err != nil {
		t.Fatalf("lock: %v %v", held, err)
	}
	keep := []string{
		"a/.rftpd-upload.11111111.cccccccccccc",
		"keep.txt",
		".rftpd-upload.0123456789ab",          // an older form: no instance, no lock
		".rftpd-upload.DEADBEEF.0123456789ab", // not this form
		".rftpd-upload.deadbeef.0123456789a",
		".rftpd-upload.dir.deadbeef/.rftpd-upload.deadbeef.ffffffffffff", // in a reserved folder
		"target.txt",
	}
	for _, k := range keep[1:] {
		write(k, "keep", 0o644)
	}
	mustOK(t, os.Symlink("target.txt", filepath.Join(dir, ".rftpd-upload.deadbeef.dddddddddddd")))
	keep = append(keep, ".rftpd-upload.deadbeef.dddddddddddd")

	_, reports := cleanupEnv(t, dir)
	r := nextReport(t, reports)
	mustOK(t, r.Err)
	slices.Sort(r.Names)
	want := slices.Clone(dead)
	slices.Sort(want)
	if r.Root != dir || r.Removed != len(dead) || !slices.Equal(r.Names, want) || r.Kept != 1 || r.Dirs != 3 {
		t.Fatalf("report %+v, want %d removed (%q), 1 kept, 3 folders", r, len(dead), want)
	}
	for _, d := range dead {
		if exists(t, filepath.Join(dir, d)) {
			t.Errorf("%s is still there", d)
		}
	}
	for _, k := range keep {
		if !exists(t, filepath.Join(dir, k)) {
			t.Errorf("%s was removed", k)
		}
	}
	if b, err := os.ReadFile(live); err != nil || string(b) != "live" {
		t.Errorf("the live file holds %q (%v)", b, err)
	}
}

// A second instance started on the tree of a running one leaves the
// running one's upload in progress alone, and that upload completes.
func TestCleanupKeepsLiveInstance(t *testing.T) {
	a, reports := cleanupEnv(t, t.TempDir())
	if r := nextReport(t, reports); r.Removed != 0 || r.Kept != 0 {
		t.Fatalf("first start: %+v", r)
	}
	a.write("f.bin", []byte("old"))
	data := randomBytes(1<<20, 62)
	c, st := a.startUpload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f.bin"})
	_, err := c.Write(data[:1000])
	mustOK(t, err)
	waitProgress(t, st, 1000)
	tf := tempFiles(t, a.dir)
	if len(tf) != 1 {
		t.Fatalf("temporary files %q", tf)
	}

	b, reports := cleanupEnv(t, a.dir)
	if a.srv.instance == b.srv.instance {
		t.Fatalf("two instances share the tag %s", a.srv.instance)
	}
	if r := nextReport(t, reports); r.Removed != 0 || r.Kept != 1 {
		t.Fatalf("second start beside a live upload: %+v", r)
	}
	if !exists(t, filepath.Join(a.dir, tf[0])) {
		t.Fatal("the live upload's temporary file was removed")
	}
	_, err = c.Write(data[1000:])
	mustOK(t, err)
	c.Close()
	mustOK(t, expect[protocol.EvTransferDone](t, a.ev).Err)
	mustContent(t, a, "f.bin", data)
	noTempFiles(t, a.dir)
}

// The walk is off with CleanStaleUploads false.
func TestCleanupOff(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, ".rftpd-upload.deadbeef.0123456789ab")
	mustOK(t, os.WriteFile(name, nil, 0o644))
	cfg := DefaultConfig()
	cfg.CleanStaleUploads = false
	e := newEnvIn(t, dir, &cfg)
	e.srv.Close() // would wait for a walk, had one started
	if e.srv.clean.stop != nil || !exists(t, name) {
		t.Fatal("a clean-up ran")
	}
}
