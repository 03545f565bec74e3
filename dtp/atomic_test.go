// Tests of atomic uploads: temporary files, commits, aborts, concurrent STORs, in-place APPE and REST.
package dtp

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// another logs a second session of user "u" into e's server, with its own
// collector.
func (e *env) another() *env {
	e.t.Helper()
	o := &env{t: e.t, dir: e.dir, srv: e.srv, acc: e.acc, ev: newCollector()}
	o.sess = e.srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
	e.t.Cleanup(func() { e.srv.CloseSession(o.sess) })
	o.do(protocol.ReqLogin{User: "u", Pass: "secret"})
	if ev := expect[protocol.EvLogin](e.t, o.ev); !ev.OK {
		e.t.Fatalf("login: %#v", ev)
	}
	return o
}

// startUpload starts a passive upload and returns the client's data
// connection once the server has posted EvTransferStart.
func (e *env) startUpload(req protocol.ReqTransfer) (*net.TCPConn, protocol.EvTransferStart) {
	e.t.Helper()
	c := dialFrom(e.t, "127.0.0.1", e.pasv())
	c.SetDeadline(time.Now().Add(wait))
	e.do(req)
	return c, expect[protocol.EvTransferStart](e.t, e.ev)
}

// waitProgress waits until the transfer has moved at least n bytes.
func waitProgress(t *testing.T, st protocol.EvTransferStart, n int64) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for st.Progress() < n {
		if time.Now().After(deadline) {
			t.Fatalf("progress %d, want %d", st.Progress(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// tempFiles lists the temporary upload files under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if isTempName(d.Name()) {
			rel, _ := filepath.Rel(dir, p)
			found = append(found, rel)
		}
		return nil
	})
	mustOK(t, err)
	return found
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	if f := tempFiles(t, dir); len(f) > 0 {
		t.Fatalf("temporary files left behind: %q", f)
	}
}

func mustContent(t *testing.T, e *env, name string, want []byte) {
	t.Helper()
	if got := e.read(name); !bytes.Equal(got, want) {
		t.Fatalf("%s holds %d bytes (%.20q...), want %d bytes (%.20q...)", name, len(got), got, len(want), want)
	}
}

