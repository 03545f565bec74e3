// Traversal battery: generated paths through every storage operation and transfer kind; nothing outside the root is touched.
//go:build linux

package dtp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/protocol"
)

// What a path case names once resolved inside the root.
type pathClass uint8

const (
	clsFile   pathClass = iota + 1 // an existing file inside the root: must work
	clsDir                         // an existing directory inside the root: must work
	clsNew                         // a name inside the root that does not exist yet: must work
	clsEscape                      // leads out of the root: reading through it must fail
	clsAny                         // a literal odd name, a loop, an absolute link: any answer but no escape
)

type pathCase struct {
	path    string
	cls     pathClass
	content string // clsFile: what the file holds
}

// The traversal tree. The sentinels live outside the root: a sibling
// folder "outside" that ".." would reach, and a far folder only absolute
// links name. Every sentinel entry is 7777 bytes long (files), dated
// 1999-09-09 and holds a random marker; "only-outside.txt" and
// "far-secret.txt" exist nowhere in the root. Inside the root, decoys
// named like the sentinels catch the paths that ".." clamps to the root.
const (
	sentinelSize = 7777
	insideText   = "inside file\n"
	decoyText    = "decoy\n"
)

var sentinelTime = time.Date(1999, 9, 9, 9, 9, 9, 0, time.UTC)

// traversalTree is the root's content, rebuilt after every case that
// changed it: folders end in "/", links are "name -> target" ($OUT, $FAR
// and $ROOT stand for the absolute folders), files "name=content".
var traversalTree = []string{
	"file.txt=" + insideText,
	"dir/",
	"dir/a.txt=a\n",
	"dir/sub/",
	"dir/sub/b.txt=b\n",
	"outside/",
	"outside/sentinel-file.txt=" + decoyText,
	"outside/sentinel-dir/",
	"outside/sentinel-dir/sentinel-inner.txt=" + decoyText,
	// links that stay inside
	"link-file -> file.txt",
	"link-dir -> dir",
	"link-sub -> dir/sub",
	"link-up-in -> dir/../file.txt",
	"link-dotdot-in -> dir/sub/../../file.txt",
	"dir/link-parent -> ..",
	"dir/link-sibling -> ../dir/sub",
	"chain1 -> chain2",
	"chain2 -> chain3",
	"chain3 -> file.txt",
	"chain-dir1 -> chain-dir2",
	"chain-dir2 -> link-dir",
	"abs-in -> $ROOT/file.txt",
	// links that leave
	"esc-abs-file -> $OUT/sentinel-file.txt",
	"esc-abs-dir -> $OUT",
	"esc-rel-file -> ../outside/sentinel-file.txt",
	"esc-rel-dir -> ../outside",
	"esc-deep -> dir/../../outside",
	"dir/esc-up2 -> ../../outside",
	"dir/sub/esc-up3 -> ../../../outside/sentinel-file.txt",
	"esc-chain1 -> esc-chain2",
	"esc-chain2 -> esc-chain3",
	"esc-chain3 -> ../outside",
	"esc-via-in -> dir/link-parent/../outside",
	"esc-root -> /",
	"esc-etc -> /etc/passwd",
	"esc-proc -> /proc/self/root",
	"esc-far -> $FAR/far-secret.txt",
	"esc-far-dir -> $FAR",
	"esc-dangling -> ../outside/new-file.txt",
	"esc-dangling-abs -> $OUT/new-abs.txt",
	"esc-dangling-dir -> ../outside/new-dir",
	"loop -> loop",
	"loop-a -> loop-b",
	"loop-b -> loop-a",
}

// escapingLinks are the links above that leave the root, by what they name.
var (
	escFileLinks = []string{"esc-abs-file", "esc-rel-file", "dir/sub/esc-up3", "esc-etc", "esc-far",
		"esc-dangling", "esc-dangling-abs"}
	escDirLinks = []string{"esc-abs-dir", "esc-rel-dir", "esc-deep", "dir/esc-up2", "esc-chain1", "esc-chain3",
		"esc-via-in", "esc-root", "esc-proc", "esc-far-dir", "esc-dangling-dir"}
)

