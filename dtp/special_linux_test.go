// Tests of FIFOs, sockets and devices in a served tree: listed with their own type, never opened for a transfer.
package dtp

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/protocol"
)

// specialTree makes a FIFO, a Unix socket and (as root) a character
// device like /dev/null in e's root, next to a regular file.
func specialTree(t *testing.T, e *env) (names []string) {
	t.Helper()
	e.write("plain.txt", []byte("plain"))
	mustOK(t, unix.Mkfifo(filepath.Join(e.dir, "fifo"), 0o644))
	ln, err := net.Listen("unix", filepath.Join(e.dir, "sock"))
	mustOK(t, err)
	t.Cleanup(func() { ln.Close() })
	names = []string{"fifo", "sock"}
	if os.Geteuid() == 0 {
		mustOK(t, unix.Mknod(filepath.Join(e.dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
		names = append(names, "null")
	}
	return names
}

// LIST shows the type letter, MLSD the OS.unix type with no a, r or w
// permission, and a stat (MLST, SIZE) reports the type.
func TestSpecialFilesListed(t *testing.T) {
	e := newEnv(t, nil)
	names := specialTree(t, e)
	want := map[string]struct{ letter, fact string }{
		"fifo":      {"p", "type=OS.unix=fifo;modify="},
		"sock":      {"s", "type=OS.unix=socket;modify="},
		"null":      {"c", "type=OS.unix=chardev;modify="},
		"plain.txt": {"-", "type=file;size=5;modify="},
	}
	list := e.listing(protocol.XferList, "/", 0)
	mlsd := e.listing(protocol.XferMlsd, "/", 0)
	for _, name := range append(names, "plain.txt") {
		w := want[name]
		inList, inMlsd := false, false
		for _, l := range list {
			if strings.HasSuffix(l, " "+name) {
				inList = true
				if !strings.HasPrefix(l, w.letter) {
					t.Errorf("LIST line of %s: %q, want type letter %s", name, l, w.letter)
				}
			}
		}
		for _, l := range mlsd {
			if strings.HasSuffix(l, "; "+name) {
				inMlsd = true
				perm := l[strings.Index(l, "perm=")+5:]
				perm = perm[:strings.IndexByte(perm, ';')]
				special := name != "plain.txt"
				switch {
				case !strings.HasPrefix(l, w.fact):
					t.Errorf("MLSD line of %s: %q, want it to start %q", name, l, w.fact)
				case special && perm != "df":
					t.Errorf("MLSD perm of %s: %q, want df (no a, r, w)", name, perm)
				case !special && perm != "adfrw":
					t.Errorf("MLSD perm of %s: %q, want adfrw", name, perm)
				}
			}
		}
		if !inList || !inMlsd {
			t.Errorf("%s is missing from LIST %q or MLSD %q", name, list, mlsd)
		}
		e.do(protocol.ReqFile{Op: protocol.OpStat, Path: "/" + name})
		ev := expect[protocol.EvFile](t, e.ev)
		mustOK(t, ev.Err)
		if special := ev.Info.Mode&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice) != 0; special != (name != "plain.txt") {
			t.Errorf("stat of %s: mode %v", name, ev.Info.Mode)
		}
	}
}

// RETR, STOR (atomic or in place), APPE and REST+STOR of a FIFO, socket or
// device are refused before the data connection, without blocking on
// the FIFO, and leave the special file as it was.
func TestSpecialFilesRefused(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.AtomicUploads = atomic
		e := newEnv(t, &cfg)
		names := specialTree(t, e)
		// A reader on the FIFO: an open for writing would now succeed
		// instead of failing with ENXIO.
		r, err := os.OpenFile(filepath.Join(e.dir, "fifo"), os.O_RDONLY|unix.O_NONBLOCK, 0)
		mustOK(t, err)
		t.Cleanup(func() { r.Close() })
		for _, name := range names {
			for _, req := range []protocol.ReqTransfer{
				{Kind: protocol.XferRetr, Path: name},
				{Kind: protocol.XferRetr, Path: name, ASCII: true},
				{Kind: protocol.XferStor, Path: name},
				{Kind: protocol.XferAppe, Path: name},
				{Kind: protocol.XferStor, Path: name, Offset: 1},
			} {
				e.pasv()
				e.do(req) // a blocked open would leave this without an event: expect fails
				done := expect[protocol.EvTransferDone](t, e.ev)
				mustErr(t, done.Err, protocol.ErrPermission)
				fi, err := os.Lstat(filepath.Join(e.dir, name))
				if err != nil || fi.Mode()&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice) == 0 {
					t.Fatalf("atomic %v, %+v: %s is now %v (%v)", atomic, req, name, fi.Mode(), err)
				}
			}
		}
		var b [1]byte
		if n, _ := r.Read(b[:]); n != 0 {
			t.Fatalf("something was written into the FIFO")
		}
		noTempFiles(t, e.dir)
	}
}