// A STOR writes a hidden temporary file next to the target, which stays
// as it was until the upload is complete and is then replaced whole.
func TestAtomicStorReplaces(t *testing.T) {
	e := newEnv(t, nil)
	old := []byte("old contents")
	e.write("f.bin", old)
	mustOK(t, os.Chmod(filepath.Join(e.dir, "f.bin"), 0o600))
	data := randomBytes(3<<20, 21)

	c, st := e.startUpload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/f.bin"})
	_, err := c.Write(data[:1<<20])
	mustOK(t, err)
	waitProgress(t, st, 1<<20)
	mustContent(t, e, "f.bin", old)
	if tf := tempFiles(t, e.dir); len(tf) != 1 || !strings.HasPrefix(tf[0], tempPrefix) {
		t.Fatalf("temporary files during the upload: %q", tf)
	} else if inst, ok := tempInstance(tf[0]); !ok || inst != e.srv.instance {
		t.Fatalf("temporary file %q, want %s<instance %s>.<12 hex digits>", tf[0], tempPrefix, e.srv.instance)
	}
	// No listing shows the temporary file, not even with -a or MLSD.
	o := e.another()
	for _, kind := range []protocol.XferKind{protocol.XferList, protocol.XferNlst, protocol.XferMlsd} {
		l := strings.Join(o.listing(kind, "/", protocol.ListAll), "\n")
		if strings.Contains(l, tempPrefix) || !strings.Contains(l, "f.bin") {
			t.Fatalf("listing %d during an upload:\n%s", kind, l)
		}
	}
	o.do(protocol.ReqStatList{Path: "/"})
	if ev := expect[protocol.EvStatList](t, o.ev); ev.Err != nil || bytes.Contains(ev.Lines, []byte(tempPrefix)) {
		t.Fatalf("STAT listing during an upload: %q %v", ev.Lines, ev.Err)
	}

	_, err = c.Write(data[1<<20:])
	mustOK(t, err)
	c.Close()
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustOK(t, done.Err)
	if done.Bytes != int64(len(data)) {
		t.Fatalf("done after %d bytes", done.Bytes)
	}
	mustContent(t, e, "f.bin", data)
	if fi, err := os.Stat(filepath.Join(e.dir, "f.bin")); err != nil || fi.Mode() != 0o600 {
		t.Fatalf("the new file's mode is %v (%v), want the old file's 0600", fi.Mode(), err)
	}
	noTempFiles(t, e.dir)

	// Mode 0000 is kept too; only root may write such a file at all (for
	// anyone else the STOR is refused, as writing in place would be).
	e.write("locked", []byte("x"))
	mustOK(t, os.Chmod(filepath.Join(e.dir, "locked"), 0))
	_, done = e.uploadFailing(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/locked"}, []byte("y"))
	if os.Geteuid() == 0 {
		mustOK(t, done.Err)
		if fi, _ := os.Stat(filepath.Join(e.dir, "locked")); fi.Mode() != 0 {
			t.Fatalf("locked has mode %v after STOR, want 0000", fi.Mode())
		}
	} else {
		mustErr(t, done.Err, protocol.ErrPermission)
	}

	// A new name, a sub-directory and TYPE A work the same way.
	e.write("sub/keep", nil)
	for _, tc := range []struct {
		req  protocol.ReqTransfer
		name string
		want string
	}{
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/new.bin"}, "new.bin", "fresh"},
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/sub/../sub/n.txt"}, "sub/n.txt", "in sub"},
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/sub/n.txt", ASCII: true}, "sub/n.txt", "a\nb\n"},
	} {
		body := tc.want
		if tc.req.ASCII {
			body = strings.ReplaceAll(body, "\n", "\r\n")
		}
		_, done := e.upload(tc.req, []byte(body))
		mustOK(t, done.Err)
		mustContent(t, e, tc.name, []byte(tc.want))
		if fi, _ := os.Stat(filepath.Join(e.dir, tc.name)); fi.Mode().Perm()&0o600 != 0o600 {
			t.Fatalf("%s has mode %v", tc.name, fi.Mode())
		}
	}
	noTempFiles(t, e.dir)
}

// An ABOR mid-STOR leaves the old file as it was and no temporary file.
func TestAtomicStorAbort(t *testing.T) {
	e := newEnv(t, nil)
	old := randomBytes(100_000, 22)
	e.write("keep.bin", old)
	c, st := e.startUpload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"})
	_, err := c.Write(randomBytes(1<<20, 23))
	mustOK(t, err)
	waitProgress(t, st, 1<<20)
	e.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
	mustContent(t, e, "keep.bin", old)
	noTempFiles(t, e.dir)
	if n := e.srv.Transfers(); n != 0 {
		t.Fatalf("Transfers() = %d", n)
	}
}

// A client that vanishes mid-upload (its data connection reset, or its
// control connection gone) leaves the old file and no temporary file.
func TestAtomicStorDisconnect(t *testing.T) {
	e := newEnv(t, nil)
	old := randomBytes(50_000, 24)
	e.write("keep.bin", old)

	c, st := e.startUpload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"})
	c.Write(randomBytes(300_000, 25))
	waitProgress(t, st, 300_000)
	c.SetLinger(0)
	c.Close() // RST
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustErr(t, done.Err, protocol.ErrDataConn)
	mustContent(t, e, "keep.bin", old)
	noTempFiles(t, e.dir)

	o := e.another()
	c, st = o.startUpload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"})
	c.Write(randomBytes(300_000, 26))
	waitProgress(t, st, 300_000)
	e.srv.CloseSession(o.sess) // the control connection is gone
	mustErr(t, expect[protocol.EvTransferDone](t, o.ev).Err, protocol.ErrAborted)
	mustContent(t, e, "keep.bin", old)
	noTempFiles(t, e.dir)
	if n := e.srv.Transfers(); n != 0 {
		t.Fatalf("Transfers() = %d", n)
	}
}

// An ABOR that arrives after the data but before the rename wins: the
// old file stays.
func TestAtomicAbortBeforeCommit(t *testing.T) {
	held := make(chan struct{})
	release := make(chan struct{})
	cfg := DefaultConfig()
	cfg.OpHook = func(op string) error {
		if op == "commit" {
			held <- struct{}{}
			<-release
		}
		return nil
	}
	e := newEnv(t, &cfg)
	e.write("keep.bin", []byte("old"))
	c, _ := e.startUpload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"})
	c.Write([]byte("new"))
	c.Close()
	select {
	case <-held:
	case <-time.After(wait):
		t.Fatal("the upload never reached its commit")
	}
	e.do(protocol.ReqAbort{})
	close(release)
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
	mustContent(t, e, "keep.bin", []byte("old"))
	noTempFiles(t, e.dir)
}

// Concurrent STORs of one name each put a whole file in place; the last
// rename wins. The commits are released one at a time so that the order
// of the renames is known.
func TestAtomicConcurrentStor(t *testing.T) {
	const n = 8
	gate := make(chan struct{})
	var waiting atomic.Int32
	cfg := DefaultConfig()
	cfg.OpHook = func(op string) error {
		if op == "commit" {
			waiting.Add(1)
			<-gate
		}
		return nil
	}
	e := newEnv(t, &cfg)
	e.write("same.bin", []byte("old"))
	type result struct {
		i   int
		err error
	}
	results := make(chan result, n)
	contents := make([][]byte, n)
	for i := range n {
		contents[i] = randomBytes(256<<10+i*4097, uint64(100+i))
		o := e.another()
		c := dialFrom(t, "127.0.0.1", o.pasv())
		o.do(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/same.bin"})
		go func() {
			c.SetDeadline(time.Now().Add(wait))
			c.Write(contents[i])
			c.Close()
		}()
		go func() {
			for ev := range o.ev.ch {
				if d, ok := ev.(protocol.EvTransferDone); ok {
					results <- result{i, d.Err}
					return
				}
			}
		}()
	}
	deadline := time.Now().Add(wait)
	for waiting.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d uploads reached their commit", waiting.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
	mustContent(t, e, "same.bin", []byte("old"))
	if tf := tempFiles(t, e.dir); len(tf) != n {
		t.Fatalf("%d temporary files for %d uploads: %q", len(tf), n, tf)
	}
	for k := range n {
		gate <- struct{}{}
		var r result
		select {
		case r = <-results:
		case <-time.After(wait):
			t.Fatalf("no upload finished after commit %d", k)
		}
		mustOK(t, r.err)
		mustContent(t, e, "same.bin", contents[r.i])
		if tf := tempFiles(t, e.dir); len(tf) != n-k-1 {
			t.Fatalf("after %d commits: temporary files %q", k+1, tf)
		}
	}

	// Without the gate: many at once, each whole, one of them last.
	const m = 16
	cfg = DefaultConfig()
	f := newEnv(t, &cfg)
	contents = make([][]byte, m)
	errs := make(chan error, m)
	for i := range m {
		contents[i] = randomBytes(128<<10+i*511, uint64(200+i))
		o := f.another()
		c := dialFrom(t, "127.0.0.1", o.pasv())
		o.do(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/same.bin"})
		go func() {
			c.SetDeadline(time.Now().Add(wait))
			c.Write(contents[i])
			c.Close()
		}()
		go func() {
			for ev := range o.ev.ch {
				if d, ok := ev.(protocol.EvTransferDone); ok {
					errs <- d.Err
					return
				}
			}
		}()
	}
	for range m {
		select {
		case err := <-errs:
			mustOK(t, err)
		case <-time.After(wait):
			t.Fatal("an upload did not finish")
		}
	}
	got := f.read("same.bin")
	whole := false
	for _, c := range contents {
		whole = whole || bytes.Equal(got, c)
	}
	if !whole {
		t.Fatalf("same.bin (%d bytes) is none of the uploads", len(got))
	}
	noTempFiles(t, f.dir)
}

// APPE and REST+STOR write in place even with atomic uploads: what
// arrived before an abort stays, and no temporary file is made.
func TestInPlaceAppeAndRest(t *testing.T) {
	e := newEnv(t, nil)
	old := []byte("0123456789")
	for _, tc := range []struct {
		name string
		req  protocol.ReqTransfer
		keep int // bytes of the old file in front of the new data
	}{
		{"appe.bin", protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "appe.bin"}, 10},
		{"rest.bin", protocol.ReqTransfer{Kind: protocol.XferStor, Path: "rest.bin", Offset: 4}, 4},
	} {
		e.write(tc.name, old)
		part := randomBytes(200_000, 27)
		c, st := e.startUpload(tc.req)
		c.Write(part)
		waitProgress(t, st, int64(len(part)))
		if tf := tempFiles(t, e.dir); len(tf) != 0 {
			t.Fatalf("%s: temporary files %q", tc.name, tf)
		}
		e.do(protocol.ReqAbort{})
		mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
		mustContent(t, e, tc.name, append(append([]byte{}, old[:tc.keep]...), part...))
	}
}

// Without AtomicUploads a STOR truncates and writes in place, as before.
func TestAtomicUploadsOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AtomicUploads = false
	e := newEnv(t, &cfg)
	e.write("f.bin", []byte("old contents that are longer"))
	part := randomBytes(100_000, 28)
	c, st := e.startUpload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f.bin"})
	c.Write(part)
	waitProgress(t, st, int64(len(part)))
	if tf := tempFiles(t, e.dir); len(tf) != 0 {
		t.Fatalf("temporary files %q", tf)
	}
	mustContent(t, e, "f.bin", part)
	e.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
	mustContent(t, e, "f.bin", part)

	// A failed STOU keeps its partial file too.
	e.write("in/keep", nil)
	c, st = e.startUpload(protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/in"})
	c.Write([]byte("partial"))
	waitProgress(t, st, 7)
	e.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
	if got := string(e.read("in/" + st.Name)); got != "partial" {
		t.Fatalf("STOU file holds %q", got)
	}
}

// With atomic uploads a STOU that fails removes the file it made.
func TestStouFailureRemovesFile(t *testing.T) {
	e := newEnv(t, nil)
	e.write("in/keep", nil)
	c, st := e.startUpload(protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/in"})
	c.Write([]byte("partial"))
	waitProgress(t, st, 7)
	if _, err := os.Stat(filepath.Join(e.dir, "in", st.Name)); err != nil {
		t.Fatalf("STOU writes its file directly: %v", err)
	}
	e.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
	if _, err := os.Stat(filepath.Join(e.dir, "in", st.Name)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the failed STOU's file is still there: %v", err)
	}
}

// A symlink (inside the root) at the target's name is replaced by the new
// file, not written through.
func TestAtomicSymlinkTarget(t *testing.T) {
	e := newEnv(t, nil)
	e.write("target.txt", []byte("target"))
	mustOK(t, os.Symlink("target.txt", filepath.Join(e.dir, "link")))
	_, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/link"}, []byte("new"))
	mustOK(t, done.Err)
	mustContent(t, e, "link", []byte("new"))
	mustContent(t, e, "target.txt", []byte("target"))
	if fi, err := os.Lstat(filepath.Join(e.dir, "link")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("link after STOR: %v %v", fi.Mode(), err)
	}
}