// traversalPaths generates the path cases.
func traversalPaths(out, far string) []pathCase {
	var cs []pathCase
	add := func(cls pathClass, content string, paths ...string) {
		for _, p := range paths {
			cs = append(cs, pathCase{path: p, cls: cls, content: content})
		}
	}
	// Inside, plainly or through "..", "/./", "//" and links that stay in.
	add(clsFile, insideText, "/file.txt", "file.txt", "/./file.txt", "//file.txt", "/dir/../file.txt",
		"/../file.txt", "/dir/sub/../../file.txt", "/link-file", "/link-up-in", "/link-dotdot-in", "/chain1",
		"/dir/link-parent/file.txt", "/link-dir/link-parent/file.txt", "/dir/link-parent/dir/link-parent/file.txt",
		"/./dir/.././/file.txt", "/dir/./sub/./../../file.txt")
	add(clsFile, "a\n", "/dir/a.txt", "/link-dir/a.txt", "/chain-dir1/a.txt", "/link-sub/../dir/a.txt",
		"/dir/link-parent/link-dir/a.txt", "dir//a.txt")
	add(clsFile, "b\n", "/link-sub/b.txt", "/dir/link-sibling/b.txt", "/link-dir/sub/b.txt", "/chain-dir1/sub/b.txt")
	add(clsFile, decoyText, "/../outside/sentinel-file.txt", "/../../outside/sentinel-file.txt",
		"../outside/sentinel-dir/sentinel-inner.txt", "/dir/../../outside/sentinel-file.txt",
		"/dir/sub/../../../outside/sentinel-file.txt", "/outside/sentinel-file.txt")
	add(clsDir, "", "/", "", ".", "/.", "/..", "/../..", "/dir", "/dir/", "/link-dir", "/link-sub", "/dir/link-parent",
		"/chain-dir1", "/dir/sub/../..", "/outside", "/../outside", "/../../outside/sentinel-dir",
		"/dir/link-parent/dir/link-parent")
	// ".." is resolved in the FTP path before any link: "/link-sub/../a.txt" is "/a.txt".
	add(clsNew, "", "/link-sub/../a.txt", "/new.txt", "/dir/new.txt", "/link-dir/new.txt", "/../new.txt", "/dir/link-parent/new.txt",
		"/chain-dir1/new.txt", "/../outside/new-file.txt", "/link-sub/new.txt")
	for n := 1; n <= 8; n++ {
		up := strings.Repeat("../", n)
		add(clsFile, insideText, up+"file.txt", "/"+up+"file.txt", strings.Repeat("dir/../", n)+"file.txt")
		add(clsFile, "a\n", "/"+up+"dir/a.txt")
		add(clsFile, decoyText, up+"outside/sentinel-file.txt")
		add(clsDir, "", strings.TrimSuffix(strings.Repeat("/..", n), "/"))
	}
	add(clsFile, insideText, strings.Repeat("../", 5000)+"file.txt")

	// Through links that leave the root, to files and folders.
	for _, l := range escFileLinks {
		add(clsEscape, "", "/"+l, l, "/./"+l, "/dir/../"+l)
	}
	for _, l := range escDirLinks {
		add(clsEscape, "", "/"+l, "/"+l+"/", "/"+l+"/.", "/"+l+"/sentinel-file.txt", "/"+l+"/only-outside.txt",
			"/"+l+"/sentinel-dir", "/"+l+"/sentinel-dir/sentinel-inner.txt", "/"+l+"/new.txt",
			"/"+l+"/far-secret.txt", "/"+l+"/etc/passwd")
	}
	add(clsEscape, "", "/link-dir/esc-up2", "/link-dir/esc-up2/sentinel-file.txt", "/dir/link-parent/esc-rel-dir",
		"/chain-dir1/esc-up2/only-outside.txt", "/link-sub/esc-up3", "/esc-chain2/sentinel-dir")

	// Literal names that only look like traversal, absolute host paths
	// (clamped into the root), odd bytes without NUL, loops, an absolute
	// link that points inside.
	add(clsAny, "",
		out+"/sentinel-file.txt", out, out+"/only-outside.txt", far+"/far-secret.txt", far,
		"/etc/passwd", "/proc/self/root/etc/passwd", "/proc/self/cwd", "/dev/null",
		"%2e%2e/outside/sentinel-file.txt", "%2e%2e%2foutside%2fsentinel-file.txt", "..%2f..%2foutside",
		"..%5c..%5coutside", `..\..\outside\sentinel-file.txt`, `\..\outside`, "%252e%252e%252foutside",
		"..%c0%af..%c0%afoutside", "..%00/outside", "....//outside/sentinel-file.txt", ".../outside", "..;/outside",
		"/..;/..;/outside", "\uff0e\uff0e/outside", "\u2025/outside", ".%2e/outside", "%2e./outside",
		"\xc0\xae\xc0\xae/outside", "\xc0\xae\xc0\xae/\xc0\xae\xc0\xae/outside/sentinel-file.txt",
		"\xff\xfe", "\x01\x02\x7f", "a\rb", "a\nb", "\t..\t/outside", " .. / .. /outside", ".. ", " ..", "~",
		"~root", "$HOME", "*", "?", "[a-z]*", "-la", "-R /", "file.txt/", "file.txt/.", "file.txt/..",
		"/esc-rel-dir/..", "/esc-abs-dir/../file.txt", "/esc-far-dir/..", "/loop", "/loop/x", "/loop-a",
		"/loop-b/x", "/abs-in", strings.Repeat("n", 300), strings.Repeat("d/", 2000)+"x",
		strings.Repeat("\xe2\x80\xae", 20)+"txt.exe")
	return cs
}

