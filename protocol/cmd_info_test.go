// Tests of SYST HELP NOOP FEAT OPTS.
package protocol

import "testing"

func TestInfo(t *testing.T) {
	runCases(t, []scriptCase{
		{"FEAT before login", `
< 220 rftpd ready.
> FEAT
< 211-Features:
<  EPRT
<  EPSV
<  HASH SHA-256*;SHA-512;SHA-1;MD5;CRC32
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
`},
		{"SYST NOOP", `
< 220 rftpd ready.
> SYST
< 215 UNIX Type: L8
> NOOP
< 200 NOOP ok.
> NOOP x
< 501 NOOP takes no argument.
`},
		{"HELP", `
< 220 rftpd ready.
> HELP
< 214-The following commands are recognized.
<  ABOR ACCT ALLO APPE AUTH CCC  CDUP CWD
<  DELE EPRT EPSV FEAT HASH HELP HOST LIST
<  MDTM MFMT MKD  MLSD MLST MODE NLST NOOP
<  OPTS PASS PASV PBSZ PORT PROT PWD  QUIT
<  RANG REIN REST RETR RMD  RNFR RNTO SITE
<  SIZE SMNT STAT STOR STOU STRU SYST TYPE
<  USER XCRC XCUP XCWD XMD5 XMKD XPWD XRMD
<  XSHA XSHA1 XSHA256 XSHA512
< 214 Help OK.
> HELP cwd
< 214 Syntax: CWD <sp> pathname
> HELP xcwd
< 214 Syntax: XCWD <sp> pathname
> HELP PWD
< 214 Syntax: PWD
> HELP FOO
< 504 Unknown command FOO.
> HELP  stor 
< 214 Syntax: STOR <sp> pathname
`},
		{"FEAT with MODE Z", `
config modez=on
< 220 rftpd ready.
> FEAT
< 211-Features:
<  EPRT
<  EPSV
<  HASH SHA-256*;SHA-512;SHA-1;MD5;CRC32
<  HOST
<  MDTM
<  MFMT
<  MLST type*;size*;modify*;perm*;unix.mode*;
<  MODE Z
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
`},
		{"OPTS", `
< 220 rftpd ready.
> OPTS UTF8 ON
< 200 Always in UTF8 mode.
> opts utf8 off
< 200 Always in UTF8 mode.
> OPTS UTF8
< 200 Always in UTF8 mode.
> OPTS UTF8 MAYBE
< 501 Option not understood.
> OPTS MLST type;size;modify;UNIX.mode;UNIX.uid;
< 200 MLST OPTS type;size;modify;unix.mode;
> OPTS MODE Z LEVEL 9
< 501 Option not understood.
> OPTS
< 501 Syntax error in parameters or arguments.
`},
	})
}
