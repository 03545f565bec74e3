package dtp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
)

// openSource opens a download's file with one openat2 beneath the root,
// answers a missing file itself, and leaves escapes and other refusals to
// os.Root, which names them. With openat2 off, everything goes through
// os.Root and gives the same answers.
func TestOpenSourceBeneath(t *testing.T) {
	base := t.TempDir()
	root, out := filepath.Join(base, "root"), filepath.Join(base, "out")
	mustOK(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	mustOK(t, os.MkdirAll(out, 0o755))
	body := randomBytes(10_000, 3)
	mustOK(t, os.WriteFile(filepath.Join(root, "sub", "f.bin"), body, 0o644))
	mustOK(t, os.WriteFile(filepath.Join(out, "secret"), []byte("secret"), 0o644))
	mustOK(t, os.Symlink("sub/f.bin", filepath.Join(root, "inside")))
	mustOK(t, os.Symlink("../out/secret", filepath.Join(root, "up")))
	mustOK(t, os.Symlink(filepath.Join(out, "secret"), filepath.Join(root, "abs")))
	mustOK(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))

	rd, err := openRootDir(root)
	mustOK(t, err)
	defer rd.Close()
	if rd.beneath == nil {
		t.Fatal("no beneath handle on Linux")
	}
	id := &identity{root: rd.root, beneath: rd.beneath}

	for _, fallback := range []bool{false, true} {
		noOpenat2.Store(fallback)
		open := func(rel string) *source {
			t.Helper()
			src, err := openSource(id, rel)
			if err != nil {
				t.Fatalf("fallback %v: %s: %v", fallback, rel, err)
			}
			if fast := src.f == nil; fast == fallback {
				t.Errorf("fallback %v: %s opened without openat2: %v", fallback, rel, !fast)
			}
			return src
		}
		for _, rel := range []string{"sub/f.bin", "inside"} {
			src := open(rel)
			got, err := io.ReadAll(src.file())
			mustOK(t, err)
			if !src.mode.IsRegular() || src.size != int64(len(body)) || !bytes.Equal(got, body) {
				t.Errorf("fallback %v: %s: mode %v size %d, read %d bytes", fallback, rel, src.mode, src.size, len(got))
			}
			src.close()
		}
		for rel, want := range map[string]fs.FileMode{".": fs.ModeDir, "sub": fs.ModeDir, "fifo": fs.ModeNamedPipe} {
			src := open(rel) // a FIFO without a writer must not block
			if src.mode.Type() != want {
				t.Errorf("fallback %v: %s: mode %v, want type %v", fallback, rel, src.mode, want)
			}
			src.close()
		}
		for _, rel := range []string{"up", "abs", "../out/secret", "sub/../../out/secret"} {
			src, err := openSource(id, rel)
			if err == nil {
				src.close()
				t.Errorf("fallback %v: %s opened a file outside the root", fallback, rel)
			} else if !isEscape(err) {
				t.Errorf("fallback %v: %s: %v, want os.Root's escape error", fallback, rel, err)
			}
		}
		if _, err := openSource(id, "sub/none"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("fallback %v: a missing file: %v", fallback, err)
		}
	}
	noOpenat2.Store(false)

	// A closed root refuses, whichever way it is opened.
	rd.Close()
	if src, err := openSource(id, "sub/f.bin"); err == nil {
		src.close()
		t.Error("a closed root still opened a file")
	}
}

// sendFile sends the size it is given, not what the file has grown to
// since, and stops early when the file has shrunk.
func TestSendFileSize(t *testing.T) {
	dir := t.TempDir()
	body := randomBytes(3<<20+11, 5)
	mustOK(t, os.WriteFile(filepath.Join(dir, "f"), body, 0o644))
	rd, err := openRootDir(dir)
	mustOK(t, err)
	defer rd.Close()
	id := &identity{root: rd.root, beneath: rd.beneath}
	for _, c := range []struct{ off, size, want int64 }{
		{0, int64(len(body)) - 1000, int64(len(body)) - 1000}, // the file grew after the stat
		{5, 1 << 20, 1 << 20},
		{100, int64(len(body)) + 1<<20, int64(len(body)) - 100}, // it shrank
		{int64(len(body)), 0, 0},
	} {
		src, err := openSource(id, "f")
		mustOK(t, err)
		a, b := tcpPair(t)
		var progress atomic.Int64
		firsts := 0
		done := make(chan int64, 1)
		go func() {
			n, err := sendFile(a, src, c.off, c.size, 0, &progress, func(int64) { firsts++ }, nil, nil)
			if err != nil {
				t.Error(err)
			}
			a.Close()
			done <- n
		}()
		got, err := io.ReadAll(b)
		mustOK(t, err)
		n := <-done
		src.close()
		if n != c.want || progress.Load() != c.want || !bytes.Equal(got, body[c.off:c.off+c.want]) || firsts != 1 {
			t.Errorf("off %d size %d: sent %d (progress %d, %d bytes read, first called %d times), want %d",
				c.off, c.size, n, progress.Load(), len(got), firsts, c.want)
		}
	}
}