// operations every path goes through: each ReqFile operation (RNFR/RNTO
// with the path on either side), STAT <path> and each transfer kind.
type traversalOp struct {
	name    string
	file    *protocol.ReqFile // set: a ReqFile with Path (or Path2 when to)
	to      bool              // the path is the rename's target
	stat    bool              // ReqStatList
	kind    protocol.XferKind // a transfer
	changes bool              // may change the root's tree
}

var traversalOps = []traversalOp{
	{name: "stat", file: &protocol.ReqFile{Op: protocol.OpStat}},
	{name: "rename-check", file: &protocol.ReqFile{Op: protocol.OpRenameCheck}},
	{name: "statlist", stat: true},
	{name: "RETR", kind: protocol.XferRetr},
	{name: "LIST", kind: protocol.XferList},
	{name: "NLST", kind: protocol.XferNlst},
	{name: "MLSD", kind: protocol.XferMlsd},
	{name: "mkdir", file: &protocol.ReqFile{Op: protocol.OpMkdir}, changes: true},
	{name: "rmdir", file: &protocol.ReqFile{Op: protocol.OpRmdir}, changes: true},
	{name: "delete", file: &protocol.ReqFile{Op: protocol.OpDelete}, changes: true},
	{name: "rename-from", file: &protocol.ReqFile{Op: protocol.OpRename, Path2: "/renamed"}, changes: true},
	{name: "rename-to", file: &protocol.ReqFile{Op: protocol.OpRename, Path: "/dir/a.txt"}, to: true, changes: true},
	{name: "chmod", file: &protocol.ReqFile{Op: protocol.OpChmod, Mode: 0o700}, changes: true},
	{name: "chtimes", file: &protocol.ReqFile{Op: protocol.OpSetTime, Time: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)}, changes: true},
	{name: "STOR", kind: protocol.XferStor, changes: true},
	{name: "APPE", kind: protocol.XferAppe, changes: true},
	{name: "STOU", kind: protocol.XferStou, changes: true},
}

