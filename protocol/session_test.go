// Tests of the session's queue, timers and shutdown.
package protocol

import (
	"strings"
	"testing"
	"time"
)

func TestQueue(t *testing.T) {
	runCases(t, []scriptCase{
		{"pipelined commands run in order", `
login
> CWD a
! ReqFile stat "/a"
> PWD
> SIZE x
> NOOP
? ready true
@ EvFile dir
< 250 Directory successfully changed.
< 257 "/a" is the current directory.
! ReqFile stat "/a/x" ascii
@ EvFile size=5
< 213 5
< 200 NOOP ok.
`},
		{"pipelined login", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS x
! ReqLogin user="bob" pass="x"
> PWD
> CWD d
> XYZZY
@ EvLogin ok perms=all
< 230 Login successful.
< 257 "/" is the current directory.
! ReqFile stat "/d"
@ EvFile err=notexist
< 550 No such file or directory.
< 500 Syntax error, command unrecognized.
`},
		{"pipelined login that fails", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS x
! ReqLogin user="bob" pass="x"
> PWD
> USER bob
@ EvLogin
+ 1s
< 530 Login incorrect.
< 530 Please log in with USER and PASS.
< 331 Password required for bob.
`},
		{"queue limit", `
config queue=2
login
> CWD a
! ReqFile stat "/a"
> NOOP
? ready true
> NOOP
? ready false
@ EvFile dir
< 250 Directory successfully changed.
< 200 NOOP ok.
< 200 NOOP ok.
? ready true
`},
		{"a line past the limit closes", `
config queue=1
login
> CWD a
! ReqFile stat "/a"
> NOOP
? ready false
> NOOP
< 421 Too many commands queued, closing control connection.
= close
@ EvFile dir
? ignored 1
`},
		{"queue of zero still lets ABOR through", `
config queue=0
login
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
? ready true
> PWD
? ready false
> ABOR
! ReqAbort
@ EvTransferDone err=aborted
< 426 Connection closed; transfer aborted.
< 226 Abort successful.
< 257 "/" is the current directory.
`},
		{"too-long line keeps its turn", `
login
> CWD a
! ReqFile stat "/a"
toolong
> NOOP
@ EvFile dir
< 250 Directory successfully changed.
< 500 Line too long.
< 200 NOOP ok.
`},
		{"ABOR STAT QUIT jump the queue during a transfer", "login" + pasv + `
> LIST
! ReqTransfer list "/"
> PWD
> SYST
> STAT
< 213 Status: opening data connection for /.
> ABOR
! ReqAbort
@ EvTransferStart
@ EvTransferDone err=aborted
< 426 Connection closed; transfer aborted.
< 226 Abort successful.
< 257 "/" is the current directory.
< 215 UNIX Type: L8
`},
		{"lines queued behind a transfer wait for it", "login" + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
> EPSV
> RETR b
@ EvTransferStart size=1
< 150 Opening ASCII mode data connection for /a (1 bytes).
@ EvTransferDone bytes=1
< 226 Transfer complete.
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40001
< 229 Entering Extended Passive Mode (|||40001|).
! ReqTransfer retr "/b" ascii
@ EvTransferStart size=2
< 150 Opening ASCII mode data connection for /b (2 bytes).
@ EvTransferDone bytes=2
< 226 Transfer complete.
`},
		{"QUIT queued behind a file op", `
login
> MKD x
! ReqFile mkdir "/x"
> QUIT
> NOOP
@ EvFile dir
< 257 "/x" created.
< 221 Goodbye.
= close
`},
		{"STAT with a path queues behind a file op", `
login
> DELE x
! ReqFile delete "/x"
> STAT
@ EvFile
< 250 Delete operation successful.
< 211-FTP server status:
<  Connected from 192.0.2.10
<  Logged in as bob
<  TYPE: ASCII, STRUcture: File, MODE: Stream
<  No data connection
< 211 End of status.
`},
	})
}

func TestQueuedLinesAreCopied(t *testing.T) {
	cfg := testConfig()
	s := NewSession(&cfg, testConn, scriptStart)
	buf := []byte("USER bob")
	s.Line(buf, scriptStart)
	copy(buf, "PASS x")
	s.Line(buf[:6], scriptStart)
	buf = append(buf[:0], "CWD /abc"...)
	s.Line(buf, scriptStart)
	copy(buf, "CWD /xyz")
	s.TakeOutput()
	s.Event(EvLogin{OK: true, Perms: PermRead}, scriptStart)
	out := s.TakeOutput()
	if len(out.Requests) != 1 || out.Requests[0] != (ReqFile{Op: OpStat, Path: "/abc"}) {
		t.Fatalf("requests = %v, want a stat of /abc", out.Requests)
	}
}

func TestIdleSessionHoldsNoBuffers(t *testing.T) {
	cfg := testConfig()
	s := NewSession(&cfg, testConn, scriptStart)
	s.TakeOutput()
	for _, l := range []string{"USER bob", "PASS x", "PWD", "CWD a", "NOOP", "NOOP"} {
		s.Line([]byte(l), scriptStart)
	}
	s.Event(EvLogin{OK: true, Perms: PermRead}, scriptStart)
	s.Event(EvFile{Info: FileInfo{Mode: 1 << 31}}, scriptStart)
	out := s.TakeOutput()
	if len(out.Reply) == 0 {
		t.Fatal("no replies")
	}
	if s.queue != nil || s.out.Reply != nil || s.out.Requests != nil {
		t.Fatalf("idle session keeps buffers: queue %d, reply %d, requests %d", cap(s.queue), cap(s.out.Reply), cap(s.out.Requests))
	}
}

func TestTimers(t *testing.T) {
	runCases(t, []scriptCase{
		{"login timeout", `
< 220 rftpd ready.
? deadline +1m0s
+ 59s
> USER bob
< 331 Password required for bob.
? deadline +1m0s
+ 1s
< 421 Login timeout, closing control connection.
= close
? deadline none
+ 1h
`},
		{"login timeout while the password is checked", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS x
! ReqLogin user="bob" pass="x"
? deadline +1m0s
+ 1m
< 421 Login timeout, closing control connection.
= close
@ EvLogin ok
? ignored 1
`},
		{"idle timeout after login", `
login
? deadline +5m0s
~ 1m
> NOOP
< 200 NOOP ok.
? deadline +6m0s
+ 4m
+ 59s
+ 1s
< 421 Idle timeout, closing control connection.
= close
`},
		{"idle timeout before login when shorter", `
config idle=10s
< 220 rftpd ready.
? deadline +10s
+ 10s
< 421 Idle timeout, closing control connection.
= close
`},
		{"no idle timeout while waiting", `
login
> CWD x
! ReqFile stat "/x"
? deadline none
+ 1h
~ 1s
@ EvFile dir
< 250 Directory successfully changed.
? deadline +1h5m1s
`},
		{"no idle timeout during a transfer", "config data=0s\nlogin" + pasv + `
> RETR x
! ReqTransfer retr "/x" ascii
? deadline none
+ 24h
@ EvTransferStart
< 150 Opening ASCII mode data connection for /x.
+ 24h
@ EvTransferDone
< 226 Transfer complete.
? deadline +48h5m0s
`},
		{"no timers configured", `
config login=0s idle=0s data=0s
< 220 rftpd ready.
? deadline none
+ 1000h
login
? deadline none
`},
		{"early tick does nothing", `
< 220 rftpd ready.
+ 1s
+ 58s
> NOOP
< 200 NOOP ok.
`},
	})
}

