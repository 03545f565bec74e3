// Tests of HASH, RANG, OPTS HASH and the X forms XCRC XMD5 XSHA1 XSHA256 XSHA512.
package protocol

import (
	"strings"
	"testing"
)

// Checksums of the empty input, as the DTP would send them.
const (
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	emptyMD5    = "d41d8cd98f00b204e9800998ecf8427e"
	emptySHA1   = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
)

func TestHash(t *testing.T) {
	runCases(t, []scriptCase{
		{"HASH with the default SHA-256", "login\n" + `
> HASH pub/a.iso
! ReqHash sha256 "/pub/a.iso"
@ EvHash sum=` + emptySHA256 + ` start=0 end=100
< 213 SHA-256 0-99 ` + emptySHA256 + ` pub/a.iso
> hash /x/../b c.txt
! ReqHash sha256 "/b c.txt"
@ EvHash sum=00ff start=0 end=1
< 213 SHA-256 0-0 00ff /x/../b c.txt
`},
		// The grammar has no empty range: an empty file is "0-0".
		{"HASH of an empty file", "login\n" + `
> HASH empty
! ReqHash sha256 "/empty"
@ EvHash sum=` + emptySHA256 + ` start=0 end=0
< 213 SHA-256 0-0 ` + emptySHA256 + ` empty
`},
		{"OPTS HASH selects, FEAT stars it, REIN resets it", `
< 220 rftpd ready.
> OPTS HASH
< 200 SHA-256
> OPTS HASH sha-512
< 200 SHA-512
> OPTS HASH CRC-37
< 501 Unknown algorithm, current selection not changed.
> OPTS HASH SHA256
< 501 Unknown algorithm, current selection not changed.
> OPTS HASH
< 200 SHA-512
> FEAT
< 211-Features:
<  EPRT
<  EPSV
<  HASH SHA-256;SHA-512*;SHA-1;MD5;CRC32
<  HOST
<  MDTM
<  MFMT
<  MLST type*;size*;modify*;perm*;unix.mode*;
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
> OPTS HASH crc32
< 200 CRC32
login
> HASH f
! ReqHash crc32 "/f"
@ EvHash sum=cbf43926 start=0 end=9
< 213 CRC32 0-8 cbf43926 f
> OPTS HASH MD5
< 200 MD5
> HASH f
! ReqHash md5 "/f"
@ EvHash sum=` + emptyMD5 + ` start=0 end=0
< 213 MD5 0-0 ` + emptyMD5 + ` f
> OPTS HASH SHA-1
< 200 SHA-1
> HASH f
! ReqHash sha1 "/f"
@ EvHash sum=` + emptySHA1 + ` start=0 end=0
< 213 SHA-1 0-0 ` + emptySHA1 + ` f
> REIN
! ReqLogout
< 220 rftpd ready.
> OPTS HASH
< 200 SHA-256
`},
		{"RANG selects bytes for the next HASH", "login\n" + `
> RANG 0 49
< 350 Byte range 0-49 selected; send HASH.
> HASH f
! ReqHash sha256 "/f" end=50 clamp
@ EvHash sum=0a start=0 end=50
< 213 SHA-256 0-49 0a f
> HASH f
! ReqHash sha256 "/f"
@ EvHash sum=0b start=0 end=10
< 213 SHA-256 0-9 0b f
> RANG 100 1000000
< 350 Byte range 100-1000000 selected; send HASH.
> HASH f
! ReqHash sha256 "/f" start=100 end=1000001 clamp
@ EvHash sum=0c start=100 end=200
< 213 SHA-256 100-199 0c f
> RANG 7 7
< 350 Byte range 7-7 selected; send HASH.
> HASH f
! ReqHash sha256 "/f" start=7 end=8 clamp
@ EvHash err=badoffset
< 501 The range is beyond the end of the file.
`},
		{"RANG resets and refusals", "login\n" + `
> RANG 1 0
< 350 Byte range reset to the whole file.
> HASH f
! ReqHash sha256 "/f"
@ EvHash sum=0a start=0 end=1
< 213 SHA-256 0-0 0a f
> RANG 5 2
< 501 RANG start is after its end; byte range reset to the whole file.
> RANG 5
< 501 RANG needs a start and an end byte.
> RANG -1 5
< 501 RANG needs a start and an end byte.
> RANG 0 9223372036854775807
< 501 RANG needs a start and an end byte.
> RANG 0 99999999999999999999
< 501 RANG needs a start and an end byte.
> RANG 0 9
< 350 Byte range 0-9 selected; send HASH.
> NOOP
< 200 NOOP ok.
> HASH f
! ReqHash sha256 "/f"
@ EvHash sum=0a start=0 end=1
< 213 SHA-256 0-0 0a f
> REST 5
< 350 Restarting at 5. Send STORE or RETRIEVE.
> RANG 0 9
< 350 Byte range 0-9 selected; send HASH.
> RETR f
< 504 RANG applies to HASH only; the byte range is reset.
> RETR f
< 425 Use PORT or PASV first.
> RANG 0 9
< 350 Byte range 0-9 selected; send HASH.
> REIN
! ReqLogout
< 220 rftpd ready.
login
> HASH f
! ReqHash sha256 "/f"
`},
		{"HASH errors", "login\n" + `
> HASH
< 501 Syntax error in parameters or arguments.
> HASH nope
! ReqHash sha256 "/nope"
@ EvHash err=notexist
< 550 No such file or directory.
> HASH pub
! ReqHash sha256 "/pub"
@ EvHash err=isdir
< 553 Is a directory: a directory has no hash.
> HASH f
! ReqHash sha256 "/f"
@ EvHash err=busy
< 450 Server busy hashing, try again later.
> HASH f
! ReqHash sha256 "/f"
@ EvHash err=perm
< 550 Permission denied.
> HASH f
! ReqHash sha256 "/f"
@ EvHash err=other
< 451 Requested action aborted: local error in processing.
`},
		{"HASH needs a login and read permission", `
< 220 rftpd ready.
> HASH f
< 530 Please log in with USER and PASS.
> XMD5 f
< 530 Please log in with USER and PASS.
> RANG 0 1
< 530 Please log in with USER and PASS.
login perms=write
> HASH f
< 550 Permission denied.
> XCRC f
< 550 Permission denied.
`},
		{"X forms", "login\n" + `
> XMD5 a.txt
! ReqHash md5 "/a.txt"
@ EvHash sum=` + emptyMD5 + ` start=0 end=0
< 250 D41D8CD98F00B204E9800998ECF8427E
> XCRC "my file 2" 10 20
! ReqHash crc32 "/my file 2" start=10 end=20
@ EvHash sum=cbf43926 start=10 end=20
< 250 CBF43926
> XSHA1 a b 5
! ReqHash sha1 "/a b" start=5
@ EvHash sum=` + emptySHA1 + ` start=5 end=5
< 250 DA39A3EE5E6B4B0D3255BFEF95601890AFD80709
> xsha c
! ReqHash sha1 "/c"
@ EvHash sum=ab start=0 end=1
< 250 AB
> XSHA256 "q" 0 0
! ReqHash sha256 "/q" end=0
@ EvHash sum=` + emptySHA256 + ` start=0 end=0
< 250 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855
> XSHA512 123
! ReqHash sha512 "/123"
@ EvHash sum=cd start=0 end=1
< 250 CD
> XCRC x 1 2 3
! ReqHash crc32 "/x 1" start=2 end=3
@ EvHash sum=01 start=2 end=3
< 250 01
`},
		{"X form errors", "login\n" + `
> XSHA256 f 10 5
< 501 Syntax: pathname [start [end]], with start not after end.
> XSHA512 "unterminated
< 501 Syntax: pathname [start [end]], with start not after end.
> XMD5 "f"x
< 501 Syntax: pathname [start [end]], with start not after end.
> XMD5 "f" 1 2 3
< 501 Syntax: pathname [start [end]], with start not after end.
> XMD5 "f" a
< 501 Syntax: pathname [start [end]], with start not after end.
> XMD5 ""
< 501 Syntax: pathname [start [end]], with start not after end.
> XMD5 "f" 99999999999999999999
< 501 Syntax: pathname [start [end]], with start not after end.
> XMD5 pub
! ReqHash md5 "/pub"
@ EvHash err=isdir
< 550 Not a regular file.
> XMD5 f 0 100
! ReqHash md5 "/f" end=100
@ EvHash err=badoffset
< 501 The range is beyond the end of the file.
> XMD5 f
! ReqHash md5 "/f"
@ EvHash err=busy
< 450 Server busy hashing, try again later.
`},
		// ABOR stops a hash at once (the DTP answers with ErrAborted),
		// as it stops a transfer: the hash's reply, then ABOR's.
		{"ABOR cancels a hash", "login\n" + `
> HASH big
! ReqHash sha256 "/big"
> STAT
< 213 Status: hashing /big.
> PWD
> ABOR
! ReqAbort
> ABOR
@ EvHash err=aborted
< 426 Hash aborted.
< 226 Abort successful.
< 257 "/" is the current directory.
< 225 No transfer to abort.
`},
		{"ABOR after the hash finished", "login\n" + `
> XCRC big
! ReqHash crc32 "/big"
> ABOR
! ReqAbort
@ EvHash sum=01020304 start=0 end=4
< 250 01020304
< 225 No transfer to abort.
`},
		{"QUIT cancels a hash, then 221", "login\n" + `
> HASH big
! ReqHash sha256 "/big"
> NOOP
> QUIT
! ReqAbort
? ready false
@ EvHash err=aborted
< 426 Hash aborted.
< 221 Goodbye.
= close
`},
		{"shutdown waits for the hash", "login\n" + `
> HASH big
! ReqHash sha256 "/big"
shutdown
@ EvHash sum=01 start=0 end=1
< 213 SHA-256 0-0 01 big
< 421 Server shutting down.
= close
`},
		{"late and stray hash events are ignored", "login\n" + `
@ EvHash sum=01 start=0 end=1
? ignored 1
> NOOP
< 200 NOOP ok.
`},
		{"HELP", `
< 220 rftpd ready.
> HELP HASH
< 214 Syntax: HASH <sp> pathname
> HELP XSHA
< 214 Syntax: XSHA <sp> pathname [ <sp> start [ <sp> end ] ]
> HELP rang
< 214 Syntax: RANG <sp> start-point <sp> end-point
`},
	})
}

// TestFeatHashLine checks FEAT's HASH line for every selection.
func TestFeatHashLine(t *testing.T) {
	for _, a := range featHashOrder {
		l := featHashLine(a)
		if strings.Count(l, "*") != 1 || !strings.Contains(l, hashNames[a]+"*") || !strings.HasPrefix(l, " HASH ") {
			t.Errorf("featHashLine(%s) = %q", hashNames[a], l)
		}
	}
	if featHash != " HASH SHA-256*;SHA-512;SHA-1;MD5;CRC32" {
		t.Errorf("featHash = %q", featHash)
	}
}
