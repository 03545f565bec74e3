// End-to-end tests of storage safety: a full disk (a tmpfs the test mounts) gets 452 and loses nothing; the atomic_uploads setting.
//go:build linux

package main

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of size (e.g. "1m") on a fresh folder and
// unmounts it at the end of the test, after the server registered later
// has stopped. It skips the test when it cannot (mounting needs root).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("mounting a tmpfs (mount -t tmpfs -o size=%s) needs root; skipped", size)
	}
	dir := t.TempDir()
	if err := unix.Mount("rftpd-test", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size="+size+",mode=0755"); err != nil {
		t.Skipf("mount -t tmpfs -o size=%s %s failed (%v); skipped", size, dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Logf("unmount %s: %v; detaching it", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// uploadTemps lists the temporary files of atomic uploads under dir.
func uploadTemps(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".rftpd-upload.") {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// sendBackground writes data on d and closes it from another goroutine:
// the server may stop reading at any point. The returned channel is
// closed when the writer is done.
func sendBackground(d net.Conn, data []byte) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.SetWriteDeadline(time.Now().Add(clientTimeout))
		d.Write(data) // fails once the server gives up: expected
		d.Close()
	}()
	return done
}

// A 2 MiB upload onto a 1 MiB file system gets 452 after its 150; the old
// file, the free space and the session are as they were.
func TestStorageDiskFull(t *testing.T) {
	root := mountTmpfs(t, "1m")
	users := writeAccounts(t, []account{
		{name: "writer", pass: writerPass, root: root, perms: []string{"read", "write", "delete", "rename", "mkdir"}},
	})
	old := randomBytes(71, 64<<10)
	putFile(t, filepath.Join(root, "keep.bin"), string(old))
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		t.Fatal(err)
	}
	free := st.Bavail
	addr := startServer(t, "-users", users)
	c := dial(t, addr)
	c.login("writer", writerPass)
	c.cmd("TYPE I", 200)
	big := randomBytes(72, 2<<20)

	for _, verb := range []string{"STOR keep.bin", "STOR new.bin", "STOU"} {
		d := c.pasv()
		c.cmd(verb, 150)
		sent := sendBackground(d, big)
		if r := c.read(); r.code != 452 {
			t.Errorf("%s of 2 MiB onto a 1 MiB disk: got %q, want 452", verb, r)
		}
		<-sent
		checkFile(t, filepath.Join(root, "keep.bin"), old)
		if names, _ := readDirNames(root); len(names) != 1 {
			t.Errorf("after %s the disk holds %q, want only keep.bin", verb, names)
		}
		if tmp := uploadTemps(t, root); len(tmp) > 0 {
			t.Errorf("after %s temporary files remain: %q", verb, tmp)
		}
		if err := unix.Statfs(root, &st); err != nil || st.Bavail != free {
			t.Errorf("after %s %d blocks free, %d before (%v)", verb, st.Bavail, free, err)
		}
	}

	// The session goes on.
	c.cmd("NOOP", 200)
	d := c.pasv()
	c.cmd("STOR small.txt", 150)
	writeAllClose(t, d, []byte("this fits\n"))
	c.expect(226)
	checkFile(t, filepath.Join(root, "small.txt"), []byte("this fits\n"))
	checkBytes(t, "RETR keep.bin after the full disk", c.retr("keep.bin"), old)
	c.cmd("SIZE keep.bin", 213)
}

// atomic_uploads: on by default (and when set), an aborted STOR leaves the
// old file; set to false, STOR writes in place and the aborted upload's
// part replaces it. Neither leaves a temporary file.
func TestAtomicUploadsSetting(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		atomic       bool
	}{
		{"default", "", true},
		{"on", "atomic_uploads = true\n", true},
		{"off", "atomic_uploads = false\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.config != "" {
				args = configFile(t, tc.config)
			}
			s := startStd(t, args...)
			old := "old contents\n"
			target := filepath.Join(s.writer, "keep.txt")
			putFile(t, target, old)
			c := dial(t, s.addr)
			c.login("writer", writerPass)
			c.cmd("TYPE I", 200)
			d := c.pasv()
			c.cmd("STOR keep.txt", 150)
			part := randomBytes(73, 1<<20)
			d.SetWriteDeadline(time.Now().Add(clientTimeout))
			if _, err := d.Write(part); err != nil {
				t.Fatal(err)
			}
			// Wait until the server has written the part somewhere.
			deadline := time.Now().Add(clientTimeout)
			for {
				var size int64
				filepath.WalkDir(s.writer, func(p string, e fs.DirEntry, err error) error {
					if fi, ierr := os.Lstat(p); err == nil && ierr == nil && fi.Mode().IsRegular() {
						size = max(size, fi.Size())
					}
					return nil
				})
				if size >= int64(len(part)) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the server stored %d of %d bytes", size, len(part))
				}
				time.Sleep(5 * time.Millisecond)
			}
			c.write([]byte("\xff\xf4\xff\xf2ABOR\r\n"))
			c.expect(426)
			c.expect(226)
			d.Close()
			if tc.atomic {
				checkFile(t, target, []byte(old))
			} else {
				checkFile(t, target, part)
			}
			if tmp := uploadTemps(t, s.writer); len(tmp) > 0 {
				t.Errorf("temporary files remain: %q", tmp)
			}
			c.cmd("NOOP", 200)
		})
	}
}