func TestShutdown(t *testing.T) {
	runCases(t, []scriptCase{
		{"idle", `
login
shutdown
< 421 Server shutting down.
= close
shutdown
`},
		{"before login", `
< 220 rftpd ready.
shutdown
< 421 Server shutting down.
= close
`},
		{"during a transfer", "login" + pasv + `
> RETR x
! ReqTransfer retr "/x" ascii
> NOOP
@ EvTransferStart size=3
< 150 Opening ASCII mode data connection for /x (3 bytes).
shutdown
> PWD
@ EvTransferDone bytes=3
< 226 Transfer complete.
< 421 Server shutting down.
= close
`},
		{"during a transfer, ABOR still works", "login" + pasv + `
> RETR x
! ReqTransfer retr "/x" ascii
shutdown
> ABOR
! ReqAbort
@ EvTransferDone err=aborted
< 426 Connection closed; transfer aborted.
< 226 Abort successful.
< 421 Server shutting down.
= close
`},
		{"during a file op", `
login
> SIZE x
! ReqFile stat "/x" ascii
shutdown
@ EvFile size=1
< 213 1
< 421 Server shutting down.
= close
`},
		{"during a password check", `
< 220 rftpd ready.
> USER bob
< 331 Password required for bob.
> PASS x
! ReqLogin user="bob" pass="x"
shutdown
@ EvLogin ok
< 230 Login successful.
< 421 Server shutting down.
= close
`},
		{"QUIT then shutdown during a transfer", "login" + pasv + `
> RETR x
! ReqTransfer retr "/x" ascii
> QUIT
shutdown
@ EvTransferDone
< 226 Transfer complete.
< 221 Goodbye.
= close
`},
	})
}

