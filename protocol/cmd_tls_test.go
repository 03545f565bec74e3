// Tests of FTPS: AUTH PBSZ PROT CCC, the handshake state, the login and data policies, implicit TLS.
package protocol

import "testing"

func TestFTPS(t *testing.T) {
	runCases(t, []scriptCase{
		{"without a certificate", `
< 220 rftpd ready.
> AUTH TLS
< 502 AUTH not available: no certificate is configured.
> PBSZ 0
< 503 PBSZ requires AUTH first.
> PROT P
< 503 PROT requires AUTH first.
> CCC
< 533 The control connection is not protected.
> USER bob
< 331 Password required for bob.
`},
		{"explicit session", `
config tls=on tlsaccounts=on
< 220 rftpd ready.
> AUTH tls
< 234 AUTH TLS successful; start the TLS handshake.
! ReqStartTLS
? ready false
? deadline +1m0s
@ EvTLS
> PROT P
< 503 PROT requires PBSZ first.
> PBSZ 0
< 200 PBSZ=0
> PROT p
< 200 Protection level set to P.
> USER bob
< 331 Password required for bob.
> PASS secret
! ReqLogin user="bob" pass="secret" secure
@ EvLogin ok perms=all tlsdata
< 230 Login successful.
> EPSV
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40000
< 229 Entering Extended Passive Mode (|||40000|).
> CCC
< 534 CCC refused: the control connection stays protected.
> RETR a
! ReqTransfer retr "/a" ascii protect
@ EvTransferStart size=3
< 150 Opening ASCII mode data connection for /a (3 bytes).
@ EvTransferDone bytes=3
< 226 Transfer complete.
> AUTH TLS
< 503 The control connection is already protected.
`},
		{"FEAT lists FTPS with a certificate only", `
config tls=on
< 220 rftpd ready.
> FEAT
< 211-Features:
<  AUTH SSL
<  AUTH TLS
<  EPRT
<  EPSV
<  HASH SHA-256*;SHA-512;SHA-1;MD5;CRC32
<  HOST
<  MDTM
<  MFMT
<  MLST type*;size*;modify*;perm*;unix.mode*;
<  PASV
<  PBSZ
<  PROT
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
		{"mechanisms and levels", `
config tls=on
< 220 rftpd ready.
> AUTH KERBEROS_V4
< 504 Unknown security mechanism; use AUTH TLS.
> AUTH SSL
< 234 AUTH SSL successful; start the TLS handshake.
! ReqStartTLS
@ EvTLS
> STAT
< 530 Please log in with USER and PASS.
> PBSZ x
< 501 PBSZ takes a decimal size.
> PBSZ 16384
< 200 PBSZ=0
> PROT S
< 536 Protection level not supported; use C or P.
> PROT E
< 536 Protection level not supported; use C or P.
> PROT Q
< 504 Unknown protection level; use C or P.
> PROT C
< 200 Protection level set to C.
`},
		{"AUTH SSL means PROT P", `
config tls=on
< 220 rftpd ready.
> AUTH SSL
< 234 AUTH SSL successful; start the TLS handshake.
! ReqStartTLS
@ EvTLS
login
> PASV
! ReqPassive
@ EvPassive addr=192.0.2.1:40000
< 227 Entering Passive Mode (192,0,2,1,156,64).
> LIST
! ReqTransfer list "/" protect
`},
		// Lines the client sent in the clear behind AUTH (or an attacker
		// injected) are dropped, with a USER given before it.
		{"nothing from before the handshake survives it", `
config tls=on faildelay=1s
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS wrong
! ReqLogin user="bob" pass="wrong"
@ EvLogin
> AUTH TLS
> USER mallory
> PASS x
~ 1s
+ 0s
< 530 Login incorrect.
< 234 AUTH TLS successful; start the TLS handshake.
! ReqStartTLS
@ EvTLS
> PASS secret
< 503 Login with USER first.
`},
		{"AUTH after login is refused", `
config tls=on
login
> AUTH TLS
< 503 AUTH must come before USER and PASS.
`},
		{"failed handshake closes without a reply", `
config tls=on
< 220 rftpd ready.
> AUTH TLS
< 234 AUTH TLS successful; start the TLS handshake.
! ReqStartTLS
@ EvTLS err=other
= close
`},
		{"login timeout during the handshake", `
config tls=on login=10s
< 220 rftpd ready.
> AUTH TLS
< 234 AUTH TLS successful; start the TLS handshake.
! ReqStartTLS
+ 10s
< 421 Login timeout, closing control connection.
= close
`},
		{"accounts need TLS, anonymous may stay plain", `
config tls=on tlsaccounts=on
< 220 rftpd ready.
> USER bob
< 530 Non-anonymous sessions must use TLS: send AUTH TLS first.
> PASS secret
< 503 Login with USER first.
> USER ftp
< 331 Anonymous login ok, send your e-mail address as password.
> PASS me@
! ReqLogin user="anonymous" pass="me@"
@ EvLogin ok anon perms=read
< 230 Login successful.
`},
		{"anonymous needs TLS too", `
config tls=on tlsaccounts=on tlsanon=on
< 220 rftpd ready.
> USER anonymous
< 530 Anonymous sessions must use TLS: send AUTH TLS first.
> AUTH TLS
< 234 AUTH TLS successful; start the TLS handshake.
! ReqStartTLS
@ EvTLS
> USER anonymous
< 331 Anonymous login ok, send your e-mail address as password.
`},
		{"the account requires TLS", `
config tls=on faildelay=1s maxfail=1
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS secret
! ReqLogin user="bob" pass="secret"
@ EvLogin err=tlsrequired
< 530 This account requires TLS: send AUTH TLS first.
> USER bob
< 331 Password required for bob.
`},
		{"data must be protected", `
config tls=on
< 220 rftpd ready.
> AUTH TLS
< 234 AUTH TLS successful; start the TLS handshake.
! ReqStartTLS
@ EvTLS
login tlsdata
> EPSV
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40000
< 229 Entering Extended Passive Mode (|||40000|).
> RETR a
< 521 Data connections must be protected: send PBSZ 0 and PROT P.
> NLST
< 521 Data connections must be protected: send PBSZ 0 and PROT P.
> PBSZ 0
< 200 PBSZ=0
> PROT P
< 200 Protection level set to P.
> NLST
! ReqTransfer nlst "/" protect
`},
		{"data TLS failures", `
config tls=on
< 220 rftpd ready.
> AUTH TLS
< 234 AUTH TLS successful; start the TLS handshake.
! ReqStartTLS
@ EvTLS
> PBSZ 0
< 200 PBSZ=0
> PROT P
< 200 Protection level set to P.
login
> TYPE I
< 200 Switching to Binary mode.
> EPSV
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40000
< 229 Entering Extended Passive Mode (|||40000|).
> RETR a
! ReqTransfer retr "/a" protect
@ EvTransferStart size=5
< 150 Opening BINARY mode data connection for /a (5 bytes).
@ EvTransferDone err=tlsreuse
< 522 Data connection refused: it must resume the TLS session of the control connection (TLS session reuse required).
> EPSV
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40000
< 229 Entering Extended Passive Mode (|||40000|).
> STOR b
! ReqTransfer stor "/b" protect
@ EvTransferStart
< 150 Ok to send data.
@ EvTransferDone err=tlshandshake
< 425 Can't open data connection: TLS handshake failed.
`},
		{"REIN keeps TLS", `
config tls=on tlsaccounts=on
< 220 rftpd ready.
> AUTH TLS
< 234 AUTH TLS successful; start the TLS handshake.
! ReqStartTLS
@ EvTLS
> PBSZ 0
< 200 PBSZ=0
> PROT P
< 200 Protection level set to P.
login tlsdata
> REIN
! ReqLogout
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS secret
! ReqLogin user="bob" pass="secret" secure
@ EvLogin ok perms=all
< 230 Login successful.
> STAT
< 211-FTP server status:
<  Connected from 192.0.2.10
<  Logged in as bob
<  TYPE: ASCII, STRUcture: File, MODE: Stream
<  No data connection
<  Control connection protected with TLS; data protection P (private)
< 211 End of status.
`},
		{"implicit TLS greets after the handshake", `
config tls=on implicit=on tlsaccounts=on
! ReqStartTLS
? ready false
@ EvTLS
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS secret
! ReqLogin user="bob" pass="secret" secure
@ EvLogin ok perms=all
< 230 Login successful.
> AUTH TLS
< 503 The control connection is already protected.
`},
		{"implicit handshake failure", `
config tls=on implicit=on
! ReqStartTLS
@ EvTLS err=other
= close
`},
		{"stray EvTLS is ignored", `
config tls=on
< 220 rftpd ready.
@ EvTLS
? ignored 1
> PBSZ 0
< 503 PBSZ requires AUTH first.
`},
	})
}
