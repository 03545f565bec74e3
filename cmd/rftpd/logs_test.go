// Tests of the xferlog line format and the log file that reopens.
package main

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

func TestAppendXferlog(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.Local)
	for _, c := range []struct {
		name string
		rec  dtp.TransferRecord
		want string
	}{
		{"download, under a second counts as 1",
			dtp.TransferRecord{Client: netip.MustParseAddrPort("127.0.0.9:4000"), User: "bob", Kind: protocol.XferRetr, Path: "/pub/a.bin", Bytes: 1234, Duration: 300 * time.Millisecond},
			"Wed Mar  4 05:06:07 2026 1 127.0.0.9 1234 /pub/a.bin b _ o r bob ftp 0 * c\n"},
		{"anonymous ASCII upload, aborted, rounded seconds",
			dtp.TransferRecord{Client: netip.MustParseAddrPort("[::ffff:10.0.0.1]:21"), User: "anonymous", Anonymous: true, Kind: protocol.XferStor, ASCII: true, Path: "/in/x.txt", Bytes: 10, Duration: 2600 * time.Millisecond, Err: protocol.ErrAborted},
			"Wed Mar  4 05:06:07 2026 3 10.0.0.1 10 /in/x.txt a _ i a anonymous ftp 0 * i\n"},
		{"spaces and control characters in names, IPv6",
			dtp.TransferRecord{Client: netip.MustParseAddrPort("[2001:db8::1]:5"), User: "a b", Kind: protocol.XferAppe, Path: "/my file\tx\x7f.txt", Err: errors.New("disk full")},
			"Wed Mar  4 05:06:07 2026 1 2001:db8::1 0 /my_file_x_.txt b _ i r a_b ftp 0 * i\n"},
		{"STOU, empty user",
			dtp.TransferRecord{Client: netip.MustParseAddrPort("127.0.0.1:1"), Kind: protocol.XferStou, Path: "/d/unique.1", Bytes: 5, Duration: 90 * time.Second},
			"Wed Mar  4 05:06:07 2026 90 127.0.0.1 5 /d/unique.1 b _ i r _ ftp 0 * c\n"},
	} {
		if got := string(appendXferlog(nil, c.rec, now)); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

// Reopen switches to a new file of the same name; on failure the old file
// stays in use.
func TestLogFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	l, err := openLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write([]byte("one\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("two\n")) // still the renamed file
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("three\n"))
	if err := os.Rename(dir, dir+"-gone"); err != nil { // the folder vanishes: Reopen fails
		t.Fatal(err)
	}
	defer os.Rename(dir+"-gone", dir)
	if err := l.Reopen(); err == nil {
		t.Fatal("Reopen succeeded with its folder gone")
	}
	l.Write([]byte("four\n"))
	os.Rename(dir+"-gone", dir)
	for f, want := range map[string]string{path + ".1": "one\ntwo\n", path: "three\nfour\n"} {
		b, err := os.ReadFile(f)
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", f, b, err, want)
		}
	}
}
