// End-to-end tests with the Go client github.com/jlaffaye/ftp: listings, transfers, file operations.
package main

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// goftpDial connects and logs in with jlaffaye/ftp; extra options are appended.
func goftpDial(t *testing.T, addr, user, pass string, opts ...ftp.DialOption) *ftp.ServerConn {
	t.Helper()
	var dbg syncBuffer
	opts = append([]ftp.DialOption{ftp.DialWithTimeout(clientTimeout), ftp.DialWithDebugOutput(&dbg)}, opts...)
	c, err := ftp.Dial(addr, opts...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		c.Quit()
		if t.Failed() {
			t.Logf("jlaffaye/ftp transcript (%s):\n%s", user, dbg.String())
		}
	})
	if err := c.Login(user, pass); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

// goftpRetr downloads path (from offset when offset > 0).
func goftpRetr(t *testing.T, c *ftp.ServerConn, path string, offset uint64) []byte {
	t.Helper()
	r, err := c.RetrFrom(path, offset)
	if err != nil {
		t.Fatalf("RetrFrom %s %d: %v", path, offset, err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		r.Close()
		t.Fatalf("read %s: %v", path, err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("close %s: %v", path, err)
	}
	return b
}

func TestGoFTPDownloads(t *testing.T) {
	s := startStd(t)
	for _, mode := range []struct {
		name string
		opts []ftp.DialOption
	}{
		{"EPSV", nil},
		{"PASV", []ftp.DialOption{ftp.DialWithDisabledEPSV(true)}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			c := goftpDial(t, s.addr, "anonymous", "anonymous@", mode.opts...)
			for _, name := range []string{fHello, fNotes, fEmpty, fOne, fSmall, fMedium, fBig, fSpaces, fDeep} {
				checkBytes(t, "Retr "+name, goftpRetr(t, c, name, 0), fixtureFiles[name])
			}
			for _, off := range []uint64{1, 4096, 1 << 20, 1<<20 + 3} {
				checkBytes(t, "RetrFrom medium", goftpRetr(t, c, fMedium, off), fixtureFiles[fMedium][off:])
			}
			checkBytes(t, "RetrFrom big", goftpRetr(t, c, fBig, 12345678), fixtureFiles[fBig][12345678:])
			if _, err := c.Retr("nonexistent"); err == nil || !strings.HasPrefix(err.Error(), "550") {
				t.Errorf("Retr nonexistent: %v, want 550", err)
			}
			// the connection is still usable after an error
			checkBytes(t, "Retr after error", goftpRetr(t, c, fOne, 0), fixtureFiles[fOne])
		})
	}
}

func TestGoFTPListings(t *testing.T) {
	s := startStd(t)
	for _, mode := range []struct {
		name string
		opts []ftp.DialOption
	}{
		{"MLSD", nil}, // FEAT lists MLST, so List uses MLSD
		{"LIST", []ftp.DialOption{ftp.DialWithDisabledMLSD(true)}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			c := goftpDial(t, s.addr, "reader", readerPass, mode.opts...)
			if got := c.IsTimePreciseInList(); got != (mode.name == "MLSD") {
				t.Errorf("IsTimePreciseInList = %v: the client did not pick %s", got, mode.name)
			}
			entries, err := c.List("/")
			if err != nil {
				t.Fatalf("List /: %v", err)
			}
			seen := map[string]*ftp.Entry{}
			for _, e := range entries {
				seen[e.Name] = e
			}
			for name, data := range fixtureFiles {
				if strings.Contains(name, "/") {
					continue
				}
				e := seen[name]
				if e == nil {
					t.Errorf("List /: no %s (got %v)", name, entryNames(entries))
					continue
				}
				if e.Type != ftp.EntryTypeFile || e.Size != uint64(len(data)) {
					t.Errorf("List /: %s is %v of %d bytes, want a file of %d", name, e.Type, e.Size, len(data))
				}
				if mode.name == "MLSD" && !e.Time.Equal(fixtureTime) {
					t.Errorf("List /: %s time %v, want %v", name, e.Time, fixtureTime)
				}
			}
			if e := seen["sub"]; e == nil || e.Type != ftp.EntryTypeFolder {
				t.Errorf("List /: sub missing or not a folder: %+v", e)
			}

			entries, err = c.List("/sub")
			if err != nil {
				t.Fatalf("List /sub: %v", err)
			}
			want := []string{"file with spaces.txt", "inner", "other", "readme.txt"}
			if got := entryNames(entries); !slices.Equal(got, want) {
				t.Errorf("List /sub: %q, want %q", got, want)
			}

			names, err := c.NameList("/sub/inner")
			if err != nil {
				t.Fatalf("NameList: %v", err)
			}
			for i := range names {
				names[i] = strings.TrimPrefix(names[i], "/sub/inner/")
			}
			slices.Sort(names)
			if want := []string{"data.bin", "deep"}; !slices.Equal(names, want) {
				t.Errorf("NameList /sub/inner: %q, want %q", names, want)
			}

			if err := c.ChangeDir("sub/inner"); err != nil {
				t.Fatalf("ChangeDir: %v", err)
			}
			if dir, err := c.CurrentDir(); err != nil || dir != "/sub/inner" {
				t.Errorf("CurrentDir = %q, %v", dir, err)
			}
			entries, err = c.List("")
			if err != nil {
				t.Fatalf("List in /sub/inner: %v", err)
			}
			if got := entryNames(entries); !slices.Equal(got, []string{"data.bin", "deep"}) {
				t.Errorf("List in /sub/inner: %q", got)
			}
			if err := c.ChangeDirToParent(); err != nil {
				t.Fatalf("ChangeDirToParent: %v", err)
			}
			if dir, _ := c.CurrentDir(); dir != "/sub" {
				t.Errorf("CurrentDir after CDUP = %q", dir)
			}
			if err := c.ChangeDir("/nonexistent"); err == nil {
				t.Errorf("ChangeDir /nonexistent succeeded")
			}
			checkBytes(t, "Retr relative", goftpRetr(t, c, "file with spaces.txt", 0), fixtureFiles[fSpaces])

			// the walker reaches every file
			var walked []string
			w := c.Walk("/")
			for w.Next() {
				if w.Stat().Type == ftp.EntryTypeFile {
					walked = append(walked, strings.TrimPrefix(w.Path(), "/"))
				}
			}
			if err := w.Err(); err != nil {
				t.Errorf("Walk: %v", err)
			}
			slices.Sort(walked)
			var all []string
			for n := range fixtureFiles {
				all = append(all, n)
			}
			slices.Sort(all)
			if !slices.Equal(walked, all) {
				t.Errorf("Walk /: %q, want %q", walked, all)
			}
		})
	}
}

