// Tests that an atomic upload over a cached file drops the old file's pages before its data comes.
package dtp

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/protocol"
)

// resident reports the fraction of the file at path in the page cache.
func resident(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	mustOK(t, err)
	defer f.Close()
	fi, err := f.Stat()
	mustOK(t, err)
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	mustOK(t, err)
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(len(vec))
}

func TestAtomicUploadDropsOldCache(t *testing.T) {
	var st unix.Statfs_t
	dir := t.TempDir()
	mustOK(t, unix.Statfs(dir, &st))
	if st.Type == unix.TMPFS_MAGIC {
		t.Skip("tmpfs keeps its pages: nothing to drop")
	}
	var mu sync.Mutex
	during := -1.0
	cfg := DefaultConfig()
	cfg.OpHook = func(op string) error {
		mu.Lock()
		defer mu.Unlock()
		if op == "write" && during < 0 {
			during = resident(t, filepath.Join(dir, "big"))
		}
		return nil
	}
	e := newEnvIn(t, dir, &cfg)
	old := randomBytes(8<<20, 3)
	e.write("big", old)
	mustOK(t, unix.Fsync(int(mustOpen(t, filepath.Join(dir, "big")).Fd()))) // clean pages can be dropped
	e.read("big")                                                           // and are all cached
	if r := resident(t, filepath.Join(dir, "big")); r < 0.9 {
		t.Skipf("only %.0f%% of a file just read is cached here", 100*r)
	}
	_, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "big"}, []byte("new"))
	mustOK(t, done.Err)
	if during < 0 || during > 0.1 {
		t.Fatalf("%.0f%% of the old file was still cached when the upload's data came, want none", 100*during)
	}
	if got := string(e.read("big")); got != "new" {
		t.Fatalf("the upload left %q", got)
	}
}

// mustOpen opens path for reading; the test closes it at its end.
func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	mustOK(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}
