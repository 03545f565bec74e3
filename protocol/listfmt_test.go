// Tests of the listing line formats and permission names.
package protocol

import (
	"io/fs"
	"math/rand/v2"
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
		// The link count: a folder with three subfolders, a file with a second name.
		{FileInfo{Name: "pub", Size: 4096, Mode: fs.ModeDir | 0o755, ModTime: now, Nlink: 5},
			"drwxr-xr-x 5 ftp ftp         4096 Mar 04 12:00 pub\r\n"},
		{FileInfo{Name: "twice", Size: 3, Mode: 0o644, ModTime: now, Nlink: 2},
			"-rw-r--r-- 2 ftp ftp            3 Mar 04 12:00 twice\r\n"},
		{FileInfo{Name: "many", Size: 3, Mode: 0o644, ModTime: now, Nlink: 65001},
			"-rw-r--r-- 65001 ftp ftp            3 Mar 04 12:00 many\r\n"},
		// Special files show their type as ls does.
		{FileInfo{Name: "fifo", Mode: fs.ModeNamedPipe | 0o644, ModTime: now},
			"prw-r--r-- 1 ftp ftp            0 Mar 04 12:00 fifo\r\n"},
		{FileInfo{Name: "sock", Mode: fs.ModeSocket | 0o755, ModTime: now},
			"srwxr-xr-x 1 ftp ftp            0 Mar 04 12:00 sock\r\n"},
		{FileInfo{Name: "null", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666, ModTime: now},
			"crw-rw-rw- 1 ftp ftp            0 Mar 04 12:00 null\r\n"},
		{FileInfo{Name: "sda", Mode: fs.ModeDevice | 0o660, ModTime: now},
			"brw-rw---- 1 ftp ftp            0 Mar 04 12:00 sda\r\n"},
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
		// Special files: their own type (RFC 3659 §7.5.1 OS.name=type), no
		// size, and only the permissions of the directory entry itself.
		{FileInfo{Mode: fs.ModeNamedPipe | 0o644, ModTime: mt}, FactFile, all, "fifo",
			"type=OS.unix=fifo;modify=20240102030405;perm=df;unix.mode=0644; fifo"},
		{FileInfo{Mode: fs.ModeNamedPipe | 0o644, ModTime: mt}, FactFile, PermRead | PermWrite, "fifo",
			"type=OS.unix=fifo;modify=20240102030405;perm=;unix.mode=0644; fifo"},
		{FileInfo{Mode: fs.ModeSocket | 0o755, ModTime: mt}, FactFile, all, "sock",
			"type=OS.unix=socket;modify=20240102030405;perm=df;unix.mode=0755; sock"},
		{FileInfo{Mode: fs.ModeDevice | fs.ModeCharDevice | 0o666, ModTime: mt}, FactFile, all, "null",
			"type=OS.unix=chardev;modify=20240102030405;perm=df;unix.mode=0666; null"},
		{FileInfo{Mode: fs.ModeDevice | 0o660, ModTime: mt}, FactFile, all, "sda",
			"type=OS.unix=blockdev;modify=20240102030405;perm=df;unix.mode=0660; sda"},
	} {
		if got := string(AppendFacts(nil, c.fi, c.kind, c.perms, AllFacts, c.name)); got != c.want {
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

// The hand-rolled date columns say what time's layouts say, over the years
// a file system may hold (negative and five-digit years included).
func TestListDatesMatchLayouts(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	times := []time.Time{
		now, now.Add(-182 * 24 * time.Hour), now.Add(-183 * 24 * time.Hour), now.Add(183 * 24 * time.Hour),
		time.Unix(0, 0), time.Unix(-1, 0), time.Date(999, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(10000, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(-5, 6, 7, 8, 9, 10, 0, time.UTC),
		time.Date(2026, 2, 3, 4, 5, 6, 0, time.FixedZone("x", 5*3600+1800)),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(r.Int64N(1<<36)-1<<35, 0))
	}
	for _, mt := range times {
		fi := FileInfo{Name: "a", Size: 7, ModTime: mt, Mode: 0o644}
		u := mt.UTC()
		layout := "Jan 02 15:04"
		if d := now.Sub(u); d > 182*24*time.Hour || d < -182*24*time.Hour {
			layout = "Jan 02  2006"
		}
		want := "-rw-r--r-- 1 ftp ftp            7 " + u.Format(layout) + " a\r\n"
		if got := string(AppendLIST(nil, fi, now)); got != want {
			t.Errorf("LIST of %v: %q, want %q", mt, got, want)
		}
		want = "type=file;size=7;modify=" + u.Format("20060102150405") + ";perm=r;unix.mode=0644; a"
		if got := string(AppendFacts(nil, fi, FactFile, PermRead, AllFacts, "a")); got != want {
			t.Errorf("facts of %v: %q, want %q", mt, got, want)
		}
	}
}