// entryNames returns the sorted names of a listing without "." and ".."
// (MLSD may send the folder itself as type=cdir, RFC 3659 7.5.1).
func entryNames(es []*ftp.Entry) []string {
	var n []string
	for _, e := range es {
		if e.Name != "." && e.Name != ".." {
			n = append(n, e.Name)
		}
	}
	slices.Sort(n)
	return n
}

func TestGoFTPFileSizeAndTime(t *testing.T) {
	s := startStd(t)
	c := goftpDial(t, s.addr, "anonymous", "x")
	for _, name := range []string{fEmpty, fOne, fMedium, fBig, fSpaces} {
		n, err := c.FileSize(name)
		if err != nil || n != int64(len(fixtureFiles[name])) {
			t.Errorf("FileSize %s = %d, %v; want %d", name, n, err, len(fixtureFiles[name]))
		}
		if !c.IsGetTimeSupported() {
			t.Fatalf("IsGetTimeSupported = false although FEAT lists MDTM")
		}
		tm, err := c.GetTime(name)
		if err != nil || !tm.Equal(fixtureTime) {
			t.Errorf("GetTime %s = %v, %v; want %v", name, tm, err, fixtureTime)
		}
	}
	if _, err := c.FileSize("nonexistent"); err == nil {
		t.Errorf("FileSize nonexistent succeeded")
	}
	e, err := c.GetEntry(fMedium)
	if err != nil {
		t.Fatalf("GetEntry (MLST): %v", err)
	}
	if e.Type != ftp.EntryTypeFile || e.Size != uint64(len(fixtureFiles[fMedium])) || !e.Time.Equal(fixtureTime) {
		t.Errorf("GetEntry %s = %+v", fMedium, e)
	}
	if err := c.NoOp(); err != nil {
		t.Errorf("NoOp: %v", err)
	}
}

