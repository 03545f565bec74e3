// Tests of patterns in LIST, NLST and STAT, and of sorting listings within a bound.
package dtp

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rftpd/rftpd/protocol"
)

// globTree makes files for patterns to pick from, a folder, dot files, the
// temporary files of atomic uploads, symlinks out of the root, and a file
// whose name is a pattern.
func globTree(t *testing.T, e *env) {
	for _, n := range []string{"a.txt", "b.txt", "file1.txt", "file2.txt", "fileX.bin", ".hidden.txt",
		"sub/c.txt", "sub/d.bin", "sub/.e.txt", "lit*.txt", "lit1.txt"} {
		e.write(n, []byte(n))
	}
	e.write(protocol.ReservedPrefix+"1.abc.txt", []byte("upload in progress"))
	e.write("sub/"+strings.ToUpper(protocol.ReservedPrefix)+"2.def", []byte("upload in progress"))
	mustOK(t, os.Symlink("/etc", filepath.Join(e.dir, "out-abs")))
	mustOK(t, os.Symlink("../..", filepath.Join(e.dir, "out-rel")))
	mustOK(t, os.Symlink("a.txt", filepath.Join(e.dir, "in.txt")))
}

// raw runs a listing and returns its lines in the order they came.
func (e *env) raw(r protocol.ReqTransfer) []string {
	e.t.Helper()
	got, _, done := e.download(r)
	mustOK(e.t, done.Err)
	if len(got) == 0 {
		return nil
	}
	if !strings.HasSuffix(string(got), "\r\n") {
		e.t.Fatalf("no final CRLF: %q", got)
	}
	return strings.Split(strings.TrimSuffix(string(got), "\r\n"), "\r\n")
}

func TestGlobNLST(t *testing.T) {
	e := newEnv(t, nil)
	globTree(t, e)
	for _, c := range []struct {
		path   string
		prefix string
		flags  protocol.ListFlags
		want   []string
	}{
		{"/*.txt", "", 0, []string{"a.txt", "b.txt", "file1.txt", "file2.txt", "in.txt", "lit*.txt", "lit1.txt"}},
		{"/file?.txt", "", 0, []string{"file1.txt", "file2.txt"}},
		{"/file?.*", "", 0, []string{"file1.txt", "file2.txt", "fileX.bin"}},
		{"/[ab]*", "", 0, []string{"a.txt", "b.txt"}},
		{"/[^abf]*.txt", "", 0, []string{"in.txt", "lit*.txt", "lit1.txt"}},
		{"/[!abf]*.txt", "", 0, []string{"in.txt", "lit*.txt", "lit1.txt"}},
		{"/file[0-9].txt", "", 0, []string{"file1.txt", "file2.txt"}},
		{"/lit\\*.txt", "", 0, []string{"lit*.txt"}},
		{"/sub/*.txt", "sub/", 0, []string{"sub/c.txt"}},
		{"/sub/*", "/sub/", 0, []string{"/sub/c.txt", "/sub/d.bin"}},
		{"/s*", "", 0, []string{"sub"}}, // the folder itself, not its contents
		// A leading dot is matched by a dot only, with -a or without.
		{"/*", "", protocol.ListAll, []string{"a.txt", "b.txt", "file1.txt", "file2.txt", "fileX.bin", "in.txt", "lit*.txt", "lit1.txt", "sub"}},
		{"/?hidden.txt", "", 0, nil},
		{"/.*", "", 0, []string{".hidden.txt"}},
		{"/sub/.*", "sub/", protocol.ListAll, []string{"sub/.e.txt"}},
		// The temporary files of uploads never match, in any letter case.
		{"/.rftpd*", "", protocol.ListAll, nil},
		{"/.rftpd-up*", "", 0, nil},
		{"/.RFTPD-UPLOAD[.]*", "", 0, nil},
		{"/sub/.*", "", 0, []string{".e.txt"}},
		// Symlinks that leave the root are not shown; one inside is.
		{"/out*", "", 0, nil},
		{"/in*", "", 0, []string{"in.txt"}},
		// No match: an empty listing, not an error.
		{"/*.none", "", 0, nil},
		// The root is the top: the DTP gets clean paths, and copes with others.
		{"/../*.bin", "../", 0, []string{"../fileX.bin"}},
	} {
		t.Log("NLST", c.path)
		got := e.raw(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: c.path, Flags: c.flags, Glob: true, NamePrefix: c.prefix})
		if !slices.Equal(got, c.want) {
			t.Errorf("NLST %s: got %q, want %q", c.path, got, c.want)
		}
	}
}

