// Tests of CWD CDUP PWD SMNT and path resolution.
package protocol

import "testing"

func TestNav(t *testing.T) {
	runCases(t, []scriptCase{
		{"CWD relative and absolute", `
login
> CWD pub
! ReqFile stat "/pub"
@ EvFile dir
< 250 Directory successfully changed.
? cwd /pub
> CWD sub/../deeper//x/
! ReqFile stat "/pub/deeper/x"
@ EvFile dir
< 250 Directory successfully changed.
> XPWD
< 257 "/pub/deeper/x" is the current directory.
> XCWD /
! ReqFile stat "/"
@ EvFile dir
< 250 Directory successfully changed.
`},
		{"CWD clamps dot-dot at the root", `
login
> CWD ../../../etc
! ReqFile stat "/etc"
@ EvFile err=notexist
< 550 No such file or directory.
? cwd /
`},
		{"CWD errors", `
login
> CWD file.txt
! ReqFile stat "/file.txt"
@ EvFile
< 550 Not a directory.
> CWD link
! ReqFile stat "/link"
@ EvFile err=escapes
< 550 Permission denied.
> CWD secret
! ReqFile stat "/secret"
@ EvFile err=fsperm
< 550 Permission denied.
> CWD x
! ReqFile stat "/x"
@ EvFile err=perm
< 550 Permission denied.
> CWD y
! ReqFile stat "/y"
@ EvFile err=busy
< 450 Server busy, try again later.
> CWD z
! ReqFile stat "/z"
@ EvFile err=other
< 451 Requested action aborted: local error in processing.
? cwd /
`},
		{"CWD keeps spaces", `
login
> CWD  a dir 
! ReqFile stat "/ a dir "
@ EvFile dir
< 250 Directory successfully changed.
> PWD
< 257 "/ a dir " is the current directory.
`},
		{"PWD doubles quotes", `
login
> CWD say "hi"
! ReqFile stat "/say \"hi\""
@ EvFile dir
< 250 Directory successfully changed.
> PWD
< 257 "/say ""hi""" is the current directory.
`},
		{"CDUP", `
login
> CWD /a/b
! ReqFile stat "/a/b"
@ EvFile dir
< 250 Directory successfully changed.
> CDUP
< 250 Directory successfully changed.
? cwd /a
> XCUP
< 250 Directory successfully changed.
> CDUP
< 250 Directory successfully changed.
? cwd /
> CDUP x
< 501 CDUP takes no argument.
`},
		{"PWD with trailing space is fine", `
login
> PWD 
< 257 "/" is the current directory.
> PWD x
< 501 PWD takes no argument.
`},
		{"CWD needs an argument", `
login
> CWD
< 501 Syntax error in parameters or arguments.
`},
	})
}

func TestResolve(t *testing.T) {
	for _, c := range []struct{ cwd, arg, want string }{
		{"/", "", "/"},
		{"/pub", "", "/pub"},
		{"/pub", "a", "/pub/a"},
		{"/pub", "/a", "/a"},
		{"/pub", "..", "/"},
		{"/pub", "../..", "/"},
		{"/pub", "../etc/x", "/etc/x"},
		{"/", "/../../a", "/a"},
		{"/pub", "a//b/", "/pub/a/b"},
		{"/pub", "./a/./b/..", "/pub/a"},
		{"/pub", " a ", "/pub/ a "},
		{"/", "...", "/..."},
		{"/", `a\..\b`, `/a\..\b`},
	} {
		if got := resolve(c.cwd, c.arg); got != c.want {
			t.Errorf("resolve(%q, %q) = %q, want %q", c.cwd, c.arg, got, c.want)
		}
		if !isCleanAbs(resolve(c.cwd, c.arg)) {
			t.Errorf("resolve(%q, %q) is not clean", c.cwd, c.arg)
		}
	}
}
