// Tests of the directory scanner behind listings: every name once, and
// what os.Lstat says of each.
package dtp

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDirScanner(t *testing.T) {
	dir := t.TempDir()
	var want []string
	add := func(name string) { want = append(want, name) }
	// More names than one getdents buffer holds.
	for i := range 1500 {
		name := fmt.Sprintf("file-%04d-%s", i, strings.Repeat("x", 20))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o640); err != nil {
			t.Fatal(err)
		}
		add(name)
	}
	for _, d := range []string{"sub", ".hidden"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o750); err != nil {
			t.Fatal(err)
		}
		add(d)
	}
	if err := os.Chmod(filepath.Join(dir, "sub"), 0o1777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file-0001-"+strings.Repeat("x", 20), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	add("link")
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	add("fifo")
	suid := filepath.Join(dir, "suid")
	if err := os.WriteFile(suid, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, 0o755|os.ModeSetuid|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	add("suid")
	old := time.Date(2001, 2, 3, 4, 5, 6, 789, time.UTC)
	if err := os.Chtimes(suid, old, old); err != nil {
		t.Fatal(err)
	}
	checkScan(t, dir, want)
}

// checkScan scans dir and checks that every name of want comes once and
// that lstat says of each what os.Lstat says.
func checkScan(t *testing.T, dir string, want []string) {
	t.Helper()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	f, err := openRead(root, ".")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := newDirScanner(f, root, ".")
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	var got []string
	calls := 0
	for {
		names, err := d.next()
		for _, name := range names {
			got = append(got, name)
			fi, err := d.lstat(name)
			if err != nil {
				t.Errorf("lstat %s: %v", name, err)
				continue
			}
			ofi, err := os.Lstat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			w := infoOf(ofi, name)
			if fi.Name != w.Name || fi.Size != w.Size || fi.Mode != w.Mode || !fi.ModTime.Equal(w.ModTime) || fi.Nlink != w.Nlink && runtime.GOOS != "windows" {
				t.Errorf("%s: %+v, os.Lstat says %+v", name, fi, w)
			}
		}
		calls++
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("names: %d, want %d (%v...)", len(got), len(want), got[:min(5, len(got))])
	}
	if calls < 3 {
		t.Errorf("%d batches for %d names: the buffer is not bounding them", calls, len(got))
	}
	if _, err := d.lstat("missing"); !os.IsNotExist(err) {
		t.Errorf("lstat of a missing name: %v", err)
	}
}
