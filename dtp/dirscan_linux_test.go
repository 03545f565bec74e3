// Tests of the Linux directory scanner: the getdents64 parser and the
// fstatat fallback for systems without statx.
package dtp

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// scanBatchMax is the most entries one scanner batch holds: one getdents64
// buffer of them, 24 bytes the least each.
const scanBatchMax = dirScanBuf / 24

// TestDirScannerFstatat scans as on a kernel without statx.
func TestDirScannerFstatat(t *testing.T) {
	dir := t.TempDir()
	var want []string
	for i := range 1000 {
		name := fmt.Sprintf("f%03d-%s", i, strings.Repeat("x", 20))
		mustOK(t, os.WriteFile(filepath.Join(dir, name), make([]byte, i), 0o600))
		want = append(want, name)
	}
	mustOK(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	mustOK(t, os.Symlink("f001-"+strings.Repeat("x", 20), filepath.Join(dir, "link")))
	want = append(want, "sub", "link")
	noStatx.Store(true)
	defer noStatx.Store(false)
	checkScan(t, dir, want)
}

// TestDirentNames parses records as getdents64 returns them: . and ..
// and records with no inode are skipped, names end at their NUL.
func TestDirentNames(t *testing.T) {
	var buf []byte
	rec := func(ino uint64, name string) {
		nameOff := int(unsafe.Offsetof(unix.Dirent{}.Name))
		n := (nameOff + len(name) + 1 + 7) &^ 7
		r := make([]byte, n)
		binary.NativeEndian.PutUint64(r, ino)
		binary.NativeEndian.PutUint16(r[unsafe.Offsetof(unix.Dirent{}.Reclen):], uint16(n))
		copy(r[nameOff:], name)
		buf = append(buf, r...)
	}
	rec(1, ".")
	rec(2, "..")
	rec(3, "a")
	rec(0, "deleted")
	rec(4, "name-of-twenty-chars")
	rec(5, "1234567") // fills its record but for the NUL
	got := direntNames(buf, nil)
	if want := []string{"a", "name-of-twenty-chars", "1234567"}; !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
	// A record cut short ends the parse.
	if got := direntNames(buf[:len(buf)-3], nil); len(got) != 2 {
		t.Errorf("cut buffer: %q", got)
	}
}
