// Tests of LIST, NLST, MLSD and STAT listings.
package dtp

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// tree makes a small directory tree with a hidden file, a symlink inside
// the root and two that leave it.
func tree(t *testing.T, e *env) {
	e.write("a.txt", []byte("hello"))
	e.write(".hidden", []byte("h"))
	e.write("sub/b.txt", []byte("bb"))
	mustOK(t, os.Symlink("a.txt", filepath.Join(e.dir, "link")))
	mustOK(t, os.Symlink("/etc", filepath.Join(e.dir, "out-abs")))
	mustOK(t, os.Symlink("../../..", filepath.Join(e.dir, "out-rel")))
	mustOK(t, os.Symlink("nowhere", filepath.Join(e.dir, "dangling")))
	mtime := time.Date(2024, 3, 4, 12, 30, 0, 0, time.UTC)
	for _, n := range []string{"a.txt", ".hidden", "sub", "sub/b.txt"} {
		mustOK(t, os.Chtimes(filepath.Join(e.dir, n), mtime, mtime))
	}
	mustOK(t, os.Chmod(filepath.Join(e.dir, "a.txt"), 0o644))
	mustOK(t, os.Chmod(filepath.Join(e.dir, "sub"), 0o755))
}

func lines(b []byte) []string {
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") && s != "" {
		return []string{"missing final CRLF: " + s}
	}
	l := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	if s == "" {
		l = nil
	}
	slices.Sort(l)
	return l
}

func (e *env) listing(kind protocol.XferKind, p string, flags protocol.ListFlags) []string {
	e.t.Helper()
	got, st, done := e.download(protocol.ReqTransfer{Kind: kind, Path: p, Flags: flags})
	mustOK(e.t, done.Err)
	if st.Size != -1 || done.Bytes != int64(len(got)) {
		e.t.Fatalf("size %d, bytes %d, got %d", st.Size, done.Bytes, len(got))
	}
	return lines(got)
}

func TestListSmallTree(t *testing.T) {
	e := newEnv(t, nil)
	tree(t, e)

	check := func(name string, got, want []string) {
		t.Helper()
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s:\n got %q\nwant %q", name, got, want)
		}
	}
	check("NLST", e.listing(protocol.XferNlst, "/", 0), []string{"a.txt", "link", "sub"})
	check("NLST -a", e.listing(protocol.XferNlst, "/", protocol.ListAll), []string{".hidden", "a.txt", "link", "sub"})
	check("NLST sub", e.listing(protocol.XferNlst, "/sub", 0), []string{"b.txt"})
	check("NLST file", e.listing(protocol.XferNlst, "/sub/b.txt", 0), []string{"b.txt"})

	list := e.listing(protocol.XferList, "/", 0)
	if len(list) != 3 {
		t.Fatalf("LIST: %q", list)
	}
	check("LIST a.txt", list[:1], []string{"-rw-r--r-- 1 ftp ftp            5 Mar 04  2024 a.txt"})
	if !strings.HasPrefix(list[1], "-rw-r--r-- 1 ftp ftp            5 ") || !strings.HasSuffix(list[1], " link") {
		t.Fatalf("LIST shows the link as its target: %q", list[1])
	}
	check("LIST sub", list[2:], []string{"drwxr-xr-x 2 ftp ftp         4096 Mar 04  2024 sub"})
	check("LIST file", e.listing(protocol.XferList, "/a.txt", 0), []string{"-rw-r--r-- 1 ftp ftp            5 Mar 04  2024 a.txt"})

	mlsd := e.listing(protocol.XferMlsd, "/", 0)
	want := []string{
		"type=file;size=1;modify=20240304123000;perm=adfrw;unix.mode=0644; .hidden",
		"type=file;size=5;modify=20240304123000;perm=adfrw;unix.mode=0644; a.txt",
		"type=dir;modify=20240304123000;perm=cdeflmp;unix.mode=0755; sub",
	}
	var gotm []string
	var cdir string
	for _, l := range mlsd {
		switch {
		case strings.HasPrefix(l, "type=cdir;"):
			cdir = l
		case strings.HasSuffix(l, "; link"):
			if !strings.HasPrefix(l, "type=file;size=5;") {
				t.Fatalf("MLSD link: %q", l)
			}
		default:
			gotm = append(gotm, l)
		}
	}
	check("MLSD", gotm, want)
	if !strings.HasSuffix(cdir, "; .") || len(mlsd) != 5 {
		t.Fatalf("MLSD cdir %q in %q", cdir, mlsd)
	}

	// Errors come before the data connection.
	for _, tc := range []struct {
		kind protocol.XferKind
		path string
		want error
	}{
		{protocol.XferMlsd, "/a.txt", protocol.ErrNotDir},
		{protocol.XferList, "/missing", fsErrNotExist},
		{protocol.XferList, "/out-abs", protocol.ErrEscapes},
		{protocol.XferNlst, "/out-rel", protocol.ErrEscapes},
	} {
		e.pasv()
		e.do(protocol.ReqTransfer{Kind: tc.kind, Path: tc.path})
		mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, tc.want)
	}
}

