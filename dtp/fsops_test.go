// Tests of storage operations: results, error mapping, confinement, permissions.
package dtp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

func (e *env) op(r protocol.ReqFile) protocol.EvFile {
	e.t.Helper()
	e.do(r)
	ev := expect[protocol.EvFile](e.t, e.ev)
	if ev.Op != r.Op {
		e.t.Fatalf("answer for op %d, want %d", ev.Op, r.Op)
	}
	return ev
}

func TestRelPath(t *testing.T) {
	for in, want := range map[string]string{
		"": ".", "/": ".", ".": ".", "..": ".", "/../..": ".", "a": "a", "/a/b/": "a/b",
		"/a/../../b": "b", "a//b": "a/b", "/./a/.": "a",
	} {
		if got := relPath(in); got != want {
			t.Errorf("relPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFileOps(t *testing.T) {
	e := newEnv(t, nil)
	e.write("a.txt", []byte("hello"))
	e.write("full/x", nil)

	ev := e.op(protocol.ReqFile{Op: protocol.OpStat, Path: "/a.txt"})
	mustOK(t, ev.Err)
	if ev.Info.Name != "a.txt" || ev.Info.Size != 5 || !ev.Info.Mode.IsRegular() {
		t.Fatalf("stat: %#v", ev.Info)
	}
	if ev := e.op(protocol.ReqFile{Op: protocol.OpStat, Path: "/"}); ev.Err != nil || ev.Info.Name != "/" || !ev.Info.Mode.IsDir() {
		t.Fatalf("stat /: %#v", ev)
	}
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpStat, Path: "/nope"}).Err, fs.ErrNotExist)
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpStat, Path: "/a.txt/x"}).Err, protocol.ErrNotDir)

	ev = e.op(protocol.ReqFile{Op: protocol.OpMkdir, Path: "/new"})
	if ev.Err != nil || ev.Info.Name != "new" || !ev.Info.Mode.IsDir() {
		t.Fatalf("mkdir: %#v", ev)
	}
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpMkdir, Path: "/new"}).Err, fs.ErrExist)
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpMkdir, Path: "/no/such"}).Err, fs.ErrNotExist)

	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpRmdir, Path: "/full"}).Err, protocol.ErrNotEmpty)
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpRmdir, Path: "/a.txt"}).Err, protocol.ErrNotDir)
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpRmdir, Path: "/"}).Err, protocol.ErrPermission)
	mustOK(t, e.op(protocol.ReqFile{Op: protocol.OpRmdir, Path: "/new"}).Err)

	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpDelete, Path: "/full"}).Err, protocol.ErrIsDir)
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpDelete, Path: "/"}).Err, protocol.ErrIsDir)
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpDelete, Path: "/gone"}).Err, fs.ErrNotExist)
	mustOK(t, e.op(protocol.ReqFile{Op: protocol.OpDelete, Path: "/full/x"}).Err)

	ev = e.op(protocol.ReqFile{Op: protocol.OpRenameCheck, Path: "/a.txt"})
	if ev.Err != nil || ev.Info.Size != 5 {
		t.Fatalf("rename check: %#v", ev)
	}
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpRenameCheck, Path: "/"}).Err, protocol.ErrPermission)
	mustOK(t, e.op(protocol.ReqFile{Op: protocol.OpRename, Path: "/a.txt", Path2: "/full/b.txt"}).Err)
	if string(e.read("full/b.txt")) != "hello" {
		t.Fatal("rename did not move the file")
	}
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpRename, Path: "/full/b.txt", Path2: "/"}).Err, protocol.ErrPermission)

	mustOK(t, e.op(protocol.ReqFile{Op: protocol.OpChmod, Path: "/full/b.txt", Mode: 0o4600}).Err)
	if fi, _ := os.Stat(filepath.Join(e.dir, "full/b.txt")); fi.Mode() != 0o600 {
		t.Fatalf("chmod gave %v (setuid must be dropped)", fi.Mode())
	}

	when := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	ev = e.op(protocol.ReqFile{Op: protocol.OpSetTime, Path: "/full/b.txt", Time: when})
	if ev.Err != nil || !ev.Info.ModTime.Equal(when) {
		t.Fatalf("set time: %#v", ev)
	}
}

