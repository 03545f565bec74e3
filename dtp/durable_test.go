// Tests of durable uploads: fdatasync before the rename and the 226, fsync of the folder after it, and what a failed sync leaves.
package dtp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/rftpd/rftpd/protocol"
)

// opLog records the storage operations OpHook sees, and fails one of them.
type opLog struct {
	mu   sync.Mutex
	ops  []string
	fail string // operation to fail with err
	err  error
}

func (l *opLog) hook(op string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, op)
	if op == l.fail {
		return l.err
	}
	return nil
}

// take returns the operations since the last call, "write" runs folded
// into one.
func (l *opLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ops []string
	for _, op := range l.ops {
		if op == "write" && len(ops) > 0 && ops[len(ops)-1] == "write" {
			continue
		}
		ops = append(ops, op)
	}
	l.ops = nil
	return ops
}

// The syncs come after the last write, the data's before the rename and
// the folder's after it; in place, the data's alone, and the folder's too
// when the upload made a new file. Without DurableUploads there are none.
func TestDurableOrder(t *testing.T) {
	for _, tc := range []struct {
		durable, atomic bool
		req             protocol.ReqTransfer
		exists          bool
		want            []string
	}{
		{true, true, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f"}, true, []string{"open", "write", "sync", "commit", "syncdir"}},
		{true, true, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "sub/new"}, false, []string{"open", "write", "sync", "commit", "syncdir"}},
		{true, true, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f", ASCII: true}, true, []string{"open", "write", "sync", "commit", "syncdir"}},
		{true, true, protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "f"}, true, []string{"open", "write", "sync"}},
		{true, true, protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "sub/new"}, false, []string{"open", "write", "sync", "syncdir"}},
		{true, true, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f", Offset: 2}, true, []string{"open", "write", "sync"}},
		{true, true, protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/sub"}, false, []string{"open", "write", "sync", "syncdir"}},
		{true, false, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f"}, true, []string{"open", "write", "sync"}},
		{true, false, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "sub/new"}, false, []string{"open", "write", "sync", "syncdir"}},
		{false, true, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f"}, true, []string{"open", "write", "commit"}},
		{false, true, protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "f"}, true, []string{"open", "write"}},
		{false, false, protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/sub"}, false, []string{"open", "write"}},
	} {
		log := &opLog{}
		cfg := DefaultConfig()
		cfg.DurableUploads, cfg.AtomicUploads, cfg.OpHook = tc.durable, tc.atomic, log.hook
		e := newEnv(t, &cfg)
		e.write("sub/keep", nil)
		if tc.exists {
			e.write(tc.req.Path, []byte("old"))
		}
		log.take()
		_, done := e.upload(tc.req, randomBytes(300_000, 63))
		mustOK(t, done.Err)
		if got := log.take(); !slices.Equal(got, tc.want) {
			t.Errorf("durable %v, atomic %v, %+v: operations %q, want %q", tc.durable, tc.atomic, tc.req, got, tc.want)
		}
	}
}

// A failed fdatasync fails the upload with a local error (451) after its
// 150: an atomic upload's target keeps its old contents and the
// temporary file goes; a full disk reported by the sync (NFS) is 452. A
// failed sync of the folder after the rename is an error too, though the
// new file is in place.
func TestDurableSyncFails(t *testing.T) {
	log := &opLog{}
	cfg := DefaultConfig()
	cfg.OpHook = log.hook
	e := newEnv(t, &cfg)
	old := []byte("old contents")
	e.write("f", old)
	data := randomBytes(200_000, 64)
	for _, tc := range []struct {
		op   string
		err  error
		want error
	}{
		{"sync", syscall.EIO, syscall.EIO},
		{"sync", syscall.ENOSPC, protocol.ErrNoSpace},
	} {
		log.fail, log.err = tc.op, tc.err
		started, done := e.uploadFailing(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f"}, data)
		if !started {
			t.Fatal("the upload did not start")
		}
		mustErr(t, done.Err, tc.want)
		for _, not := range []error{protocol.ErrDataConn, protocol.ErrAborted, protocol.ErrQuota} {
			if errors.Is(done.Err, not) {
				t.Fatalf("%v is not a storage error", done.Err)
			}
		}
		if tc.want == syscall.EIO && errors.Is(done.Err, protocol.ErrNoSpace) {
			t.Fatalf("EIO became %v", done.Err)
		}
		if ops := log.take(); slices.Contains(ops, "commit") {
			t.Fatalf("the upload went on to its commit after a failed sync: %q", ops)
		}
		mustContent(t, e, "f", old)
		noTempFiles(t, e.dir)
	}

	// STOR of a new file: nothing is left.
	log.fail, log.err = "sync", syscall.EIO
	_, done := e.uploadFailing(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "new"}, data)
	mustErr(t, done.Err, syscall.EIO)
	if _, err := os.Stat(filepath.Join(e.dir, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("new: %v", err)
	}

	// In place (APPE) the data stays where it was written.
	_, done = e.uploadFailing(protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "f"}, data)
	mustErr(t, done.Err, syscall.EIO)
	mustContent(t, e, "f", append(slices.Clone(old), data...))

	// The folder's sync, after the rename.
	e.write("g", old)
	log.fail, log.err = "syncdir", syscall.EIO
	log.take()
	_, done = e.uploadFailing(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "g"}, data)
	mustErr(t, done.Err, syscall.EIO)
	if ops := log.take(); !slices.Equal(ops[len(ops)-3:], []string{"sync", "commit", "syncdir"}) {
		t.Fatalf("operations %q", ops)
	}
	mustContent(t, e, "g", data)
	noTempFiles(t, e.dir)

	// Once the fault is gone, uploads work.
	log.fail = ""
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f"}, data)
	mustOK(t, done.Err)
	mustContent(t, e, "f", data)
}