// LIST shows the real link count: 2 plus the subfolders for a folder
// (on the file systems tests run on), the names of a file, the target's
// for a symlink (listed as what it points to).
func TestListLinkCounts(t *testing.T) {
	e := newEnv(t, nil)
	e.write("pub/x/f", nil)
	e.write("pub/y/f", nil)
	e.write("pub/z/f", nil)
	e.write("pub/one", []byte("1"))
	e.write("pub/two", []byte("2"))
	mustOK(t, os.Link(filepath.Join(e.dir, "pub/two"), filepath.Join(e.dir, "pub/two-again")))
	mustOK(t, os.Symlink("pub", filepath.Join(e.dir, "pub-link")))
	nlink := func(line string) string {
		f := strings.Fields(line)
		return f[len(f)-1] + " " + f[1]
	}
	var got []string
	for _, l := range e.listing(protocol.XferList, "/", 0) {
		got = append(got, nlink(l))
	}
	for _, l := range e.listing(protocol.XferList, "/pub", 0) {
		got = append(got, nlink(l))
	}
	got = append(got, nlink(e.listing(protocol.XferList, "/pub/two", 0)[0]))
	want := []string{"pub 5", "pub-link 5", "one 1", "two 2", "two-again 2", "x 2", "y 2", "z 2", "two 2"}
	if !slices.Equal(got, want) {
		t.Fatalf("link counts:\n got %q\nwant %q", got, want)
	}
}

func TestListBigDirectory(t *testing.T) {
	e := newEnv(t, nil)
	var want []string
	for i := range 2000 {
		name := fmt.Sprintf("file-%04d.dat", i)
		e.write("many/"+name, []byte(strings.Repeat("x", i)))
		want = append(want, name)
	}
	got := e.listing(protocol.XferNlst, "/many", 0)
	if !slices.Equal(got, want) {
		t.Fatalf("NLST of 2000 entries: %d names", len(got))
	}
	list := e.listing(protocol.XferList, "/many", 0)
	if len(list) != 2000 || !strings.HasSuffix(list[1999], " file-1999.dat") || !strings.Contains(list[1999], " 1999 ") {
		t.Fatalf("LIST of 2000 entries: %d lines, last %q", len(list), list[len(list)-1])
	}
	mlsd := e.listing(protocol.XferMlsd, "/many", 0)
	if len(mlsd) != 2001 {
		t.Fatalf("MLSD of 2000 entries: %d lines", len(mlsd))
	}
}

func TestStatList(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StatListMax = 1000
	e := newEnv(t, &cfg)
	tree(t, e)

	e.do(protocol.ReqStatList{Path: "/sub"})
	ev := expect[protocol.EvStatList](t, e.ev)
	mustOK(t, ev.Err)
	if want := "-rw-r--r-- 1 ftp ftp            2 Mar 04  2024 b.txt\r\n"; string(ev.Lines) != want {
		t.Fatalf("STAT /sub: %q", ev.Lines)
	}
	e.do(protocol.ReqStatList{Path: "/sub/b.txt"})
	if ev := expect[protocol.EvStatList](t, e.ev); !strings.HasSuffix(string(ev.Lines), " b.txt\r\n") {
		t.Fatalf("STAT file: %q %v", ev.Lines, ev.Err)
	}
	e.do(protocol.ReqStatList{Path: "/nope"})
	mustErr(t, expect[protocol.EvStatList](t, e.ev).Err, fsErrNotExist)

	for i := range 100 {
		e.write(fmt.Sprintf("many/f%03d", i), nil)
	}
	e.do(protocol.ReqStatList{Path: "/many"})
	ev = expect[protocol.EvStatList](t, e.ev)
	mustOK(t, ev.Err)
	l := strings.Split(strings.TrimSuffix(string(ev.Lines), "\r\n"), "\r\n")
	last := l[len(l)-1]
	if !strings.Contains(last, "cut") || len(ev.Lines)-len(last)-2 > 1000 || len(l) < 10 {
		t.Fatalf("cut listing: %d bytes, %d lines, last %q", len(ev.Lines), len(l), last)
	}
	for _, line := range l[:len(l)-1] {
		if !strings.HasPrefix(line, "-rw-r--r-- 1 ftp ftp") {
			t.Fatalf("partial line %q", line)
		}
	}
}

// BenchmarkListFolder lists a folder of 1,000 files of 4 KiB, as the
// bench's list step does: LIST and MLSD, each sorted (fewer names than
// ListSortMax). allocs/op counts what a listing allocates beyond its
// output; the scan itself should not grow with the folder.
func BenchmarkListFolder(b *testing.B) {
	dir := b.TempDir()
	mustOK(b, os.Mkdir(filepath.Join(dir, "list"), 0o755))
	data := make([]byte, 4096)
	for i := range 1000 {
		mustOK(b, os.WriteFile(filepath.Join(dir, "list", fmt.Sprintf("e%04d", i)), data, 0o644))
	}
	root, err := os.OpenRoot(dir)
	mustOK(b, err)
	defer root.Close()
	for _, kind := range []struct {
		name string
		kind protocol.XferKind
	}{{"LIST", protocol.XferList}, {"MLSD", protocol.XferMlsd}} {
		b.Run(kind.name, func(b *testing.B) {
			l := &lister{root: root, dir: "list", kind: kind.kind, all: kind.kind == protocol.XferMlsd,
				sortMax: DefaultConfig().ListSortMax, perms: protocol.PermRead, facts: protocol.AllFacts, now: time.Now()}
			buf := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			var sent int
			for b.Loop() {
				f, err := openRead(root, "list")
				mustOK(b, err)
				buf, err = l.stream(f, buf[:0], func(p []byte) ([]byte, error) {
					sent += len(p)
					return p[:0], nil
				})
				mustOK(b, err)
				f.Close()
			}
			b.ReportMetric(float64(sent)/float64(b.N), "listing-bytes/op")
		})
	}
}