// demands says, by class, which operations must work and which must fail
// on such a path; the others may go either way. On the root itself,
// rename, removal and RNFR must fail.
var demands = map[pathClass]struct{ work, fail []string }{
	clsFile: {
		work: []string{"stat", "rename-check", "statlist", "RETR", "LIST", "NLST", "delete", "rename-from",
			"rename-to", "chmod", "chtimes", "STOR", "APPE"},
		fail: []string{"MLSD", "STOU", "mkdir", "rmdir"},
	},
	clsDir: {
		work: []string{"stat", "statlist", "LIST", "NLST", "MLSD", "chmod", "chtimes", "STOU"},
		fail: []string{"RETR", "STOR", "APPE", "mkdir"},
	},
	clsNew: {
		work: []string{"mkdir", "STOR", "APPE", "rename-to"},
		fail: []string{"stat", "rename-check", "statlist", "RETR", "LIST", "NLST", "MLSD", "rmdir", "delete",
			"rename-from", "chmod", "chtimes", "STOU"},
	},
	// Reading or changing what the path names must fail; acting on a last
	// link itself (DELE, RNFR, RNTO or STOR onto it) stays inside.
	clsEscape: {
		fail: []string{"stat", "statlist", "RETR", "LIST", "NLST", "MLSD", "chmod", "chtimes", "APPE", "STOU"},
	},
}

var rootChanges = []string{"rename-check", "rename-from", "rename-to", "rmdir", "delete"}

// mustWork reports whether op must work, or must fail, on a path of
// class c (isRoot: the path is the root itself).
func mustWork(c pathClass, op traversalOp, isRoot bool) (work, fail bool) {
	if c == clsDir && isRoot && slices.Contains(rootChanges, op.name) {
		return false, true
	}
	d := demands[c]
	return slices.Contains(d.work, op.name), slices.Contains(d.fail, op.name)
}

// sentinel watches the folders outside the root with inotify: any event
// there (open, read, write, attribute change, create, delete, move) is a
// touch from outside the root.
type sentinel struct {
	fd    int
	paths map[int32]string
	base  int32 // the root's parent: only changes of its entries count
}

func newSentinel(t *testing.T, base string, dirs ...string) *sentinel {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	s := &sentinel{fd: fd, paths: map[int32]string{}}
	t.Cleanup(func() { unix.Close(fd) })
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, de fs.DirEntry, err error) error {
			if err != nil || !de.IsDir() {
				return err
			}
			wd, err := unix.InotifyAddWatch(fd, p, unix.IN_ALL_EVENTS)
			s.paths[int32(wd)] = p
			return err
		})
		mustOK(t, err)
	}
	// The root's parent sees the root itself opened all the time; only
	// entries appearing, vanishing or changing there count.
	wd, err := unix.InotifyAddWatch(fd, base, unix.IN_CREATE|unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_MOVED_TO|unix.IN_MODIFY|unix.IN_ATTRIB)
	mustOK(t, err)
	s.base = int32(wd)
	s.paths[s.base] = base
	return s
}

// events returns the events since the last call, as "path/name mask".
func (s *sentinel) events() []string {
	var evs []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(s.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if n <= 0 || err != nil {
			return evs
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)], "\x00"))
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Wd == s.base && name == "root" {
				continue
			}
			evs = append(evs, fmt.Sprintf("%s/%s %#x", s.paths[ev.Wd], name, ev.Mask))
		}
	}
}

// snapshotTree records every entry under the dirs (and the single files)
// by type, mode, size, time, link target and content hash; skip (the
// root) is left out.
func snapshotTree(t *testing.T, skip string, paths ...string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p == skip {
				return filepath.SkipDir
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			v := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				l, _ := os.Readlink(p)
				v += " -> " + l
			case fi.Mode().IsRegular():
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				h := sha256.Sum256(b)
				v += " " + hex.EncodeToString(h[:])
			}
			snap[p] = v
			return nil
		})
		mustOK(t, err)
	}
	return snap
}

// buildTree empties root and makes traversalTree in it.
func buildTree(t *testing.T, root, out, far string) {
	t.Helper()
	des, err := os.ReadDir(root)
	mustOK(t, err)
	for _, de := range des {
		mustOK(t, os.RemoveAll(filepath.Join(root, de.Name())))
	}
	mustOK(t, os.Chmod(root, 0o755)) // "chmod /" is allowed
	for _, e := range traversalTree {
		switch {
		case strings.Contains(e, " -> "):
			name, target, _ := strings.Cut(e, " -> ")
			target = strings.NewReplacer("$OUT", out, "$FAR", far, "$ROOT", root).Replace(target)
			mustOK(t, os.Symlink(target, filepath.Join(root, name)))
		case strings.HasSuffix(e, "/"):
			mustOK(t, os.Mkdir(filepath.Join(root, e), 0o755))
		default:
			name, body, _ := strings.Cut(e, "=")
			mustOK(t, os.WriteFile(filepath.Join(root, name), []byte(body), 0o644))
		}
	}
}

