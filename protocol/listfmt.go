// Listing line formats shared by LIST, NLST, MLSD, MLST and STAT.
package protocol

import (
	"io/fs"
	"strconv"
	"time"
)

// AppendLIST appends fi as one `ls -l` line ending in CRLF, the form curl,
// lftp, wget and FileZilla parse. now decides between the "Jan 02 15:04" and
// "Jan 02  2006" date forms (six months, as ls does). The second column is
// the link count (fi.Nlink; 1 when unknown): a folder's is 2 plus its
// subfolders on most file systems.
//
//	-rw-r--r-- 1 ftp ftp         1234 Mar 04 12:30 a.txt
//	drwxr-xr-x 3 ftp ftp         4096 Mar 04 12:30 pub
func AppendLIST(b []byte, fi FileInfo, now time.Time) []byte {
	b = appendMode(b, fi.Mode)
	b = append(b, ' ')
	b = strconv.AppendUint(b, max(fi.Nlink, 1), 10)
	b = append(b, " ftp ftp "...)
	var digits [20]byte
	size := strconv.AppendInt(digits[:0], fi.Size, 10)
	for i := len(size); i < 12; i++ {
		b = append(b, ' ')
	}
	b = append(b, size...)
	b = append(b, ' ')
	t := fi.ModTime.UTC()
	year, month, day := t.Date()
	b = append(b, shortMonths[month-1]...)
	b = append(b, ' ')
	b = append2(b, day)
	if d := now.Sub(t); d > 182*24*time.Hour || d < -182*24*time.Hour {
		b = append(b, "  "...)
		if year >= 1000 && year <= 9999 {
			b = strconv.AppendInt(b, int64(year), 10) // "Jan 02  2006"
		} else {
			b = t.AppendFormat(b, "2006")
		}
	} else {
		hour, minute, _ := t.Clock()
		b = append(b, ' ')
		b = append2(b, hour)
		b = append(b, ':')
		b = append2(b, minute) // "Jan 02 15:04"
	}
	b = append(b, ' ')
	b = append(b, fi.Name...)
	return append(b, '\r', '\n')
}

var shortMonths = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// append2 appends n (0-99) as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendMode appends the ten-character ls mode column; its first letter
// is the type as ls shows it: - d l p (FIFO) s (socket) c b (character
// and block device).
func appendMode(b []byte, m fs.FileMode) []byte {
	switch {
	case m.IsDir():
		b = append(b, 'd')
	case m&fs.ModeSymlink != 0:
		b = append(b, 'l')
	case m&fs.ModeNamedPipe != 0:
		b = append(b, 'p')
	case m&fs.ModeSocket != 0:
		b = append(b, 's')
	case m&fs.ModeCharDevice != 0:
		b = append(b, 'c')
	case m&fs.ModeDevice != 0:
		b = append(b, 'b')
	default:
		b = append(b, '-')
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b = append(b, rwx[i])
		} else {
			b = append(b, '-')
		}
	}
	return b
}

// AppendNLST appends the name alone, CRLF-terminated.
func AppendNLST(b []byte, fi FileInfo) []byte {
	b = append(b, fi.Name...)
	return append(b, '\r', '\n')
}

// MLSx fact kinds for the type fact of MLSD entries.
const (
	FactFile = iota // type=file
	FactDir         // type=dir
	FactCdir        // type=cdir: the listed directory itself
	FactPdir        // type=pdir: its parent
)

// specialFile is the mode bits of files that are neither regular files,
// directories nor symlinks: FIFOs, sockets and devices. They are listed
// with their own type, never read or written.
const specialFile = fs.ModeNamedPipe | fs.ModeSocket | fs.ModeDevice | fs.ModeCharDevice

// specialType is the RFC 3659 §7.5.1 "OS.name=type" value of the type
// fact of a special file.
func specialType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "OS.unix=fifo"
	case m&fs.ModeSocket != 0:
		return "OS.unix=socket"
	case m&fs.ModeCharDevice != 0:
		return "OS.unix=chardev"
	}
	return "OS.unix=blockdev"
}

// Facts is a selection of the facts MLST and MLSD return (RFC 3659 §7.9,
// OPTS MLST).
type Facts uint8

const (
	FactType Facts = 1 << iota
	FactSize
	FactModify
	FactPerm
	FactUnixMode

	AllFacts = FactType | FactSize | FactModify | FactPerm | FactUnixMode
)

// factNames are the facts' names, in the order they are listed.
var factNames = [...]struct {
	f    Facts
	name string
}{{FactType, "type"}, {FactSize, "size"}, {FactModify, "modify"}, {FactPerm, "perm"}, {FactUnixMode, "unix.mode"}}