// A name with glob characters that exists is listed as it is; a folder
// that does not exist, or is a file, is an error as without a pattern;
// MLSD never takes a pattern.
func TestGlobLiteralFirst(t *testing.T) {
	e := newEnv(t, nil)
	globTree(t, e)
	got := e.raw(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: "/lit*.txt", Glob: true})
	if !slices.Equal(got, []string{"lit*.txt"}) {
		t.Fatalf("NLST of an existing name with *: %q", got)
	}
	list := e.raw(protocol.ReqTransfer{Kind: protocol.XferList, Path: "/lit*.txt", Glob: true})
	if len(list) != 1 || !strings.HasSuffix(list[0], " lit*.txt") {
		t.Fatalf("LIST of an existing name with *: %q", list)
	}
	for _, c := range []struct {
		kind protocol.XferKind
		path string
		want error
	}{
		{protocol.XferNlst, "/missing/*.txt", fsErrNotExist},
		{protocol.XferList, "/a.txt/*", nil},
		{protocol.XferMlsd, "/*.txt", fsErrNotExist},
		{protocol.XferNlst, "/out-abs/*", protocol.ErrEscapes},
		{protocol.XferNlst, "/out-rel/*", protocol.ErrEscapes},
		// A pattern that starts with the reserved prefix is a reserved name.
		{protocol.XferNlst, "/.RFTPD-UPLOAD.*", protocol.ErrBadName},
	} {
		e.pasv()
		e.do(protocol.ReqTransfer{Kind: c.kind, Path: c.path, Glob: true})
		err := expect[protocol.EvTransferDone](t, e.ev).Err
		if c.want == nil {
			if err == nil {
				t.Errorf("%s: no error", c.path)
			}
			continue
		}
		mustErr(t, err, c.want)
	}
}

func TestGlobLIST(t *testing.T) {
	e := newEnv(t, nil)
	globTree(t, e)
	e.write("sub/deeper/x", nil)
	list := e.raw(protocol.ReqTransfer{Kind: protocol.XferList, Path: "/*", Glob: true, NamePrefix: "ignored/"})
	var names []string
	for _, l := range list {
		f := strings.Fields(l)
		names = append(names, f[len(f)-1])
		if f[len(f)-1] == "sub" && (!strings.HasPrefix(l, "drwx") || f[1] != "3") {
			t.Errorf("LIST of a matching folder: %q", l)
		}
	}
	want := []string{"a.txt", "b.txt", "file1.txt", "file2.txt", "fileX.bin", "in.txt", "lit*.txt", "lit1.txt", "sub"}
	if !slices.Equal(names, want) {
		t.Fatalf("LIST *: %q, want %q (sorted, no prefix)", names, want)
	}

	e.do(protocol.ReqStatList{Path: "/sub/*.bin", Glob: true})
	ev := expect[protocol.EvStatList](t, e.ev)
	mustOK(t, ev.Err)
	if l := string(ev.Lines); !strings.HasPrefix(l, "-rw-r--r-- 1 ftp ftp") || !strings.HasSuffix(l, " d.bin\r\n") || strings.Count(l, "\n") != 1 {
		t.Fatalf("STAT /sub/*.bin: %q", l)
	}
}

// Listings of folders within ListSortMax come sorted by name; larger
// ones stream in the file system's order, whole.
func TestListSorted(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ListSortMax = 40
	cfg.ListCache = 0 // the folder changes beside the server, and is listed again at once
	e := newEnv(t, &cfg)
	var want []string
	for i := range 40 {
		n := fmt.Sprintf("n%02d-%x", i, i*7919%257)
		e.write("d/"+n, nil)
		want = append(want, n)
	}
	slices.Sort(want)
	if got := e.raw(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: "/d"}); !slices.Equal(got, want) {
		t.Fatalf("NLST of 40 (the bound): %q", got)
	}
	var names []string
	for _, l := range e.raw(protocol.ReqTransfer{Kind: protocol.XferList, Path: "/d"}) {
		names = append(names, l[strings.LastIndexByte(l, ' ')+1:])
	}
	if !slices.Equal(names, want) {
		t.Fatalf("LIST of 40: %q", names)
	}
	var mlsd []string
	for _, l := range e.raw(protocol.ReqTransfer{Kind: protocol.XferMlsd, Path: "/d"})[1:] {
		mlsd = append(mlsd, l[strings.LastIndexByte(l, ' ')+1:])
	}
	if !slices.Equal(mlsd, want) {
		t.Fatalf("MLSD of 40: %q", mlsd)
	}

	e.write("d/n99", nil)
	got := e.raw(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: "/d"})
	want = append(want, "n99")
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("NLST of 41 (past the bound): %q", got)
	}
}