// TestEveryCommandOneReply sends every verb in every resting state and
// checks that each line gets exactly one final reply or one request.
func TestEveryCommandOneReply(t *testing.T) {
	args := []string{"", " x", " /", " 1", " -la", " ALL", " 127,0,0,1,4,0", " |1|192.0.2.10|5000|"}
	for _, setup := range []string{"", "USER bob", "login"} {
		for i := range commands {
			for _, arg := range args {
				cfg := testConfig()
				s := NewSession(&cfg, testConn, scriptStart)
				switch setup {
				case "USER bob":
					s.Line([]byte("USER bob"), scriptStart)
				case "login":
					s.Line([]byte("USER bob"), scriptStart)
					s.Line([]byte("PASS x"), scriptStart)
					s.Event(EvLogin{OK: true, Perms: PermRead | PermWrite | PermDelete | PermRename | PermMkdir}, scriptStart)
				}
				s.TakeOutput()
				line := commands[i].verb + arg
				s.Line([]byte(line), scriptStart)
				out := s.TakeOutput()
				finals := countFinals(out.Reply)
				waits := stateTable[s.state].busy
				switch {
				case waits && finals != 0:
					t.Errorf("%s / %q: waits and replied %q", setup, line, out.Reply)
				case !waits && finals != 1:
					t.Errorf("%s / %q: %d final replies in %q", setup, line, finals, out.Reply)
				case waits && len(out.Requests) == 0:
					t.Errorf("%s / %q: waits without a request", setup, line)
				}
				if s.bug != nil {
					t.Errorf("%s / %q: %v", setup, line, s.bug)
				}
			}
		}
	}
}

// countFinals counts the final lines (code and space, outside a
// multi-line reply's inner lines) with a code of 2xx–5xx.
func countFinals(b []byte) int {
	n, open := 0, ""
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n") {
		if len(line) < 4 {
			continue
		}
		if open != "" {
			if line[:3] == open && line[3] == ' ' {
				open = ""
				n++
			}
			continue
		}
		if line[3] == '-' {
			open = line[:3]
			continue
		}
		if line[0] >= '2' && line[0] <= '5' {
			n++
		}
	}
	return n
}

func TestNilConfig(t *testing.T) {
	s := NewSession(nil, ConnInfo{}, time.Time{})
	if got := string(s.TakeOutput().Reply); got != "220 rftpd ready.\r\n" {
		t.Fatalf("greeting %q", got)
	}
	s.Line([]byte("PASV"), time.Time{}) // not logged in
	s.Line([]byte("USER ftp"), time.Time{})
	if got := string(s.TakeOutput().Reply); !strings.HasPrefix(got, "530 Please log in") || !strings.Contains(got, "530 Anonymous login is not allowed.") {
		t.Fatalf("replies %q", got)
	}
}

func TestHTTPRequestCloses(t *testing.T) {
	runCases(t, []scriptCase{
		{"GET before login", `
< 220 rftpd ready.
> GET / HTTP/1.1
< 421 This is an FTP server; closing control connection.
= close
`},
		{"CONNECT after login", `
login
> CONNECT example.org:443 HTTP/1.0
< 421 This is an FTP server; closing control connection.
= close
`},
		{"post lower case", `
< 220 rftpd ready.
> post /upload HTTP/1.1
< 421 This is an FTP server; closing control connection.
= close
`},
		{"an HTTP method without a version is just unknown", `
< 220 rftpd ready.
> GET /file
< 500 Syntax error, command unrecognized.
> DELETE x
< 500 Syntax error, command unrecognized.
`},
	})
}
