// End-to-end cases of unusable path names: too long for the file system, or a symlink loop.
package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A path component longer than NAME_MAX (255 bytes) is the client's mistake:
// it gets 550 (or 553 for a name that cannot be created), not 451
// "local error in processing".
func TestOverlongName(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	long := strings.Repeat("n", 300)
	for _, verb := range []string{"CWD", "SIZE", "MDTM", "MLST", "DELE", "RNFR", "RMD"} {
		c.send(verb + " " + long)
		if r := c.read(); r.code != 550 {
			t.Errorf("%s of a 300-byte name: got %q, want 550", verb, r)
		}
	}
	c.send("MKD " + long)
	if r := c.read(); r.code != 550 && r.code != 553 {
		t.Errorf("MKD of a 300-byte name: got %q, want 550 or 553", r)
	}
	d := c.pasv()
	c.send("STOR " + long)
	if r := c.read(); r.code != 550 && r.code != 553 {
		t.Errorf("STOR of a 300-byte name: got %q, want 550 or 553", r)
	}
	d.Close()
	c.cmd("NOOP", 200)
}

// A symbolic-link loop (ELOOP) is a path that cannot be resolved: 550, not
// 451 "local error in processing".
func TestSymlinkLoop(t *testing.T) {
	s := startStd(t)
	if err := os.Symlink("loop", filepath.Join(s.writer, "loop")); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	for _, verb := range []string{"CWD", "SIZE", "MDTM", "MLST"} {
		c.send(verb + " loop")
		if r := c.read(); r.code != 550 {
			t.Errorf("%s of a symlink loop: got %q, want 550", verb, r)
		}
	}
	d := c.pasv()
	c.send("RETR loop")
	if r := c.read(); r.code != 550 {
		t.Errorf("RETR of a symlink loop: got %q, want 550", r)
	}
	d.Close()
	c.cmd("NOOP", 200)
}
