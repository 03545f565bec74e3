// Tests of storage faults injected through Config.OpHook: ENOSPC and EDQUOT before, during and at the end of uploads.
package dtp

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// fault fails the storage operation op with err after it has passed
// after times.
type fault struct {
	mu    sync.Mutex
	op    string
	after int
	err   error
	calls int
}

func (f *fault) set(op string, after int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.op, f.after, f.err, f.calls = op, after, err, 0
}

func (f *fault) hook(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op != f.op {
		return nil
	}
	f.calls++
	if f.calls > f.after {
		return f.err
	}
	return nil
}

// uploadFailing sends data from another goroutine (the server may stop
// reading at any point) and returns whether the transfer started and how
// it ended.
func (e *env) uploadFailing(req protocol.ReqTransfer, data []byte) (bool, protocol.EvTransferDone) {
	e.t.Helper()
	c := dialFrom(e.t, "127.0.0.1", e.pasv())
	e.do(req)
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		c.SetDeadline(time.Now().Add(wait))
		c.Write(data)
		c.Close()
	}()
	started := false
	for {
		switch ev := e.ev.next(e.t).(type) {
		case protocol.EvTransferStart:
			started = true
		case protocol.EvTransferDone:
			<-wrote
			return started, ev
		default:
			e.t.Fatalf("unexpected event %#v", ev)
		}
	}
}

// dirNames lists the names in the folder rel of e's root.
func (e *env) dirNames(rel string) []string {
	e.t.Helper()
	des, err := os.ReadDir(filepath.Join(e.dir, rel))
	mustOK(e.t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestStorageFaultInjected(t *testing.T) {
	f := &fault{}
	cfg := DefaultConfig()
	cfg.OpHook = f.hook
	e := newEnv(t, &cfg)
	old := randomBytes(10_000, 41)
	e.write("keep.bin", old)
	e.write("in/x", nil)
	data := randomBytes(4<<20, 42)
	for _, tc := range []struct {
		what    string
		op      string
		after   int
		errno   error
		req     protocol.ReqTransfer
		started bool
		want    error
	}{
		{"disk full mid-STOR", "write", 2, syscall.ENOSPC, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"}, true, protocol.ErrNoSpace},
		{"quota mid-STOR", "write", 2, syscall.EDQUOT, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"}, true, protocol.ErrQuota},
		{"disk full mid-STOR, TYPE A", "write", 2, syscall.ENOSPC, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin", ASCII: true}, true, protocol.ErrNoSpace},
		{"disk full at the commit", "commit", 0, syscall.ENOSPC, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"}, true, protocol.ErrNoSpace},
		{"quota at the commit", "commit", 0, syscall.EDQUOT, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"}, true, protocol.ErrQuota},
		{"disk full mid-STOR of a new file", "write", 1, syscall.ENOSPC, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "new.bin"}, true, protocol.ErrNoSpace},
		{"disk full mid-STOU", "write", 1, syscall.ENOSPC, protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/in"}, true, protocol.ErrNoSpace},
		{"disk full at the open", "open", 0, syscall.ENOSPC, protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"}, false, protocol.ErrNoSpace},
		{"quota at the open", "open", 0, syscall.EDQUOT, protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/in"}, false, protocol.ErrQuota},
	} {
		f.set(tc.op, tc.after, tc.errno)
		started, done := e.uploadFailing(tc.req, data)
		if started != tc.started {
			t.Fatalf("%s: started %v, want %v", tc.what, started, tc.started)
		}
		mustErr(t, done.Err, tc.want)
		if errors.Is(done.Err, protocol.ErrDataConn) || errors.Is(done.Err, protocol.ErrAborted) {
			t.Fatalf("%s: %v is a storage error, not the data connection's", tc.what, done.Err)
		}
		mustContent(t, e, "keep.bin", old)
		if _, err := os.Stat(filepath.Join(e.dir, "new.bin")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: new.bin: %v", tc.what, err)
		}
		if names := e.dirNames("in"); len(names) != 1 {
			t.Fatalf("%s: in/ holds %q", tc.what, names)
		}
		noTempFiles(t, e.dir)
	}

	// APPE writes in place: what was written before the fault stays.
	f.set("write", 2, syscall.ENOSPC)
	started, done := e.uploadFailing(protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "keep.bin"}, data)
	if !started {
		t.Fatal("APPE did not start")
	}
	mustErr(t, done.Err, protocol.ErrNoSpace)
	got := e.read("keep.bin")
	if len(got) <= len(old) || !bytes.Equal(got, append(append([]byte{}, old...), data[:len(got)-len(old)]...)) {
		t.Fatalf("APPE cut short by a full disk left %d bytes", len(got))
	}

	// Once the fault is gone the session works as before.
	f.set("", 0, nil)
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"}, data)
	mustOK(t, done.Err)
	mustContent(t, e, "keep.bin", data)
}