// statPath looks at a path of more than one element with openat2 and
// gives what os.Root.Stat gives: the same size, type, permissions and
// time, the target of a symlink that stays inside, os.Root's escape error
// for one that leaves, and fs.ErrNotExist for a missing file. A name in
// the root itself, and everything with openat2 off, goes through os.Root.
func TestStatPathBeneath(t *testing.T) {
	base := t.TempDir()
	root, out := filepath.Join(base, "root"), filepath.Join(base, "out")
	deep := filepath.Join(root, "a", "b", "c")
	mustOK(t, os.MkdirAll(deep, 0o750))
	mustOK(t, os.MkdirAll(out, 0o755))
	mustOK(t, os.WriteFile(filepath.Join(deep, "f.bin"), randomBytes(5_000, 4), 0o640))
	mustOK(t, os.WriteFile(filepath.Join(root, "top.bin"), randomBytes(700, 5), 0o644))
	mustOK(t, os.WriteFile(filepath.Join(out, "secret"), []byte("secret"), 0o644))
	mustOK(t, os.Symlink("c/f.bin", filepath.Join(root, "a", "b", "link")))
	mustOK(t, os.Symlink("../../out/secret", filepath.Join(root, "a", "up")))
	mustOK(t, os.Symlink(filepath.Join(out, "secret"), filepath.Join(root, "a", "abs")))
	mustOK(t, syscall.Mkfifo(filepath.Join(root, "a", "b", "fifo"), 0o600))

	rd, err := openRootDir(root)
	mustOK(t, err)
	defer rd.Close()
	id := &identity{root: rd.root, beneath: rd.beneath}

	for _, fallback := range []bool{false, true} {
		noOpenat2.Store(fallback)
		for _, rel := range []string{"a/b/c/f.bin", "a/b/link", "a/b/c", "a/b/fifo", "a/b", "top.bin", "."} {
			got, err := statPath(id, rel)
			if err != nil {
				t.Fatalf("fallback %v: %s: %v", fallback, rel, err)
			}
			want, err := rd.root.Stat(rel)
			mustOK(t, err)
			if got.Size() != want.Size() || got.Mode() != want.Mode() || !got.ModTime().Equal(want.ModTime()) || got.IsDir() != want.IsDir() {
				t.Errorf("fallback %v: %s: size %d mode %v time %v, os.Root: size %d mode %v time %v", fallback, rel,
					got.Size(), got.Mode(), got.ModTime(), want.Size(), want.Mode(), want.ModTime())
			}
			_, fast := got.(*statInfo)
			if wantFast := !fallback && rel != "top.bin" && rel != "."; fast != wantFast {
				t.Errorf("fallback %v: %s looked at with openat2: %v, want %v", fallback, rel, fast, wantFast)
			}
		}
		for _, rel := range []string{"a/up", "a/abs", "a/../../out/secret", "a/b/../../../out/secret"} {
			if fi, err := statPath(id, rel); err == nil {
				t.Errorf("fallback %v: %s: saw %v outside the root", fallback, rel, fi.Mode())
			} else if !isEscape(err) {
				t.Errorf("fallback %v: %s: %v, want os.Root's escape error", fallback, rel, err)
			}
		}
		if _, err := statPath(id, "a/b/none"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("fallback %v: a missing file: %v", fallback, err)
		}
		if _, err := statPath(id, "a/b/c/f.bin/x"); err == nil {
			t.Errorf("fallback %v: a path through a file was looked at", fallback)
		}
	}
	noOpenat2.Store(false)
}

// BenchmarkStatPath: a look at a file at depths 2, 4 and 7, with openat2
// (statPath) and with os.Root's walk.
func BenchmarkStatPath(b *testing.B) {
	root := b.TempDir()
	rd, err := openRootDir(root)
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Close()
	id := &identity{root: rd.root, beneath: rd.beneath}
	for _, depth := range []int{2, 4, 7} {
		rel := "f.bin"
		for i := depth - 1; i > 0; i-- {
			rel = fmt.Sprintf("d%d/%s", i, rel)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, rel), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		for _, way := range []struct {
			name string
			stat func(string) (fs.FileInfo, error)
		}{
			{"openat2", func(rel string) (fs.FileInfo, error) { return statPath(id, rel) }},
			{"os.Root", rd.root.Stat},
		} {
			b.Run(fmt.Sprintf("depth=%d/%s", depth, way.name), func(b *testing.B) {
				for b.Loop() {
					if _, err := way.stat(rel); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
