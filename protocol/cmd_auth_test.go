// Tests of USER PASS ACCT REIN QUIT HOST and the greeting.
package protocol

import "testing"

// scriptCase is one named script of a table test.
type scriptCase struct {
	name   string
	script string
}

// runCases runs each script as a subtest.
func runCases(t *testing.T, cases []scriptCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runScript(t, c.name, c.script) })
	}
}

func TestAuth(t *testing.T) {
	runCases(t, []scriptCase{
		{"greeting", `
< 220 rftpd ready.
`},
		{"greeting banner sanitised", `
config banner="a\r\n230 forged"
< 220 a  230 forged
`},
		{"password login", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS secret
! ReqLogin user="bob" pass="secret"
? ready true
@ EvLogin ok perms=read
< 230 Login successful.
> PWD
< 257 "/" is the current directory.
`},
		{"lower-case verbs", `
< 220 rftpd ready.
> user bob
< 331 Password required for bob.
> pass secret
! ReqLogin user="bob" pass="secret"
`},
		{"anonymous", `
< 220 rftpd ready.
> USER Anonymous
< 331 Anonymous login ok, send your e-mail address as password.
> PASS me@example.com
! ReqLogin user="anonymous" pass="me@example.com"
@ EvLogin ok anon perms=read
< 230 Login successful.
`},
		{"ftp is anonymous", `
< 220 rftpd ready.
> USER ftp
< 331 Anonymous login ok, send your e-mail address as password.
> PASS
! ReqLogin user="anonymous" pass=""
`},
		{"anonymous disabled", `
config anon=off
< 220 rftpd ready.
> USER anonymous
< 530 Anonymous login is not allowed.
> PASS x
< 503 Login with USER first.
> USER bob
< 331 Password required for bob.
> USER ftp
< 530 Anonymous login is not allowed.
> PASS x
< 503 Login with USER first.
`},
		{"wrong password then retry", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS wrong
! ReqLogin user="bob" pass="wrong"
@ EvLogin
? deadline +1s
+ 1s
< 530 Login incorrect.
> PASS again
< 503 Login with USER first.
> USER bob
< 331 Password required for bob.
> PASS right
! ReqLogin user="bob" pass="right"
@ EvLogin ok perms=all
< 230 Login successful.
`},
		{"password check unavailable", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS x
! ReqLogin user="bob" pass="x"
@ EvLogin err=busy
< 421 Service not available, try again later.
= close
> NOOP
? ready false
`},
		{"USER while checking queues", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS x
! ReqLogin user="bob" pass="x"
> USER eve
@ EvLogin ok perms=read
< 230 Login successful.
< 530 Can't change to another user.
`},
		{"USER twice before PASS", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> USER eve
< 331 Password required for eve.
> PASS x
! ReqLogin user="eve" pass="x"
`},
		{"PASS after login", `
login
> PASS again
< 503 Already logged in.
> USER bob
< 530 Can't change to another user.
`},
		{"commands need login", `
< 220 rftpd ready.
> PWD
< 530 Please log in with USER and PASS.
> RETR x
< 530 Please log in with USER and PASS.
> CWD
< 530 Please log in with USER and PASS.
> ACCT x
< 530 Please log in with USER and PASS.
> SYST
< 215 UNIX Type: L8
> NOOP
< 200 NOOP ok.
> USER bob
< 331 Password required for bob.
> LIST
< 530 Please log in with USER and PASS.
`},
		{"USER needs an argument", `
< 220 rftpd ready.
> USER
< 501 Syntax error in parameters or arguments.
> USER 
< 501 Syntax error in parameters or arguments.
`},
		{"user name is not echoed with line breaks", `
< 220 rftpd ready.
>q "USER a\rb"
< 501 Argument contains CR or LF.
`},
		{"ACCT SMNT", `
login
> ACCT x
< 202 ACCT not needed.
> SMNT /
< 202 SMNT not needed.
`},
		{"HOST", `
< 220 rftpd ready.
> HOST ftp.example.com
< 220 Host accepted.
> USER bob
< 331 Password required for bob.
> HOST ftp.example.com
< 503 HOST must come before USER.
> PASS x
! ReqLogin user="bob" pass="x"
@ EvLogin ok
< 230 Login successful.
> HOST x
< 503 HOST must come before USER.
> HOST
< 501 Syntax error in parameters or arguments.
`},
		{"REIN resets everything", `
login
> CWD /pub
! ReqFile stat "/pub"
@ EvFile dir
< 250 Directory successfully changed.
> TYPE I
< 200 Switching to Binary mode.
> REST 10
< 350 Restarting at 10. Send STORE or RETRIEVE.
> EPSV ALL
< 200 EPSV ALL ok.
> REIN
! ReqLogout
< 220 rftpd ready.
> PWD
< 530 Please log in with USER and PASS.
> USER bob
< 331 Password required for bob.
> PASS x
! ReqLogin user="bob" pass="x"
@ EvLogin ok perms=all
< 230 Login successful.
> PWD
< 257 "/" is the current directory.
> PASV
! ReqPassive
@ EvPassive addr=192.0.2.1:40000
< 227 Entering Passive Mode (192,0,2,1,156,64).
> RETR a
! ReqTransfer retr "/a" ascii
`},
		{"REIN before login", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> REIN
< 220 rftpd ready.
> PASS x
< 503 Login with USER first.
? deadline +1m0s
`},
		{"QUIT", `
< 220 rftpd ready.
> QUIT
< 221 Goodbye.
= close
? ready false
? deadline none
> NOOP
shutdown
+ 1h
`},
		{"QUIT takes no argument", `
< 220 rftpd ready.
> QUIT now
< 501 QUIT takes no argument.
`},
		{"password never in replies", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS hunter2
! ReqLogin user="bob" pass="hunter2"
@ EvLogin
+ 1s
< 530 Login incorrect.
`},
		{"refused logins: doubling delay, then close", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS a
! ReqLogin user="bob" pass="a"
@ EvLogin
? deadline +1s
~ 999ms
+ 0s
+ 1ms
< 530 Login incorrect.
> USER bob
< 331 Password required for bob.
> PASS b
! ReqLogin user="bob" pass="b"
@ EvLogin
? deadline +3s
+ 1s
+ 1s
< 530 Login incorrect.
> USER bob
< 331 Password required for bob.
> PASS c
! ReqLogin user="bob" pass="c"
@ EvLogin
? deadline +7s
+ 4s
< 530 Login incorrect.
< 421 Too many failed logins, closing control connection.
= close
`},
		{"lines wait behind a delayed refusal", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS a
! ReqLogin user="bob" pass="a"
@ EvLogin
> NOOP
> USER bob
? ready true
+ 1s
< 530 Login incorrect.
< 200 NOOP ok.
< 331 Password required for bob.
`},
		{"no delay and no limit when configured off", `
config faildelay=0s maxfail=0
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS a
! ReqLogin user="bob" pass="a"
@ EvLogin
< 530 Login incorrect.
> USER bob
< 331 Password required for bob.
> PASS b
! ReqLogin user="bob" pass="b"
@ EvLogin
< 530 Login incorrect.
> USER bob
< 331 Password required for bob.
> PASS c
! ReqLogin user="bob" pass="c"
@ EvLogin
< 530 Login incorrect.
> USER bob
< 331 Password required for bob.
`},
		{"login timeout during the refusal delay", `
config login=2s faildelay=5s
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS a
! ReqLogin user="bob" pass="a"
+ 1s
@ EvLogin
+ 1s
< 421 Login timeout, closing control connection.
= close
`},
	})
}
