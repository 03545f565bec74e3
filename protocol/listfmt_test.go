// Tests of the listing line formats and permission names.
package protocol

import (
	"io/fs"
	"testing"
	"time"
)

func TestAppendLIST(t *testing.T) {
	now := time.Date(2024, 3, 4, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		fi   FileInfo
		want string
	}{
		{FileInfo{Name: "a.txt", Size: 1234, Mode: 0o644, ModTime: time.Date(2024, 3, 4, 12, 30, 0, 0, time.UTC)},
			"-rw-r--r-- 1 ftp ftp         1234 Mar 04 12:30 a.txt\r\n"},
		{FileInfo{Name: "old", Size: 0, Mode: fs.ModeDir | 0o755, ModTime: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)},
			"drwxr-xr-x 1 ftp ftp            0 Jan 02  2020 old\r\n"},
		{FileInfo{Name: "ln", Size: 7, Mode: fs.ModeSymlink | 0o777, ModTime: time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))},
			"lrwxrwxrwx 1 ftp ftp            7 Dec 31 23:00 ln\r\n"},
		{FileInfo{Name: "future", Size: 123456789012345, Mode: 0o600, ModTime: time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)},
			"-rw------- 1 ftp ftp 123456789012345 Mar 04  2025 future\r\n"},
	} {
		if got := string(AppendLIST(nil, c.fi, now)); got != c.want {
			t.Errorf("AppendLIST(%s) = %q, want %q", c.fi.Name, got, c.want)
		}
	}
}

func TestAppendNLST(t *testing.T) {
	if got := string(AppendNLST([]byte("x\r\n"), FileInfo{Name: "a b"})); got != "x\r\na b\r\n" {
		t.Errorf("AppendNLST = %q", got)
	}
}

func TestAppendFacts(t *testing.T) {
	mt := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	all := PermRead | PermWrite | PermDelete | PermRename | PermMkdir
	dir := FileInfo{Mode: fs.ModeDir | 0o750, ModTime: mt}
	for _, c := range []struct {
		fi    FileInfo
		kind  int
		perms Perm
		name  string
		want  string
	}{
		{FileInfo{Size: 12, Mode: 0o644, ModTime: mt}, FactFile, all, "a.txt",
			"type=file;size=12;modify=20240102030405;perm=adfrw;unix.mode=0644; a.txt"},
		{FileInfo{Size: 12, Mode: 0o644, ModTime: mt}, FactFile, PermRead, "a.txt",
			"type=file;size=12;modify=20240102030405;perm=r;unix.mode=0644; a.txt"},
		{dir, FactDir, all, "d", "type=dir;modify=20240102030405;perm=cdeflmp;unix.mode=0750; d"},
		{dir, FactCdir, PermRead, ".", "type=cdir;modify=20240102030405;perm=el;unix.mode=0750; ."},
		{dir, FactPdir, 0, "..", "type=pdir;modify=20240102030405;perm=e;unix.mode=0750; .."},
	} {
		if got := string(AppendFacts(nil, c.fi, c.kind, c.perms, c.name)); got != c.want {
			t.Errorf("AppendFacts(%s) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestPermNames(t *testing.T) {
	all := PermRead | PermWrite | PermDelete | PermRename | PermMkdir
	if got := all.String(); got != "read,write,delete,rename,mkdir" {
		t.Errorf("String = %q", got)
	}
	if got := Perm(0).String(); got != "" {
		t.Errorf("String of none = %q", got)
	}
	for _, name := range []string{"read", "write", "delete", "rename", "mkdir"} {
		p, ok := ParsePerm(name)
		if !ok || p.String() != name {
			t.Errorf("ParsePerm(%q) = %v, %v", name, p, ok)
		}
	}
	if _, ok := ParsePerm("admin"); ok {
		t.Error("ParsePerm accepted an unknown name")
	}
}
