// End-to-end tests of REST offsets that do not fit and of FIFOs in a served tree, against the real binary.
//go:build linux

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// REST past the end: RETR, STOR and APPE get 554 with RFC 3659's text, and
// nothing is created or changed; at the end, RETR sends nothing.
func TestRawRESTPastTheEnd(t *testing.T) {
	s := startStd(t)
	putFile(t, filepath.Join(s.writer, "a.bin"), "0123456789")
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	c.cmd("TYPE I", 200)
	for _, tc := range []struct{ rest, verb string }{
		{"REST 11", "RETR a.bin"},
		{"REST 1099511627776", "STOR a.bin"},
		{"REST 11", "APPE a.bin"},
		{"REST 1", "STOR missing.bin"},
	} {
		c.pasv()
		c.cmd(tc.rest, 350)
		if r := c.cmd(tc.verb, 554); r.String() != "554 Requested action not taken: invalid REST parameter." {
			t.Errorf("%s, %s: %q", tc.rest, tc.verb, r)
		}
	}
	checkFile(t, filepath.Join(s.writer, "a.bin"), []byte("0123456789"))
	if _, err := os.Stat(filepath.Join(s.writer, "missing.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing.bin: %v", err)
	}
	d := c.pasv()
	c.cmd("REST 10", 350)
	c.cmd("RETR a.bin", 150)
	if b := readAll(t, d); len(b) != 0 {
		t.Errorf("REST 10 RETR of 10 bytes sent %q", b)
	}
	c.expect(226)
}

// A FIFO is listed as one (LIST p, MLSD type=OS.unix=fifo without r, w or
// a) and RETR, STOR and APPE of it get 550 at once.
func TestRawFIFO(t *testing.T) {
	s := startStd(t)
	if err := unix.Mkfifo(filepath.Join(s.writer, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	d := c.pasv()
	c.cmd("LIST", 150)
	list := string(readAll(t, d))
	c.expect(226)
	if !strings.Contains(list, "\r\nprw-r--r-- ") && !strings.HasPrefix(list, "prw-r--r-- ") {
		t.Errorf("LIST:\n%s", list)
	}
	d = c.pasv()
	c.cmd("MLSD", 150)
	mlsd := string(readAll(t, d))
	c.expect(226)
	if !strings.Contains(mlsd, "type=OS.unix=fifo;") || !strings.Contains(mlsd, ";perm=df;unix.mode=0644; pipe\r\n") {
		t.Errorf("MLSD:\n%s", mlsd)
	}
	if r := c.cmd("MLST pipe", 250); !strings.Contains(r.String(), "type=OS.unix=fifo;") {
		t.Errorf("MLST: %q", r)
	}
	for _, verb := range []string{"RETR pipe", "STOR pipe", "APPE pipe"} {
		c.pasv()
		c.cmd(verb, 550)
	}
	if fi, err := os.Lstat(filepath.Join(s.writer, "pipe")); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("pipe is now %v (%v)", fi.Mode(), err)
	}
}
