// Listing line formats shared by LIST, NLST, MLSD, MLST and STAT.
package protocol

import (
	"io/fs"
	"strconv"
	"time"
)

// AppendLIST appends fi as one `ls -l` line ending in CRLF, the form curl,
// lftp, wget and FileZilla parse. now decides between the "Jan 02 15:04" and
// "Jan 02  2006" date forms (six months, as ls does).
//
//	-rw-r--r-- 1 ftp ftp         1234 Mar 04 12:30 a.txt
func AppendLIST(b []byte, fi FileInfo, now time.Time) []byte {
	b = append(b, modeString(fi.Mode)...)
	b = append(b, " 1 ftp ftp "...)
	size := strconv.AppendInt(nil, fi.Size, 10)
	for i := len(size); i < 12; i++ {
		b = append(b, ' ')
	}
	b = append(b, size...)
	b = append(b, ' ')
	t := fi.ModTime.UTC()
	if d := now.Sub(t); d > 182*24*time.Hour || d < -182*24*time.Hour {
		b = t.AppendFormat(b, "Jan 02  2006")
	} else {
		b = t.AppendFormat(b, "Jan 02 15:04")
	}
	b = append(b, ' ')
	b = append(b, fi.Name...)
	return append(b, '\r', '\n')
}

// modeString renders the ten-character ls mode column.
func modeString(m fs.FileMode) string {
	var buf [10]byte
	switch {
	case m.IsDir():
		buf[0] = 'd'
	case m&fs.ModeSymlink != 0:
		buf[0] = 'l'
	default:
		buf[0] = '-'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			buf[1+i] = rwx[i]
		} else {
			buf[1+i] = '-'
		}
	}
	return string(buf[:])
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

// AppendFacts appends the RFC 3659 facts of fi followed by a space and name,
// without line ending: "type=file;size=12;modify=20240102030405;perm=adfrw;unix.mode=0644; name".
// kind overrides the type fact for cdir/pdir; perms decide the perm fact.
func AppendFacts(b []byte, fi FileInfo, kind int, perms Perm, name string) []byte {
	b = append(b, "type="...)
	switch {
	case kind == FactCdir:
		b = append(b, "cdir"...)
	case kind == FactPdir:
		b = append(b, "pdir"...)
	case fi.Mode.IsDir():
		b = append(b, "dir"...)
	default:
		b = append(b, "file"...)
	}
	b = append(b, ';')
	if !fi.Mode.IsDir() {
		b = append(b, "size="...)
		b = strconv.AppendInt(b, fi.Size, 10)
		b = append(b, ';')
	}
	b = append(b, "modify="...)
	b = fi.ModTime.UTC().AppendFormat(b, "20060102150405")
	b = append(b, ";perm="...)
	b = append(b, permFact(fi.Mode.IsDir(), perms)...)
	b = append(b, ";unix.mode=0"...)
	b = strconv.AppendUint(b, uint64(fi.Mode.Perm()), 8)
	b = append(b, "; "...)
	return append(b, name...)
}

// permFact builds the RFC 3659 §7.5.5 perm fact from the account's rights.
func permFact(dir bool, p Perm) string {
	var f []byte
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
		return string(f)
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
	return string(f)
}