// Paths and links that lead outside the root fail; nothing outside is touched.
func TestConfinement(t *testing.T) {
	e := newEnv(t, nil)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	mustOK(t, os.WriteFile(secret, []byte("s"), 0o644))
	mustOK(t, os.Symlink(outside, filepath.Join(e.dir, "abs")))
	rel, err := filepath.Rel(e.dir, outside)
	mustOK(t, err)
	mustOK(t, os.Symlink(rel, filepath.Join(e.dir, "rel")))
	mustOK(t, os.Symlink(secret, filepath.Join(e.dir, "file-link")))

	// ".." is clamped at the root: these name files inside it.
	mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpStat, Path: "/../" + filepath.Base(outside) + "/secret"}).Err, fs.ErrNotExist)

	for _, p := range []string{"/abs/secret", "/rel/secret", "/file-link", "/abs", "/rel/."} {
		mustErr(t, e.op(protocol.ReqFile{Op: protocol.OpStat, Path: p}).Err, protocol.ErrEscapes)
	}
	for _, r := range []protocol.ReqFile{
		{Op: protocol.OpDelete, Path: "/abs/secret"},
		{Op: protocol.OpChmod, Path: "/file-link", Mode: 0o777},
		{Op: protocol.OpSetTime, Path: "/rel/secret", Time: time.Unix(0, 0)},
		{Op: protocol.OpMkdir, Path: "/abs/newdir"},
		{Op: protocol.OpRename, Path: "/rel/secret", Path2: "/stolen"},
	} {
		if err := e.op(r).Err; err == nil {
			t.Fatalf("op %d on %s succeeded", r.Op, r.Path)
		}
	}
	// Deleting the link itself is fine: it is inside the root.
	mustOK(t, e.op(protocol.ReqFile{Op: protocol.OpDelete, Path: "/file-link"}).Err)

	fi, err := os.Stat(secret)
	mustOK(t, err)
	if fi.Mode() != 0o644 || fi.ModTime().Unix() == 0 {
		t.Fatal("the file outside the root changed")
	}
	if _, err := os.Stat(filepath.Join(outside, "newdir")); err == nil {
		t.Fatal("a directory was made outside the root")
	}

	// Transfers through escaping links fail before any data connection.
	for _, kind := range []protocol.XferKind{protocol.XferRetr, protocol.XferStor, protocol.XferList} {
		e.pasv()
		e.do(protocol.ReqTransfer{Kind: kind, Path: "/abs/secret"})
		mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrEscapes)
	}
}

func TestFileOpPermissions(t *testing.T) {
	e := newEnv(t, nil, "read")
	e.write("f", []byte("x"))
	e.write("d/x", nil)
	mustOK(t, e.op(protocol.ReqFile{Op: protocol.OpStat, Path: "/f"}).Err)
	changes := []protocol.ReqFile{
		{Op: protocol.OpMkdir, Path: "/m"},
		{Op: protocol.OpRmdir, Path: "/d"},
		{Op: protocol.OpDelete, Path: "/f"},
		{Op: protocol.OpRenameCheck, Path: "/f"},
		{Op: protocol.OpRename, Path: "/f", Path2: "/g"},
		{Op: protocol.OpChmod, Path: "/f", Mode: 0o600},
		{Op: protocol.OpSetTime, Path: "/f", Time: time.Unix(0, 0)},
	}
	for _, r := range changes {
		mustErr(t, e.op(r).Err, protocol.ErrPermission)
	}

	// Anonymous may change nothing, and the storage is untouched.
	acc := NewAccounts()
	mustOK(t, acc.SetAnonymous(e.dir))
	defer acc.Close()
	srv, err := New(DefaultConfig(), acc)
	mustOK(t, err)
	defer srv.Close()
	sess := srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
	c := newCollector()
	srv.Do(sess, protocol.ReqLogin{User: "ftp"}, c.post)
	if ev := expect[protocol.EvLogin](t, c); !ev.OK || !ev.Anonymous {
		t.Fatalf("anonymous login: %#v", ev)
	}
	// Even with every bit set, an anonymous identity changes nothing.
	sess.setIdentity(&identity{root: sess.identity().root, perms: 0xff, anon: true})
	for _, r := range changes {
		srv.Do(sess, r, c.post)
		mustErr(t, expect[protocol.EvFile](t, c).Err, protocol.ErrPermission)
	}
	srv.Do(sess, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/new"}, c.post)
	mustErr(t, expect[protocol.EvTransferDone](t, c).Err, protocol.ErrPermission)
	if _, err := os.Stat(filepath.Join(e.dir, "f")); err != nil {
		t.Fatal(err)
	}
}

func TestOpHook(t *testing.T) {
	var seen []string
	cfg := DefaultConfig()
	cfg.FSWorkers = 1
	cfg.OpHook = func(op string) error {
		seen = append(seen, op)
		if op == "delete" {
			return errors.New("disk on fire")
		}
		return nil
	}
	e := newEnv(t, &cfg)
	e.write("f", nil)
	mustOK(t, e.op(protocol.ReqFile{Op: protocol.OpStat, Path: "/f"}).Err)
	if err := e.op(protocol.ReqFile{Op: protocol.OpDelete, Path: "/f"}).Err; err == nil || err.Error() != "dtp: delete: disk on fire" {
		t.Fatalf("hook error: %v", err)
	}
	e.read("f")
	if len(seen) != 2 || seen[0] != "stat" || seen[1] != "delete" {
		t.Fatalf("hook saw %q", seen)
	}
}