func TestGoFTPWriter(t *testing.T) {
	s := startStd(t)
	c := goftpDial(t, s.addr, "writer", writerPass)

	big := randomBytes(21, 5<<20+1)
	for name, data := range map[string][]byte{"empty": {}, "one": {1}, "big.bin": big, "name with spaces.txt": []byte("spaces\n")} {
		if err := c.Stor(name, bytes.NewReader(data)); err != nil {
			t.Fatalf("Stor %s: %v", name, err)
		}
		checkFile(t, s.writer+"/"+name, data)
		checkBytes(t, "Retr of stored "+name, goftpRetr(t, c, name, 0), data)
	}
	// overwrite with something shorter truncates
	if err := c.Stor("big.bin", bytes.NewReader([]byte("short"))); err != nil {
		t.Fatalf("Stor over: %v", err)
	}
	checkFile(t, s.writer+"/big.bin", []byte("short"))

	// Append, twice, then StorFrom (REST + STOR)
	if err := c.Append("log", strings.NewReader("one\n")); err != nil {
		t.Fatalf("Append new: %v", err)
	}
	if err := c.Append("log", strings.NewReader("two\n")); err != nil {
		t.Fatalf("Append: %v", err)
	}
	checkFile(t, s.writer+"/log", []byte("one\ntwo\n"))
	if err := c.StorFrom("log", strings.NewReader("TWO\nthree\n"), 4); err != nil {
		t.Fatalf("StorFrom: %v", err)
	}
	checkFile(t, s.writer+"/log", []byte("one\nTWO\nthree\n"))

	// SetTime (MFMT), read back with GetTime (MDTM) and on disk
	when := time.Date(2021, 6, 7, 8, 9, 10, 0, time.UTC)
	if !c.IsSetTimeSupported() {
		t.Errorf("IsSetTimeSupported = false although FEAT lists MFMT")
	} else if err := c.SetTime("log", when); err != nil {
		t.Errorf("SetTime: %v", err)
	} else {
		if got, err := c.GetTime("log"); err != nil || !got.Equal(when) {
			t.Errorf("GetTime after SetTime = %v, %v; want %v", got, err, when)
		}
		if fi, err := os.Stat(s.writer + "/log"); err != nil || !fi.ModTime().Equal(when) {
			t.Errorf("mtime on disk after SetTime: %v, %v", fi.ModTime(), err)
		}
	}

	// MakeDir / ChangeDir / Stor inside / Rename across folders / Delete / RemoveDir
	if err := c.MakeDir("dir"); err != nil {
		t.Fatalf("MakeDir: %v", err)
	}
	if err := c.MakeDir("dir/nested"); err != nil {
		t.Fatalf("MakeDir nested: %v", err)
	}
	if err := c.MakeDir("dir"); err == nil {
		t.Errorf("MakeDir of an existing folder succeeded")
	}
	if err := c.ChangeDir("dir/nested"); err != nil {
		t.Fatalf("ChangeDir: %v", err)
	}
	if err := c.Stor("inner.txt", strings.NewReader("inner\n")); err != nil {
		t.Fatalf("Stor relative: %v", err)
	}
	checkFile(t, s.writer+"/dir/nested/inner.txt", []byte("inner\n"))
	if err := c.ChangeDir("/"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("dir/nested/inner.txt", "moved.txt"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	checkFile(t, s.writer+"/moved.txt", []byte("inner\n"))
	if _, err := os.Stat(s.writer + "/dir/nested/inner.txt"); !os.IsNotExist(err) {
		t.Errorf("after Rename the source still exists: %v", err)
	}
	if err := c.Rename("dir", "dir2"); err != nil {
		t.Fatalf("Rename folder: %v", err)
	}
	if err := c.Rename("nonexistent", "x"); err == nil {
		t.Errorf("Rename of a missing file succeeded")
	}
	if err := c.RemoveDir("dir2"); err == nil {
		t.Errorf("RemoveDir of a non-empty folder succeeded")
	}
	if err := c.RemoveDir("dir2/nested"); err != nil {
		t.Fatalf("RemoveDir: %v", err)
	}
	if err := c.RemoveDir("dir2"); err != nil {
		t.Fatalf("RemoveDir: %v", err)
	}
	if err := c.Delete("moved.txt"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.Delete("moved.txt"); err == nil {
		t.Errorf("Delete of a missing file succeeded")
	}
	// RemoveDirRecur walks with List and deletes everything
	for _, p := range []string{"tree", "tree/a", "tree/a/b"} {
		if err := c.MakeDir(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"tree/x", "tree/a/y", "tree/a/b/z"} {
		if err := c.Stor(p, strings.NewReader(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.RemoveDirRecur("tree"); err != nil {
		t.Fatalf("RemoveDirRecur: %v", err)
	}

	want := map[string][]byte{"empty": {}, "one": {1}, "big.bin": []byte("short"),
		"name with spaces.txt": []byte("spaces\n"), "log": []byte("one\nTWO\nthree\n")}
	checkTree(t, s.writer, want, nil)
	if names, _ := readDirNames(s.writer); len(names) != len(want) {
		t.Errorf("writer root holds %q", names)
	}
}

func TestGoFTPReadOnlyRefused(t *testing.T) {
	s := startStd(t)
	for _, user := range []struct{ name, pass string }{{"anonymous", "x"}, {"reader", readerPass}} {
		t.Run(user.name, func(t *testing.T) {
			c := goftpDial(t, s.addr, user.name, user.pass)
			err := c.Stor("new.txt", strings.NewReader("nope"))
			if err == nil || !strings.HasPrefix(err.Error(), "550") {
				t.Errorf("Stor as %s: %v, want 550", user.name, err)
			}
			if err := c.Append(fHello, strings.NewReader("nope")); err == nil || !strings.HasPrefix(err.Error(), "550") {
				t.Errorf("Append as %s: %v, want 550", user.name, err)
			}
			if err := c.Delete(fHello); err == nil || !strings.HasPrefix(err.Error(), "550") {
				t.Errorf("Delete as %s: %v, want 550", user.name, err)
			}
			if err := c.Rename(fHello, "x"); err == nil || !strings.HasPrefix(err.Error(), "550") {
				t.Errorf("Rename as %s: %v, want 550", user.name, err)
			}
			if err := c.MakeDir("newdir"); err == nil || !strings.HasPrefix(err.Error(), "550") {
				t.Errorf("MakeDir as %s: %v, want 550", user.name, err)
			}
			if err := c.RemoveDir("sub/other"); err == nil || !strings.HasPrefix(err.Error(), "550") {
				t.Errorf("RemoveDir as %s: %v, want 550", user.name, err)
			}
			if err := c.SetTime(fHello, time.Now()); err == nil {
				t.Errorf("SetTime (MFMT) as %s succeeded", user.name)
			}
			// the session still works and nothing changed
			checkBytes(t, "Retr after refusals", goftpRetr(t, c, fHello, 0), fixtureFiles[fHello])
		})
	}
	checkTree(t, s.tree, fixtureFiles, nil)
}
