// Tests on a real, small file system (a tmpfs the test mounts): a full disk during uploads; special files as targets.
package dtp

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/protocol"
)

// mountTmpfs mounts a tmpfs of size (e.g. "1m") on a fresh folder and
// unmounts it at the end of the test. It skips the test when it cannot:
// mounting needs root (or CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("mounting a tmpfs (mount -t tmpfs -o size=%s) needs root; skipped", size)
	}
	dir := t.TempDir()
	if err := unix.Mount("rftpd-test", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size="+size+",mode=0755"); err != nil {
		t.Skipf("mount -t tmpfs -o size=%s %s failed (%v); skipped", size, dir, err)
	}
	// Registered after t.TempDir and before the server: it runs after
	// the server has closed its roots and before the folder is removed.
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Logf("unmount %s: %v; detaching it", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// freeBytes reports the free space of the file system holding dir.
func freeBytes(t *testing.T, dir string) uint64 {
	t.Helper()
	var st unix.Statfs_t
	mustOK(t, unix.Statfs(dir, &st))
	return st.Bavail * uint64(st.Bsize)
}

// Uploads bigger than a 1 MiB tmpfs fail with ErrNoSpace after they
// started (452 on the control connection); with atomic uploads they leave
// the old file and every byte of free space as it was.
func TestStorageDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	e := newEnvIn(t, dir, nil)
	old := randomBytes(64<<10, 51)
	e.write("keep.bin", old)
	e.write("in/x", nil)
	free := freeBytes(t, dir)
	big := randomBytes(2<<20, 52)
	for _, tc := range []struct {
		what string
		req  protocol.ReqTransfer
	}{
		{"STOR over a file", protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin"}},
		{"STOR of a new file", protocol.ReqTransfer{Kind: protocol.XferStor, Path: "new.bin"}},
		{"STOR in TYPE A", protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.bin", ASCII: true}},
		{"STOU", protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/in"}},
	} {
		started, done := e.uploadFailing(tc.req, big)
		if !started {
			t.Fatalf("%s: failed before it started: %v", tc.what, done.Err)
		}
		mustErr(t, done.Err, protocol.ErrNoSpace)
		mustContent(t, e, "keep.bin", old)
		if _, err := os.Stat(filepath.Join(dir, "new.bin")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: new.bin: %v", tc.what, err)
		}
		if names := e.dirNames("in"); len(names) != 1 {
			t.Fatalf("%s: in/ holds %q", tc.what, names)
		}
		noTempFiles(t, dir)
		if now := freeBytes(t, dir); now != free {
			t.Fatalf("%s: %d bytes free afterwards, %d before", tc.what, now, free)
		}
		t.Logf("%s: %v after %d bytes", tc.what, done.Err, done.Bytes)
	}

	// APPE writes in place: the part that fitted stays, to be resumed.
	started, done := e.uploadFailing(protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "keep.bin"}, big)
	if !started {
		t.Fatalf("APPE failed before it started: %v", done.Err)
	}
	mustErr(t, done.Err, protocol.ErrNoSpace)
	got := e.read("keep.bin")
	if len(got) <= len(old) || !bytes.Equal(got[:len(old)], old) || !bytes.Equal(got[len(old):], big[:len(got)-len(old)]) {
		t.Fatalf("APPE onto a full disk left %d bytes", len(got))
	}
	e.write("keep.bin", old)

	// The session still works.
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "small.txt"}, []byte("this fits"))
	mustOK(t, done.Err)
	mustContent(t, e, "small.txt", []byte("this fits"))
	data, _, rdone := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "keep.bin"})
	mustOK(t, rdone.Err)
	if !bytes.Equal(data, old) {
		t.Fatal("RETR after the full disk differs")
	}
}

// A FIFO (or another special file) as the target of an atomic STOR is
// refused before the data connection: it is never replaced by a file.
func TestAtomicSpecialTarget(t *testing.T) {
	e := newEnv(t, nil)
	mustOK(t, unix.Mkfifo(filepath.Join(e.dir, "fifo"), 0o644))
	e.pasv()
	start := time.Now()
	e.do(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/fifo"})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrPermission)
	if time.Since(start) > 5*time.Second {
		t.Fatal("opening the FIFO blocked")
	}
	if fi, err := os.Lstat(filepath.Join(e.dir, "fifo")); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("fifo is now %v (%v)", fi.Mode(), err)
	}
	noTempFiles(t, e.dir)
}
