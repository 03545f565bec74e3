// Tests of DELE RMD MKD RNFR RNTO SIZE MDTM MFMT SITE.
package protocol

import "testing"

func TestFileCommands(t *testing.T) {
	runCases(t, []scriptCase{
		{"DELE", `
login
> DELE a.txt
! ReqFile delete "/a.txt"
@ EvFile
< 250 Delete operation successful.
> DELE dir
! ReqFile delete "/dir"
@ EvFile err=isdir
< 550 Is a directory.
> DELE /
< 550 Permission denied.
> DELE ..
< 550 Permission denied.
`},
		{"RMD and MKD", `
login
> MKD new "dir"
! ReqFile mkdir "/new \"dir\""
@ EvFile dir
< 257 "/new ""dir""" created.
> XMKD a/../b
! ReqFile mkdir "/b"
@ EvFile err=exist
< 550 File exists.
> RMD full
! ReqFile rmdir "/full"
@ EvFile err=notempty
< 550 Directory not empty.
> XRMD empty
! ReqFile rmdir "/empty"
@ EvFile
< 250 Remove directory operation successful.
> RMD /
< 550 Permission denied.
> MKD
< 501 Syntax error in parameters or arguments.
`},
		{"file permissions", `
login perms=read
> DELE a
< 550 Permission denied.
> RMD a
< 550 Permission denied.
> MKD a
< 550 Permission denied.
> RNFR a
< 550 Permission denied.
> RNTO a
< 550 Permission denied.
> MFMT 20240102030405 a
< 550 Permission denied.
> SITE CHMOD 644 a
< 550 Permission denied.
> SIZE a
! ReqFile stat "/a" ascii
`},
		{"rename", `
login
> RNFR a
! ReqFile renamecheck "/a"
@ EvFile
< 350 Ready for RNTO.
> RNTO b
! ReqFile rename "/a" "/b"
@ EvFile
< 250 Rename successful.
> RNTO c
< 503 Bad sequence of commands.
`},
		{"RNFR cleared by another command", `
login
> RNFR a
! ReqFile renamecheck "/a"
@ EvFile
< 350 Ready for RNTO.
> NOOP
< 200 NOOP ok.
> RNTO b
< 503 Bad sequence of commands.
> RNFR a
! ReqFile renamecheck "/a"
@ EvFile
< 350 Ready for RNTO.
> BOGUS
< 500 Syntax error, command unrecognized.
> RNTO b
< 503 Bad sequence of commands.
`},
		{"rename failures", `
login
> RNFR nope
! ReqFile renamecheck "/nope"
@ EvFile err=notexist
< 550 No such file or directory.
> RNTO b
< 503 Bad sequence of commands.
> RNFR a
! ReqFile renamecheck "/a"
@ EvFile
< 350 Ready for RNTO.
> RNTO ../../
< 550 Permission denied.
> RNFR a
! ReqFile renamecheck "/a"
@ EvFile
< 350 Ready for RNTO.
> RNTO x/y
! ReqFile rename "/a" "/x/y"
@ EvFile err=notexist
< 550 No such file or directory.
> RNFR /
< 550 Permission denied.
`},
		{"pipelined rename", `
login
> RNFR a
! ReqFile renamecheck "/a"
> RNTO b
@ EvFile
< 350 Ready for RNTO.
! ReqFile rename "/a" "/b"
@ EvFile
< 250 Rename successful.
`},
		{"SIZE", `
login
> SIZE a
! ReqFile stat "/a" ascii
@ EvFile size=1234
< 213 1234
> SIZE d
! ReqFile stat "/d" ascii
@ EvFile dir
< 550 Not a plain file.
> SIZE n
! ReqFile stat "/n" ascii
@ EvFile err=notexist
< 550 No such file or directory.
> SIZE b
! ReqFile stat "/b" ascii
@ EvFile err=busy
< 450 Server busy, try again later.
`},
		// RFC 3659 §4: SIZE counts the bytes a transfer in the current
		// TYPE sends; the DTP counts TYPE A's, up to its limit.
		{"SIZE in TYPE A and TYPE I", `
login
> TYPE A
< 200 Switching to ASCII mode.
> SIZE notes.txt
! ReqFile stat "/notes.txt" ascii
@ EvFile size=21
< 213 21
> SIZE huge.log
! ReqFile stat "/huge.log" ascii
@ EvFile err=asciiscan
< 550 The file is too large for a TYPE A size or restart offset; use TYPE I.
> TYPE I
< 200 Switching to Binary mode.
> SIZE notes.txt
! ReqFile stat "/notes.txt"
@ EvFile size=18
< 213 18
`},
		{"MDTM", `
login
> MDTM a
! ReqFile stat "/a"
@ EvFile mtime=20240102030405
< 213 20240102030405
> MDTM n
! ReqFile stat "/n"
@ EvFile err=notexist
< 550 No such file or directory.
`},
		{"MFMT", `
login
> MFMT 20240102030405 a b
! ReqFile settime "/a b" 20240102030405
@ EvFile mtime=20240102030405
< 213 Modify=20240102030405; /a b
> MFMT 20240102030405.123 x
! ReqFile settime "/x" 20240102030405
@ EvFile
< 213 Modify=20240102030405; /x
> MFMT 20241302030405 a
< 501 MFMT needs a time YYYYMMDDHHMMSS and a path.
> MFMT 2024010203040 a
< 501 MFMT needs a time YYYYMMDDHHMMSS and a path.
> MFMT 20240102030405
< 501 MFMT needs a time YYYYMMDDHHMMSS and a path.
> MFMT 20240102030405 
< 501 MFMT needs a time YYYYMMDDHHMMSS and a path.
> MFMT 20240102030405. a
< 501 MFMT needs a time YYYYMMDDHHMMSS and a path.
> MFMT +0240102030405 a
< 501 MFMT needs a time YYYYMMDDHHMMSS and a path.
> MFMT 20240102030405 n
! ReqFile settime "/n" 20240102030405
@ EvFile err=notexist
< 550 No such file or directory.
`},
		{"SITE", `
login
> SITE HELP
< 214-The following SITE commands are recognized.
<  CHMOD HELP
< 214 Help OK.
> site chmod 755 a b
! ReqFile chmod "/a b" 0755
@ EvFile
< 200 SITE CHMOD command ok.
> SITE CHMOD 0644 a
! ReqFile chmod "/a" 0644
@ EvFile err=notexist
< 550 No such file or directory.
> SITE CHMOD 4755 a
< 501 SITE CHMOD needs an octal mode (at most 777) and a path.
> SITE CHMOD 789 a
< 501 SITE CHMOD needs an octal mode (at most 777) and a path.
> SITE CHMOD 755
< 501 SITE CHMOD needs an octal mode (at most 777) and a path.
> SITE CHMOD +x a
< 501 SITE CHMOD needs an octal mode (at most 777) and a path.
> SITE EXEC rm -rf /
< 504 Unknown SITE command.
> SITE
< 501 Syntax error in parameters or arguments.
`},
		{"file ops need login", `
< 220 rftpd ready.
> DELE a
< 530 Please log in with USER and PASS.
> SITE HELP
< 530 Please log in with USER and PASS.
`},
	})
}