// AppendFacts appends the RFC 3659 facts of fi that show selects, followed
// by a space and name,
// without line ending: "type=file;size=12;modify=20240102030405;perm=adfrw;unix.mode=0644; name".
// kind overrides the type fact for cdir/pdir; perms decide the perm fact.
// A FIFO, socket or device has the type OS.unix=fifo, socket, chardev or
// blockdev, no size, and no a, r or w permission: it cannot be
// downloaded or uploaded to. Facts not selected are not returned (RFC 3659
// §7.9); with none, the entry is " name".
func AppendFacts(b []byte, fi FileInfo, kind int, perms Perm, show Facts, name string) []byte {
	special := fi.Mode&specialFile != 0
	if show&FactType != 0 {
		b = append(b, "type="...)
		switch {
		case kind == FactCdir:
			b = append(b, "cdir"...)
		case kind == FactPdir:
			b = append(b, "pdir"...)
		case fi.Mode.IsDir():
			b = append(b, "dir"...)
		case special:
			b = append(b, specialType(fi.Mode)...)
		default:
			b = append(b, "file"...)
		}
		b = append(b, ';')
	}
	if show&FactSize != 0 && !fi.Mode.IsDir() && !special {
		b = append(b, "size="...)
		b = strconv.AppendInt(b, fi.Size, 10)
		b = append(b, ';')
	}
	if show&FactModify != 0 {
		b = append(b, "modify="...)
		b = appendStamp(b, fi.ModTime)
		b = append(b, ';')
	}
	if show&FactPerm != 0 {
		b = append(b, "perm="...)
		switch {
		case fi.Mode.IsDir():
			b = appendPermFact(b, true, perms)
		case special:
			b = appendPermFact(b, false, perms&(PermDelete|PermRename))
		default:
			b = appendPermFact(b, false, perms)
		}
		b = append(b, ';')
	}
	if show&FactUnixMode != 0 {
		b = append(b, "unix.mode=0"...)
		b = strconv.AppendUint(b, uint64(fi.Mode.Perm()), 8)
		b = append(b, ';')
	}
	b = append(b, ' ')
	return append(b, name...)
}

// appendFactNames appends the names of the facts in f, each followed by
// ";" (OPTS MLST's reply): "type;size;".
func appendFactNames(b []byte, f Facts) []byte {
	for _, n := range factNames {
		if f&n.f != 0 {
			b = append(b, n.name...)
			b = append(b, ';')
		}
	}
	return b
}

// appendFeatFacts appends every fact rftpd knows, each followed by "*"
// when it is selected in f, and by ";" (FEAT's MLST line, RFC 3659 §7.8):
// "type*;size;...".
func appendFeatFacts(b []byte, f Facts) []byte {
	for _, n := range factNames {
		b = append(b, n.name...)
		if f&n.f != 0 {
			b = append(b, '*')
		}
		b = append(b, ';')
	}
	return b
}

// appendStamp appends t in UTC as the RFC 3659 time-val YYYYMMDDHHMMSS,
// what t.UTC().AppendFormat(b, "20060102150405") gives for years 1000-9999.
func appendStamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 1000 || year > 9999 {
		return t.AppendFormat(b, "20060102150405")
	}
	hour, minute, sec := t.Clock()
	b = append2(b, year/100)
	b = append2(b, year%100)
	b = append2(b, int(month))
	b = append2(b, day)
	b = append2(b, hour)
	b = append2(b, minute)
	return append2(b, sec)
}

// appendPermFact appends the RFC 3659 §7.5.5 perm fact of the account's rights.
func appendPermFact(f []byte, dir bool, p Perm) []byte {
	if dir {
		if p&PermWrite != 0 {
			f = append(f, 'c')
		}
		if p&PermDelete != 0 {
			f = append(f, 'd')
		}
		f = append(f, 'e')
		if p&PermRename != 0 {
			f = append(f, 'f')
		}
		if p&PermRead != 0 {
			f = append(f, 'l')
		}
		if p&PermMkdir != 0 {
			f = append(f, 'm')
		}
		if p&PermDelete != 0 {
			f = append(f, 'p')
		}
		return f
	}
	if p&PermWrite != 0 {
		f = append(f, 'a')
	}
	if p&PermDelete != 0 {
		f = append(f, 'd')
	}
	if p&PermRename != 0 {
		f = append(f, 'f')
	}
	if p&PermRead != 0 {
		f = append(f, 'r')
	}
	if p&PermWrite != 0 {
		f = append(f, 'w')
	}
	return f
}
