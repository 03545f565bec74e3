// Tests of LIST NLST MLSD MLST STAT.
package protocol

import "testing"

func TestListing(t *testing.T) {
	runCases(t, []scriptCase{
		{"LIST forms", "login" + pasv + `
> LIST
! ReqTransfer list "/"
@ EvTransferStart
< 150 Here comes the directory listing.
@ EvTransferDone bytes=300
< 226 Directory send OK.
` + pasv + `
> LIST -la
! ReqTransfer list "/" all
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> LIST -l pub
! ReqTransfer list "/pub"
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> LIST -a -l  spaced 
! ReqTransfer list "/ spaced " all
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> LIST -A
! ReqTransfer list "/" all
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> LIST *.txt
! ReqTransfer list "/*.txt" glob
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> LIST -x-y
! ReqTransfer list "/-x-y"
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> NLST -R sub
! ReqTransfer nlst "/sub"
`},
		// A pattern in the last element (glob.go): NLST sends each name after
		// the folder part as the client wrote it; LIST and STAT need none.
		{"patterns", "login\n> CWD pub\n! ReqFile stat \"/pub\"\n@ EvFile dir\n< 250 Directory successfully changed.\n" + pasv + `
> NLST *.txt
! ReqTransfer nlst "/pub/*.txt" glob
@ EvTransferStart
< 150 Here comes the directory listing.
@ EvTransferDone bytes=14
< 226 Directory send OK.
` + pasv + `
> NLST -a docs/file?.[ch]
! ReqTransfer nlst "/pub/docs/file?.[ch]" all glob prefix="docs/"
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> NLST /pub/../etc/[^.]*
! ReqTransfer nlst "/etc/[^.]*" glob prefix="/pub/../etc/"
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> NLST ../../*
! ReqTransfer nlst "/*" glob prefix="../../"
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> LIST -al docs/*
! ReqTransfer list "/pub/docs/*" all glob
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> LIST *.none
! ReqTransfer list "/pub/*.none" glob
@ EvTransferStart
< 150 Here comes the directory listing.
@ EvTransferDone
< 226 Directory send OK.
` + pasv + `
> LIST a[b
! ReqTransfer list "/pub/a[b"
` + "@ EvTransferDone err=notexist\n< 550 No such file or directory.\n" + pasv + `
> NLST */a.txt
! ReqTransfer nlst "/pub/*/a.txt"
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + pasv + `
> MLSD *.txt
! ReqTransfer mlsd "/pub/*.txt"
` + "@ EvTransferDone err=notexist\n< 550 No such file or directory.\n" + pasv + `
> NLST .rftpd-upload.*
< 550 File name not allowed.
> NLST .rftpd-upl*
! ReqTransfer nlst "/pub/.rftpd-upl*" glob
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + `
> STAT -l *.txt
! ReqStatList "/pub/*.txt" glob
@ EvStatList lines="-rw-r--r-- 2 ftp ftp           12 Mar 04 12:00 a.txt\r\n"
< 213-Status of /pub/*.txt:
< -rw-r--r-- 2 ftp ftp           12 Mar 04 12:00 a.txt
< 213 End of status.
`},
		{"MLSD", "login\n> TYPE I\n< 200 Switching to Binary mode.\n" + pasv + `
> MLSD pub
! ReqTransfer mlsd "/pub"
@ EvTransferStart
< 150 Here comes the directory listing.
@ EvTransferDone
< 226 Directory send OK.
` + pasv + `
> MLSD -a
! ReqTransfer mlsd "/-a"
@ EvTransferDone err=notexist
< 550 No such file or directory.
` + pasv + `
> MLSD a.txt
! ReqTransfer mlsd "/a.txt"
@ EvTransferDone err=notdir
< 501 MLSD needs a directory; use MLST for a file.
`}, // RFC 3659 §7.2.1: MLSD of a file is 501; a missing one stays 550
		{"MLST", `
login
> MLST a.txt
! ReqFile stat "/a.txt"
@ EvFile size=12 mtime=20240102030405 name=a.txt
< 250-Listing /a.txt
<  type=file;size=12;modify=20240102030405;perm=adfrw;unix.mode=0644; /a.txt
< 250 End.
> MLST
! ReqFile stat "/"
@ EvFile dir mtime=20240102030405
< 250-Listing /
<  type=dir;modify=20240102030405;perm=cdeflmp;unix.mode=0755; /
< 250 End.
> MLST nope
! ReqFile stat "/nope"
@ EvFile err=notexist
< 550 No such file or directory.
`},
		// RFC 3659 §7.9: facts not selected by OPTS MLST are not
		// returned, by MLST or MLSD; §7.8: FEAT marks the selected ones.
		// REIN selects them all again.
		{"OPTS MLST selects facts", "login\n" + `
> OPTS MLST Size;type;bogus;
< 200 MLST OPTS type;size;
> FEAT
< 211-Features:
<  EPRT
<  EPSV
<  HASH SHA-256*;SHA-512;SHA-1;MD5;CRC32
<  HOST
<  MDTM
<  MFMT
<  MLST type*;size*;modify;perm;unix.mode;
<  PASV
<  REST STREAM
<  SIZE
<  TVFS
<  UTF8
<  XCRC
<  XMD5
<  XSHA
<  XSHA1
<  XSHA256
<  XSHA512
< 211 End
> MLST a.txt
! ReqFile stat "/a.txt"
@ EvFile size=12 mtime=20240102030405 name=a.txt
< 250-Listing /a.txt
<  type=file;size=12; /a.txt
< 250 End.
` + pasv + `
> MLSD
! ReqTransfer mlsd "/" facts=type;size;
` + "@ EvTransferDone\n< 226 Directory send OK.\n" + `
> OPTS MLST
< 200 MLST OPTS
> MLST a.txt
! ReqFile stat "/a.txt"
@ EvFile size=12 mtime=20240102030405 name=a.txt
< 250-Listing /a.txt
<   /a.txt
< 250 End.
> REIN
< 220 rftpd ready.
! ReqLogout
login
> MLST a.txt
! ReqFile stat "/a.txt"
@ EvFile size=12 mtime=20240102030405 name=a.txt
< 250-Listing /a.txt
<  type=file;size=12;modify=20240102030405;perm=adfrw;unix.mode=0644; /a.txt
< 250 End.
`},
		{"MLST read-only facts", `
login perms=read
> MLST 1.txt
! ReqFile stat "/1.txt"
@ EvFile size=1 mtime=20240102030405
< 250-Listing /1.txt
<  type=file;size=1;modify=20240102030405;perm=r;unix.mode=0644; /1.txt
< 250 End.
`},
		{"MLST needs read", `
login perms=write
> MLST a
< 550 Permission denied.
`},
		{"STAT server status", `
login
> STAT
< 211-FTP server status:
<  Connected from 192.0.2.10
<  Logged in as bob
<  TYPE: ASCII, STRUcture: File, MODE: Stream
<  No data connection
< 211 End of status.
> TYPE I
< 200 Switching to Binary mode.
` + pasv + `
> STAT
< 211-FTP server status:
<  Connected from 192.0.2.10
<  Logged in as bob
<  TYPE: BINARY, STRUcture: File, MODE: Stream
<  Data connection: passive listener ready
< 211 End of status.
> PORT 192,0,2,10,195,80
! ReqActive 192.0.2.10:50000
< 200 PORT command successful. Consider using EPSV.
> STAT
< 211-FTP server status:
<  Connected from 192.0.2.10
<  Logged in as bob
<  TYPE: BINARY, STRUcture: File, MODE: Stream
<  Data connection: active, to the client's address
< 211 End of status.
`},
		{"STAT path", `
login
> STAT -la pub
! ReqStatList "/pub"
@ EvStatList lines="drwxr-xr-x 1 ftp ftp            0 Mar 04 12:00 sub\r\n-rw-r--r-- 1 ftp ftp           12 Mar 04 12:00 a.txt\r\n"
< 213-Status of /pub:
< drwxr-xr-x 1 ftp ftp            0 Mar 04 12:00 sub
< -rw-r--r-- 1 ftp ftp           12 Mar 04 12:00 a.txt
< 213 End of status.
> STAT odd
! ReqStatList "/odd"
@ EvStatList lines="213 looks like an end\n\r\nno newline at end"
< 213-Status of /odd:
<  213 looks like an end
< no newline at end
< 213 End of status.
> STAT empty
! ReqStatList "/empty"
@ EvStatList
< 213-Status of /empty:
< 213 End of status.
> STAT nope
! ReqStatList "/nope"
@ EvStatList err=notexist
< 550 No such file or directory.
> STAT busy
! ReqStatList "/busy"
@ EvStatList err=busy
< 450 Server busy, try again later.
`},
		{"STAT path needs read", `
login perms=write
> STAT /
< 550 Permission denied.
> STAT
< 211-FTP server status:
<  Connected from 192.0.2.10
<  Logged in as bob
<  TYPE: ASCII, STRUcture: File, MODE: Stream
<  No data connection
< 211 End of status.
`},
		{"STAT path with a CR LF from the disk", `
login
> STAT x
! ReqStatList "/x"
@ EvStatList lines="-rw-r--r-- 1 ftp ftp 1 Mar 04 12:00 a\rb\r\n"
< 213-Status of /x:
< -rw-r--r-- 1 ftp ftp 1 Mar 04 12:00 a b
< 213 End of status.
`},
	})
}

func TestListArgs(t *testing.T) {
	for _, c := range []struct {
		arg   string
		flags ListFlags
		path  string
	}{
		{"", 0, ""},
		{"-l", 0, ""},
		{"-la", ListAll, ""},
		{"-al /pub", ListAll, "/pub"},
		{"-A x", ListAll, "x"},
		{"-F -R x", 0, "x"},
		{"-l  x", 0, " x"},
		{"-", 0, "-"},
		{"-1", 0, "-1"},
		{"-l -", 0, "-"},
		{"x -l", 0, "x -l"},
		{"-l ", 0, ""},
	} {
		f, p := listArgs(c.arg)
		if f != c.flags || p != c.path {
			t.Errorf("listArgs(%q) = %v, %q; want %v, %q", c.arg, f, p, c.flags, c.path)
		}
	}
}