// fingerprint describes every entry of the tree under root without
// reading a file: a case changed the tree when it differs.
func fingerprint(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		l, _ := os.Readlink(p)
		fmt.Fprintf(&b, "%q %v %d %d %q\n", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano(), l)
		return nil
	})
	mustOK(t, err)
	return b.String()
}

// TestTraversalBattery sends every generated path through every storage
// operation and transfer kind, on a fresh tree whenever the previous case
// changed it, and checks that nothing outside the root was
// opened, read, created, changed or deleted (inotify on the sentinel
// folders, snapshots before and after), that no answer carries anything
// from outside, that no temporary upload file stays behind, and that the
// paths naming something inside the root work.
func TestTraversalBattery(t *testing.T) {
	base := t.TempDir()
	root, out := filepath.Join(base, "root"), filepath.Join(base, "outside")
	far := filepath.Join(t.TempDir(), "far")
	marker := "SENTINEL-" + randomHex()
	for _, d := range []string{root, out, filepath.Join(out, "sentinel-dir"), filepath.Join(out, "sentinel-dir", "deeper"), far} {
		mustOK(t, os.MkdirAll(d, 0o755))
	}
	body := []byte(marker + "\n" + strings.Repeat("s", sentinelSize-len(marker)-1))
	for _, f := range []string{"sentinel-file.txt", "only-outside.txt", "sentinel-dir/sentinel-inner.txt",
		"sentinel-dir/deeper/x.txt"} {
		mustOK(t, os.WriteFile(filepath.Join(out, f), body, 0o644))
	}
	mustOK(t, os.WriteFile(filepath.Join(far, "far-secret.txt"), body, 0o644))
	for _, d := range []string{out, far} {
		filepath.WalkDir(d, func(p string, _ fs.DirEntry, _ error) error {
			return os.Chtimes(p, sentinelTime, sentinelTime)
		})
	}
	buildTree(t, root, out, far)
	pristine := fingerprint(t, root)
	e := newEnvIn(t, root, nil)
	check, err := os.OpenRoot(root)
	mustOK(t, err)
	defer check.Close()

	watched := []string{out, far, base, "/etc/passwd"}
	before := snapshotTree(t, root, watched...)
	sent := newSentinel(t, base, out, far)
	sent.events() // those of setting the watches up

	// leak reports what in an answer came from outside the root.
	leak := func(b []byte) string {
		s := string(b)
		for _, w := range []string{marker, "only-outside", "far-secret", "1999", "7777", "root:x:0:0"} {
			if strings.Contains(s, w) {
				return w
			}
		}
		for _, l := range strings.Split(s, "\r\n") {
			for _, sys := range []string{"proc", "sys", "boot", "usr", "etc", "bin"} {
				if l == sys || strings.HasSuffix(l, " "+sys) || strings.HasSuffix(l, "; "+sys) {
					return "a listing of the host's /: " + l
				}
			}
		}
		return ""
	}
	leakInfo := func(fi protocol.FileInfo) string {
		if fi.Size == sentinelSize || fi.ModTime.Year() == 1999 {
			return fmt.Sprintf("the facts of a sentinel: %+v", fi)
		}
		return ""
	}

	// run performs one operation on p and returns what it answered (data,
	// listing lines or facts) and its error.
	run := func(op traversalOp, p, upload string) ([]byte, *protocol.FileInfo, error) {
		switch {
		case op.file != nil:
			r := *op.file
			if op.to {
				r.Path2 = p
			} else {
				r.Path = p
			}
			ev := e.op(r)
			return nil, &ev.Info, ev.Err
		case op.stat:
			e.do(protocol.ReqStatList{Path: p})
			ev := expect[protocol.EvStatList](t, e.ev)
			return ev.Lines, nil, ev.Err
		}
		c := dialFrom(t, "127.0.0.1", e.pasv())
		c.SetDeadline(time.Now().Add(wait))
		e.do(protocol.ReqTransfer{Kind: op.kind, Path: p, Flags: protocol.ListAll})
		got := make(chan []byte, 1)
		go func() {
			if op.changes {
				c.Write([]byte(upload))
				c.Close()
				got <- nil
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			got <- b
		}()
		for {
			switch ev := e.ev.next(t).(type) {
			case protocol.EvTransferStart:
			case protocol.EvTransferDone:
				return <-got, nil, ev.Err
			default:
				t.Fatalf("unexpected event %#v", ev)
			}
		}
	}

	cases := traversalPaths(out, far)
	var tried, escapes, failures int
	dirty := false
	for _, pc := range cases {
		for _, op := range traversalOps {
			if dirty && fingerprint(t, root) != pristine {
				buildTree(t, root, out, far)
				pristine = fingerprint(t, root)
			}
			dirty = false
			tried++
			what := fmt.Sprintf("case %d: %s %.80q", tried, op.name, pc.path)
			// Letters only: no digits that the leak check looks for.
			upload := "UPLOAD " + strings.Map(func(r rune) rune { return 'a' + r - '0' }, fmt.Sprint(tried)) + "\n"
			data, info, err := run(op, pc.path, upload)
			dirty = op.changes
			escapedBefore := escapes
			escaped := func(format string, args ...any) {
				if escapes == escapedBefore {
					escapes++
				}
				t.Errorf("ESCAPE %s: %s", what, fmt.Sprintf(format, args...))
			}
			if w := leak(data); w != "" {
				escaped("the answer holds %q", w)
			}
			if info != nil && err == nil {
				if w := leakInfo(*info); w != "" {
					escaped("%s", w)
				}
			}
			if evs := sent.events(); len(evs) > 0 {
				escaped("outside the root: %q", evs)
			}
			if tf := tempFiles(t, root); len(tf) > 0 {
				failures++
				t.Errorf("%s: temporary files left: %q (%v)", what, tf, err)
			}

			rel := relPath(pc.path)
			work, fail := mustWork(pc.cls, op, rel == ".")
			switch {
			case work && err != nil:
				failures++
				t.Errorf("%s: must work: %v", what, err)
				continue
			case fail && err == nil:
				failures++
				t.Errorf("%s: must fail, but succeeded", what)
				continue
			case !work:
				continue
			}
			// It worked; check it did the right thing inside the root.
			var want string
			switch {
			case op.name == "RETR":
				if string(data) != pc.content {
					failures++
					t.Errorf("%s: got %q, want %q", what, data, pc.content)
				}
			case op.name == "stat" && pc.cls == clsFile && info.Size != int64(len(pc.content)):
				failures++
				t.Errorf("%s: size %d, want %d", what, info.Size, len(pc.content))
			case op.name == "STOR":
				want = upload
			case op.name == "APPE":
				want = pc.content + upload
			}
			if want != "" {
				if b, err := check.ReadFile(rel); err != nil || string(b) != want {
					failures++
					t.Errorf("%s: the file now holds %q (%v), want %q", what, b, err, want)
				}
			}
		}
	}

	if after := snapshotTree(t, root, watched...); !maps.Equal(before, after) {
		escapes++
		for p, v := range after {
			if before[p] != v {
				t.Errorf("ESCAPE: %s changed: %q → %q", p, before[p], v)
			}
		}
		for p := range before {
			if _, ok := after[p]; !ok {
				t.Errorf("ESCAPE: %s vanished", p)
			}
		}
	}
	if n := e.srv.Transfers(); n != 0 {
		t.Errorf("Transfers() = %d at the end", n)
	}
	t.Logf("traversal battery: %d cases tried (%d paths × %d operations): %d escapes, %d other failures",
		tried, len(cases), len(traversalOps), escapes, failures)
}