// A listing of a large folder, with or without a pattern, never holds the
// folder: the lines go out in chunks of at most one directory read (or
// listBatch entries), the first long before the scan ends, and at most
// ListSortMax names are held for sorting. A pattern matching few names of
// the large folder is sorted.
func TestListLargeFolderBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 20,000 files")
	}
	cfg := DefaultConfig()
	cfg.ListSortMax = 1000
	e := newEnv(t, &cfg)
	const n = 20000
	dir := filepath.Join(e.dir, "big")
	mustOK(t, os.Mkdir(dir, 0o755))
	for i := range n {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%05d.txt", (i*7919)%n)))
		mustOK(t, err)
		f.Close()
	}
	e.write("big/"+protocol.ReservedPrefix+"x", nil)

	// At most one batch of the scanner's entries (scanBatchMax) or listBatch.
	maxChunk := max(listBatch, scanBatchMax)
	list := func(pattern string) (lines int, chunks []int) {
		t.Helper()
		l := e.srv.newLister(e.sess.identity(), "big", protocol.XferNlst, 0, 0)
		if pattern != "" {
			g, ok := protocol.ParseGlob(pattern)
			if !ok {
				t.Fatalf("not a pattern: %q", pattern)
			}
			l.glob = &g
		}
		f, err := openRead(e.sess.identity().root, "big")
		mustOK(t, err)
		defer f.Close()
		var got []byte
		_, err = l.stream(f, nil, func(b []byte) ([]byte, error) {
			if c := strings.Count(string(b), "\n"); c > 0 {
				chunks = append(chunks, c)
				if c > maxChunk {
					t.Errorf("pattern %q: a chunk of %d lines", pattern, c)
				}
			}
			got = append(got, b...)
			return b[:0], nil
		})
		mustOK(t, err)
		if l.maxHeld > cfg.ListSortMax {
			t.Errorf("pattern %q: %d names held", pattern, l.maxHeld)
		}
		names := strings.Split(strings.TrimSuffix(string(got), "\r\n"), "\r\n")
		if pattern == "f1999?.txt" {
			want := []string{"f19990.txt", "f19991.txt", "f19992.txt", "f19993.txt", "f19994.txt", "f19995.txt", "f19996.txt", "f19997.txt", "f19998.txt", "f19999.txt"}
			if !slices.Equal(names, want) {
				t.Errorf("pattern %q: %q", pattern, names)
			}
		}
		return strings.Count(string(got), "\n"), chunks
	}
	for _, c := range []struct {
		pattern string
		lines   int
	}{{"", n}, {"*.txt", n}, {"f1*", 10000}, {"f1999?.txt", 10}} {
		lines, chunks := list(c.pattern)
		if lines != c.lines {
			t.Errorf("pattern %q: %d lines, want %d", c.pattern, lines, c.lines)
		}
		if c.lines > cfg.ListSortMax && len(chunks) < c.lines/maxChunk {
			t.Errorf("pattern %q: %d lines in only %d chunks", c.pattern, lines, len(chunks))
		}
	}
}

// BenchmarkListLargeFolder lists a folder of 20,000 files: all of it
// (past the sorting bound, so streamed after holding ListSortMax names),
// the same with sorting off, and a pattern matching ten of them (sorted).
// B/op shows that none builds the folder's listing.
func BenchmarkListLargeFolder(b *testing.B) {
	dir := b.TempDir()
	const n = 20000
	mustOK(b, os.Mkdir(filepath.Join(dir, "big"), 0o755))
	for i := range n {
		f, err := os.Create(filepath.Join(dir, "big", fmt.Sprintf("f%05d.txt", i)))
		mustOK(b, err)
		f.Close()
	}
	root, err := os.OpenRoot(dir)
	mustOK(b, err)
	defer root.Close()
	for _, c := range []struct {
		name, pattern string
		sortMax       int
	}{{"all", "", DefaultConfig().ListSortMax}, {"all-unsorted", "", 0}, {"pattern", "f1999?.txt", DefaultConfig().ListSortMax}} {
		b.Run(c.name, func(b *testing.B) {
			l := &lister{root: root, dir: "big", kind: protocol.XferList, sortMax: c.sortMax}
			if c.pattern != "" {
				g, _ := protocol.ParseGlob(c.pattern)
				l.glob = &g
			}
			b.ReportAllocs()
			var sent int
			for b.Loop() {
				f, err := openRead(root, "big")
				mustOK(b, err)
				_, err = l.stream(f, nil, func(p []byte) ([]byte, error) {
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
