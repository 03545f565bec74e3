// Tests of the data endpoint, transfer parameters, transfers and ABOR.
package protocol

import "testing"

func TestEndpoint(t *testing.T) {
	runCases(t, []scriptCase{
		{"PORT", `
login
> PORT 192,0,2,10,195,80
! ReqActive 192.0.2.10:50000
< 200 PORT command successful. Consider using EPSV.
> RETR a
! ReqTransfer retr "/a" ascii
`},
		{"PORT refused elsewhere or privileged", `
login
> PORT 192,0,2,11,195,80
< 501 PORT refused: only the client's own address and ports >= 1024.
> PORT 192,0,2,10,0,21
< 501 PORT refused: only the client's own address and ports >= 1024.
> PORT 192,0,2,10,3,255
< 501 PORT refused: only the client's own address and ports >= 1024.
> PORT 192,0,2,10,4,0
! ReqActive 192.0.2.10:1024
< 200 PORT command successful. Consider using EPSV.
`},
		{"PORT syntax", `
login
> PORT 192,0,2,10,195
< 501 Illegal PORT command.
> PORT 192,0,2,10,195,80,1
< 501 Illegal PORT command.
> PORT 192,0,2,10,195,256
< 501 Illegal PORT command.
> PORT 192,0,2,10,195,0080
< 501 Illegal PORT command.
> PORT 192, 0,2,10,195,80
< 501 Illegal PORT command.
> PORT 192,0,2,10,195,80 
< 501 Illegal PORT command.
> PORT -1,0,2,10,195,80
< 501 Illegal PORT command.
> PORT
< 501 Syntax error in parameters or arguments.
`},
		{"PORT from a mapped control address", `
conn remote=[::ffff:192.0.2.10]:50000 local=[::ffff:192.0.2.1]:21
login
> PORT 192,0,2,10,195,80
! ReqActive 192.0.2.10:50000
< 200 PORT command successful. Consider using EPSV.
> PASV
! ReqPassive
`},
		{"EPRT", `
login
> EPRT |1|192.0.2.10|50001|
! ReqActive 192.0.2.10:50001
< 200 EPRT command successful. Consider using EPSV.
> EPRT !1!192.0.2.10!50002!
! ReqActive 192.0.2.10:50002
< 200 EPRT command successful. Consider using EPSV.
> EPRT |2|::ffff:192.0.2.10|50003|
! ReqActive 192.0.2.10:50003
< 200 EPRT command successful. Consider using EPSV.
> EPRT |3|192.0.2.10|50001|
< 522 Network protocol not supported, use (1,2)
> EPRT |1|192.0.2.10|80|
< 501 EPRT refused: only the client's own address and ports >= 1024.
> EPRT |1|192.0.2.99|5000|
< 501 EPRT refused: only the client's own address and ports >= 1024.
> EPRT |1|192.0.2.10|0|
< 501 Illegal EPRT command.
> EPRT |1|192.0.2.10|65536|
< 501 Illegal EPRT command.
> EPRT |1|192.0.2.10|5000
< 501 Illegal EPRT command.
> EPRT |1|192.0.2.10|5000|x|
< 501 Illegal EPRT command.
> EPRT |2|192.0.2.10|5000|
< 501 Illegal EPRT command.
> EPRT |1|::1|5000|
< 501 Illegal EPRT command.
> EPRT |x|192.0.2.10|5000|
< 501 Illegal EPRT command.
> EPRT  1 192.0.2.10 5000 
< 501 Illegal EPRT command.
`},
		{"EPRT over IPv6", `
conn remote=[2001:db8::10]:50000 local=[2001:db8::1]:21
login
> EPRT |2|2001:db8::10|50001|
! ReqActive [2001:db8::10]:50001
< 200 EPRT command successful. Consider using EPSV.
> EPRT |2|2001:db8::10%eth0|50001|
< 501 Illegal EPRT command.
> PASV
< 425 Use EPSV for IPv6.
> EPSV
! ReqPassive extended
@ EvPassive addr=[2001:db8::1]:40000
< 229 Entering Extended Passive Mode (|||40000|).
> EPSV 1
< 522 Network protocol not supported, use (2)
> EPSV 2
! ReqPassive extended
`},
		{"unknown client address", `
conn remote= local=[2001:db8::1]:21
login
> PORT 192,0,2,10,195,80
< 501 PORT refused: only the client's own address and ports >= 1024.
> PASV
< 425 Use EPSV for IPv6.
> STAT
< 211-FTP server status:
<  Connected from unknown
<  Logged in as bob
<  TYPE: ASCII, STRUcture: File, MODE: Stream
<  No data connection
< 211 End of status.
`},
		{"PASV", `
login
> PASV
! ReqPassive
? ready true
@ EvPassive addr=192.0.2.1:40000
< 227 Entering Passive Mode (192,0,2,1,156,64).
> PASV
! ReqPassive
@ EvPassive addr=[::ffff:192.0.2.1]:1
< 227 Entering Passive Mode (192,0,2,1,0,1).
`},
		{"PASV answered with IPv6", `
login
> PASV
! ReqPassive
@ EvPassive addr=[2001:db8::1]:40000
< 425 Use EPSV for IPv6.
> RETR a
< 425 Use PORT or PASV first.
`},
		{"PASV errors", `
login
> PASV
! ReqPassive
@ EvPassive err=busy
< 425 Server busy, can't open passive connection.
> PASV
! ReqPassive
@ EvPassive err=other
< 425 Can't open passive connection.
> PASV
! ReqPassive
@ EvPassive
< 425 Can't open passive connection.
> LIST
< 425 Use PORT or PASV first.
`},
		{"PASV failure forgets an earlier PORT", `
login
> PORT 192,0,2,10,195,80
! ReqActive 192.0.2.10:50000
< 200 PORT command successful. Consider using EPSV.
> PASV
! ReqPassive
@ EvPassive err=other
< 425 Can't open passive connection.
> RETR x
< 425 Use PORT or PASV first.
`},
		{"EPSV", `
login
> EPSV
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40000
< 229 Entering Extended Passive Mode (|||40000|).
> EPSV 1
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40001
< 229 Entering Extended Passive Mode (|||40001|).
> EPSV 2
< 522 Network protocol not supported, use (1)
> EPSV 7
< 522 Network protocol not supported, use (1)
> EPSV x
< 501 Illegal EPSV command.
> EPSV all
< 200 EPSV ALL ok.
> PORT 192,0,2,10,195,80
< 501 PORT not allowed after EPSV ALL.
> EPRT |1|192.0.2.10|50001|
< 501 EPRT not allowed after EPSV ALL.
> PASV
< 501 PASV not allowed after EPSV ALL.
> EPSV
! ReqPassive extended
`},
		{"endpoint needed and consumed", `
login
> RETR a
< 425 Use PORT or PASV first.
> STOR a
< 425 Use PORT or PASV first.
> APPE a
< 425 Use PORT or PASV first.
> STOU
< 425 Use PORT or PASV first.
> LIST
< 425 Use PORT or PASV first.
> NLST
< 425 Use PORT or PASV first.
> MLSD
< 425 Use PORT or PASV first.
> EPSV
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40000
< 229 Entering Extended Passive Mode (|||40000|).
> NLST
! ReqTransfer nlst "/"
@ EvTransferStart
< 150 Here comes the directory listing.
@ EvTransferDone
< 226 Directory send OK.
> NLST
< 425 Use PORT or PASV first.
`},
		{"a failed transfer consumes the endpoint too", `
login
> EPSV
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40000
< 229 Entering Extended Passive Mode (|||40000|).
> RETR nope
! ReqTransfer retr "/nope" ascii
@ EvTransferDone err=notexist
< 550 No such file or directory.
> RETR nope
< 425 Use PORT or PASV first.
`},
	})
}

func TestParameters(t *testing.T) {
	runCases(t, []scriptCase{
		{"TYPE", `
login
> TYPE I
< 200 Switching to Binary mode.
> TYPE a
< 200 Switching to ASCII mode.
> TYPE L 8
< 200 Switching to Binary mode.
> TYPE A N
< 200 Switching to ASCII mode.
> type i
< 200 Switching to Binary mode.
> TYPE E
< 504 Command not implemented for that parameter.
> TYPE A T
< 504 Command not implemented for that parameter.
> TYPE L 7
< 504 Command not implemented for that parameter.
> TYPE X
< 504 Command not implemented for that parameter.
> TYPE L
< 501 Unrecognised TYPE command.
> TYPE AN
< 501 Unrecognised TYPE command.
> TYPE A  N
< 501 Unrecognised TYPE command.
> TYPE
< 501 Syntax error in parameters or arguments.
`},
		// RFC 959 §4.2, §5.3.2: a code the grammar knows but rftpd does
		// not do is 504; anything else is malformed, 501.
		{"STRU and MODE", `
login
> STRU ?!?
< 501 STRU takes F, R or P.
> MODE ?!?
< 501 MODE takes S, B, C or Z.
> MODE SS
< 501 MODE takes S, B, C or Z.
> STRU F
< 200 Structure set to F.
> STRU f
< 200 Structure set to F.
> STRU R
< 504 Command not implemented for that parameter.
> STRU P
< 504 Command not implemented for that parameter.
> MODE S
< 200 Mode set to S.
> MODE B
< 504 Command not implemented for that parameter.
> MODE Z
< 504 Command not implemented for that parameter.
> MODE
< 501 Syntax error in parameters or arguments.
`},
		// RFC 959 §5.3.2: ALLO <SP> <decimal-integer> [<SP> R <SP> <decimal-integer>]
		{"ALLO", `
login
> ALLO 1000
< 202 ALLO not needed.
> ALLO 1000 R 512
< 202 ALLO not needed.
> ALLO
< 501 Syntax error in parameters or arguments.
> ALLO big
< 501 ALLO needs a decimal size, optionally followed by R and a record size.
> ALLO 1000 R
< 501 ALLO needs a decimal size, optionally followed by R and a record size.
> ALLO 1000 X 5
< 501 ALLO needs a decimal size, optionally followed by R and a record size.
`},
		// RFC 3659 §5.3: a restart marker counts transfer bytes. For a
		// download in TYPE A the DTP finds the stored offset (the request
		// carries the marker and ascii); an upload's marker counts bytes
		// the stored file does not hold: 504, and the endpoint stays.
		// MODE Z: offered only when configured (504 otherwise, and no
		// FEAT line); the level starts at the configured default, OPTS
		// MODE Z LEVEL changes it within the maximum; MODE S and REIN
		// turn it off.
		{"MODE Z off", `
login
> MODE Z
< 504 Command not implemented for that parameter.
> OPTS MODE Z LEVEL 9
< 501 Option not understood.
`},
		{"MODE Z", "config modez=on zlevel=5 zmax=8\nlogin\n> TYPE I\n< 200 Switching to Binary mode.\n> MODE Z\n< 200 Mode set to Z.\n" + pasv + `
> RETR a.txt
! ReqTransfer retr "/a.txt" deflate=5
@ EvTransferDone err=notexist
< 550 No such file or directory.
> OPTS MODE Z LEVEL 9
< 501 MODE Z LEVEL takes 1 to 8.
> OPTS MODE Z LEVEL x
< 501 MODE Z LEVEL takes 1 to 8.
> OPTS MODE Z LEVEL 1
< 200 MODE Z LEVEL set to 1.
` + pasv + `
> STOR b.txt
! ReqTransfer stor "/b.txt" deflate=1
@ EvTransferDone err=notexist
< 553 Could not create file.
> MODE S
< 200 Mode set to S.
` + pasv + `
> LIST
! ReqTransfer list "/"
`},
		{"REST in TYPE A", "login\n" + pasv + `
> REST 7
< 350 Restarting at 7. Send STORE or RETRIEVE.
> RETR notes.txt
! ReqTransfer retr "/notes.txt" offset=7 ascii
@ EvTransferDone err=asciiscan
< 550 The file is too large for a TYPE A size or restart offset; use TYPE I.
` + pasv + `
> REST 7
< 350 Restarting at 7. Send STORE or RETRIEVE.
> STOR notes.txt
< 504 REST with STOR or APPE is not supported in TYPE A; use TYPE I.
> STOR notes.txt
! ReqTransfer stor "/notes.txt" ascii
`},
		{"REST syntax", `
login
> REST 0
< 350 Restarting at 0. Send STORE or RETRIEVE.
> REST 007
< 350 Restarting at 7. Send STORE or RETRIEVE.
> REST 9223372036854775807
< 350 Restarting at 9223372036854775807. Send STORE or RETRIEVE.
> REST 9223372036854775808
< 501 REST needs a non-negative integer.
> REST -1
< 501 REST needs a non-negative integer.
> REST +1
< 501 REST needs a non-negative integer.
> REST 1x
< 501 REST needs a non-negative integer.
> REST
< 501 Syntax error in parameters or arguments.
`},
	})
}

// pasv is the script lines that set a passive endpoint.
const pasv = `
> EPSV
! ReqPassive extended
@ EvPassive addr=192.0.2.1:40000
< 229 Entering Extended Passive Mode (|||40000|).
`

func TestTransfers(t *testing.T) {
	runCases(t, []scriptCase{
		{"RETR binary", "login\n> TYPE I\n< 200 Switching to Binary mode.\n" + pasv + `
> RETR dir/a.txt
! ReqTransfer retr "/dir/a.txt"
? deadline +30s
@ EvTransferStart size=1234
< 150 Opening BINARY mode data connection for /dir/a.txt (1234 bytes).
? deadline none
@ EvTransferDone bytes=1234
< 226 Transfer complete.
? deadline +5m0s
`},
		{"RETR ascii, unknown size", "login" + pasv + `
> RETR a.txt
! ReqTransfer retr "/a.txt" ascii
@ EvTransferStart
< 150 Opening ASCII mode data connection for /a.txt.
@ EvTransferDone
< 226 Transfer complete.
`},
		{"REST applies to the next RETR only", "login\n> TYPE I\n< 200 Switching to Binary mode.\n> REST 100\n< 350 Restarting at 100. Send STORE or RETRIEVE.\n" + pasv + `
> RETR a
! ReqTransfer retr "/a" offset=100
@ EvTransferStart size=900
< 150 Opening BINARY mode data connection for /a (900 bytes).
@ EvTransferDone
< 226 Transfer complete.
` + pasv + `
> RETR a
! ReqTransfer retr "/a"
`},
		{"REST with STOR", "login\n> TYPE I\n< 200 Switching to Binary mode.\n> REST 7\n< 350 Restarting at 7. Send STORE or RETRIEVE.\n" + pasv + `
> STOR a
! ReqTransfer stor "/a" offset=7
@ EvTransferStart
< 150 Ok to send data.
@ EvTransferDone bytes=3
< 226 Transfer complete.
`},
		{"REST with APPE, consumed", "login\n> TYPE I\n< 200 Switching to Binary mode.\n> REST 7\n< 350 Restarting at 7. Send STORE or RETRIEVE.\n" + pasv + `
> APPE a
! ReqTransfer appe "/a" offset=7
@ EvTransferStart
< 150 Ok to send data.
@ EvTransferDone
< 226 Transfer complete.
` + pasv + `
> STOR a
! ReqTransfer stor "/a"
`},
		{"REST past the end: 554 before any data connection", "login\n> TYPE I\n< 200 Switching to Binary mode.\n> REST 1099511627776\n< 350 Restarting at 1099511627776. Send STORE or RETRIEVE.\n" + pasv + `
> RETR a
! ReqTransfer retr "/a" offset=1099511627776
@ EvTransferDone err=badoffset
< 554 Requested action not taken: invalid REST parameter.
> REST 1099511627776
< 350 Restarting at 1099511627776. Send STORE or RETRIEVE.
` + pasv + `
> STOR a
! ReqTransfer stor "/a" offset=1099511627776
@ EvTransferDone err=badoffset
< 554 Requested action not taken: invalid REST parameter.
> REST 5
< 350 Restarting at 5. Send STORE or RETRIEVE.
` + pasv + `
> APPE a
! ReqTransfer appe "/a" offset=5
@ EvTransferDone err=badoffset
< 554 Requested action not taken: invalid REST parameter.
`},
		{"REST past the end of a protected upload: 554 after the 150", "login\n> TYPE I\n< 200 Switching to Binary mode.\n> REST 9\n< 350 Restarting at 9. Send STORE or RETRIEVE.\n" + pasv + `
> STOR a
! ReqTransfer stor "/a" offset=9
@ EvTransferStart
< 150 Ok to send data.
@ EvTransferDone err=badoffset
< 554 Requested action not taken: invalid REST parameter.
`},
		{"REST consumed by a refused RETR", `
login
> REST 7
< 350 Restarting at 7. Send STORE or RETRIEVE.
> RETR a
< 425 Use PORT or PASV first.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
`},
		{"REST survives other commands", `
login
> REST 7
< 350 Restarting at 7. Send STORE or RETRIEVE.
> TYPE I
< 200 Switching to Binary mode.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" offset=7
`},
		{"STOU", "login" + pasv + `
> STOU
! ReqTransfer stou "/" ascii
@ EvTransferStart name=a.1
< 150 FILE: a.1
@ EvTransferDone
< 226 Transfer complete.
` + pasv + `
> STOU hint
! ReqTransfer stou "/" ascii
@ EvTransferStart
< 150 Ok to send data.
`},
		{"transfer permissions", "login perms=read" + pasv + `
> STOR a
< 550 Permission denied.
> APPE a
< 550 Permission denied.
> STOU
< 550 Permission denied.
> RETR a
! ReqTransfer retr "/a" ascii
`},
		{"read permission", "login perms=write" + pasv + `
> RETR a
< 550 Permission denied.
> LIST
< 550 Permission denied.
> NLST
< 550 Permission denied.
> MLSD
< 550 Permission denied.
> STOR a
! ReqTransfer stor "/a" ascii
`},
		{"errors before 150, download", "login" + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferDone err=notexist
< 550 No such file or directory.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferDone err=isdir
< 550 Is a directory.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferDone err=escapes
< 550 Permission denied.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferDone err=fsperm
< 550 Permission denied.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferDone err=dataconn
< 425 Can't open data connection.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferDone err=noendpoint
< 425 Use PORT or PASV first.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferDone err=busy
< 450 Server busy, try again later.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferDone err=other
< 451 Requested action aborted: local error in processing.
` + pasv + `
> MLSD f
! ReqTransfer mlsd "/f"
@ EvTransferDone err=notdir
< 501 MLSD needs a directory; use MLST for a file.
`},
		{"errors before 150, upload", "login" + pasv + `
> STOR a
! ReqTransfer stor "/a" ascii
@ EvTransferDone err=notexist
< 553 Could not create file.
` + pasv + `
> STOR d
! ReqTransfer stor "/d" ascii
@ EvTransferDone err=isdir
< 553 Could not create file.
` + pasv + `
> STOR a
! ReqTransfer stor "/a" ascii
@ EvTransferDone err=perm
< 550 Permission denied.
` + pasv + `
> APPE a
! ReqTransfer appe "/a" ascii
@ EvTransferDone err=quota
< 552 Exceeded storage allocation.
` + pasv + `
> STOU
! ReqTransfer stou "/" ascii
@ EvTransferDone err=nospace
< 452 Insufficient storage space.
` + pasv + `
> STOR a
! ReqTransfer stor "/a" ascii
@ EvTransferDone err=other
< 451 Requested action aborted: local error in processing.
`},
		{"errors after 150", "login" + pasv + `
> STOR a
! ReqTransfer stor "/a" ascii
@ EvTransferStart
< 150 Ok to send data.
@ EvTransferDone err=nospace
< 452 Insufficient storage space.
` + pasv + `
> STOR a
! ReqTransfer stor "/a" ascii
@ EvTransferStart
< 150 Ok to send data.
@ EvTransferDone bytes=100 err=other
< 451 Requested action aborted: local error in processing.
` + pasv + `
> STOR a
! ReqTransfer stor "/a" ascii
@ EvTransferStart
< 150 Ok to send data.
@ EvTransferDone err=quota
< 552 Exceeded storage allocation.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferStart size=10
< 150 Opening ASCII mode data connection for /a (10 bytes).
@ EvTransferDone err=dataconn
< 426 Connection closed; transfer aborted.
` + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
@ EvTransferStart size=10
< 150 Opening ASCII mode data connection for /a (10 bytes).
@ EvTransferDone err=notexist
< 451 Requested action aborted: local error in processing.
` + pasv + `
> LIST
! ReqTransfer list "/"
@ EvTransferStart
< 150 Here comes the directory listing.
@ EvTransferDone err=aborted
< 426 Connection closed; transfer aborted.
`},
		{"ABOR during transfer", "login" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart size=1000000
< 150 Opening ASCII mode data connection for /big (1000000 bytes).
> ABOR
! ReqAbort
> ABOR
@ EvTransferDone bytes=5000 err=aborted
< 426 Connection closed; transfer aborted.
< 226 Abort successful.
< 225 No transfer to abort.
`},
		{"ABOR before the data connection", "login" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
> ABOR
! ReqAbort
? deadline +30s
@ EvTransferStart size=5
? ignored 1
@ EvTransferDone err=aborted
< 426 Connection closed; transfer aborted.
< 226 Abort successful.
? deadline +5m0s
`},
		{"ABOR after the transfer finished", "login" + pasv + `
> RETR small
! ReqTransfer retr "/small" ascii
@ EvTransferStart size=5
< 150 Opening ASCII mode data connection for /small (5 bytes).
> ABOR
! ReqAbort
@ EvTransferDone bytes=5
< 226 Transfer complete.
< 225 No transfer to abort.
`},
		{"ABOR with the data connection failing", "login" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart
< 150 Opening ASCII mode data connection for /big.
> ABOR
! ReqAbort
@ EvTransferDone err=dataconn
< 426 Connection closed; transfer aborted.
< 226 Abort successful.
`},
		{"ABOR idle", `
login
> ABOR
< 225 No transfer to abort.
> ABOR x
< 501 ABOR takes no argument.
`},
		{"ABOR while a file op waits is queued", `
login
> CWD x
! ReqFile stat "/x"
> ABOR
@ EvFile dir
< 250 Directory successfully changed.
< 225 No transfer to abort.
`},
		{"data connection timeout", "config data=10s\nlogin" + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
? deadline +10s
+ 9s
+ 1s
! ReqAbort
? deadline none
+ 1h
@ EvTransferStart
? ignored 1
@ EvTransferDone err=aborted
< 425 Can't open data connection.
`},
		{"data timeout then ABOR", "config data=10s\nlogin" + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
+ 10s
! ReqAbort
> ABOR
@ EvTransferDone err=aborted
< 425 Can't open data connection.
< 226 Abort successful.
`},
		{"data timeout loses the race", "config data=10s\nlogin" + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
+ 10s
! ReqAbort
@ EvTransferDone bytes=3
< 226 Transfer complete.
`},
		{"no data timeout once started", "config data=10s\nlogin" + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
~ 5s
@ EvTransferStart size=3
< 150 Opening ASCII mode data connection for /a (3 bytes).
+ 1h
? deadline none
@ EvTransferDone bytes=3
< 226 Transfer complete.
? deadline +1h5m5s
`},
		{"data timeout disabled", "config data=0s\nlogin" + pasv + `
> RETR a
! ReqTransfer retr "/a" ascii
? deadline none
+ 24h
`},
		{"STAT during transfer", "login" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
> STAT
< 213 Status: opening data connection for /big.
@ EvTransferStart progress=4096
< 150 Opening ASCII mode data connection for /big.
> STAT
< 213 Status: transferring /big, 4096 bytes so far.
> STAT /other
< 213 Status: transferring /big, 4096 bytes so far.
@ EvTransferDone
< 226 Transfer complete.
> STAT x y
! ReqStatList "/x y"
`},
		{"stalled transfer aborted", "config stall=30s\nlogin" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart progress=4096
< 150 Opening ASCII mode data connection for /big.
? deadline +30s
+ 30s
? deadline +1m0s
+ 30s
! ReqAbort
> NOOP
@ EvTransferDone bytes=4096 err=aborted
< 426 Transfer stalled: no data moved within the timeout; aborted.
< 200 NOOP ok.
`},
		{"moving transfer not stalled", "config stall=30s\nlogin" + pasv + `
> STOR big
! ReqTransfer stor "/big" ascii
@ EvTransferStart progress=grow
< 150 Ok to send data.
+ 30s
? deadline +1m0s
+ 30s
? deadline +1m30s
@ EvTransferDone bytes=2000
< 226 Transfer complete.
`},
		{"a transfer under the minimum rate is aborted", "config stall=0s minrate=100 window=60s\nlogin" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart progress=5999
< 150 Opening ASCII mode data connection for /big.
? deadline +1m0s
+ 59s
+ 1s
! ReqAbort
@ EvTransferDone err=aborted
< 426 Transfer too slow: under 100 bytes/s; aborted.
`},
		{"a transfer over the minimum rate goes on, window after window", "config stall=0s minrate=10 window=60s\nlogin" + pasv + `
> STOR big
! ReqTransfer stor "/big" ascii
@ EvTransferStart progress=grow
< 150 Ok to send data.
+ 60s
? deadline +2m0s
+ 60s
? deadline +3m0s
@ EvTransferDone bytes=2000
< 226 Transfer complete.
`},
		{"ABOR after the minimum rate aborted", "config stall=0s minrate=100 window=10s\nlogin" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart progress=0
< 150 Opening ASCII mode data connection for /big.
+ 10s
! ReqAbort
> ABOR
@ EvTransferDone err=aborted
< 426 Transfer too slow: under 100 bytes/s; aborted.
< 226 Abort successful.
`},
		{"ABOR after the stall timer fired", "config stall=30s\nlogin" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart progress=0
< 150 Opening ASCII mode data connection for /big.
+ 30s
! ReqAbort
> ABOR
@ EvTransferDone err=aborted
< 426 Transfer stalled: no data moved within the timeout; aborted.
< 226 Abort successful.
`},
		{"STAT during transfer shows the rate", "login" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart progress=grow
< 150 Opening ASCII mode data connection for /big.
+ 2s
> STAT
< 213 Status: transferring /big, 1000 bytes so far, 500 bytes/s.
+ 500ms
> STAT
< 213 Status: transferring /big, 2000 bytes so far, 800 bytes/s.
+ 1500ms
> STAT
< 213 Status: transferring /big, 3000 bytes so far, 1000 bytes/s.
`},
		{"STAT during transfer without progress", "login" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart
< 150 Opening ASCII mode data connection for /big.
> STAT
< 213 Status: transferring /big, 0 bytes so far.
`},
		{"QUIT during transfer", "login" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
@ EvTransferStart
< 150 Opening ASCII mode data connection for /big.
> QUIT
? ready false
> NOOP
@ EvTransferDone
< 226 Transfer complete.
< 221 Goodbye.
= close
`},
		{"QUIT during transfer drops queued lines", "login" + pasv + `
> RETR big
! ReqTransfer retr "/big" ascii
> PWD
> QUIT
@ EvTransferDone err=dataconn
< 425 Can't open data connection.
< 221 Goodbye.
= close
`},
		{"late and stray events", `
login
@ EvTransferStart
@ EvTransferDone
@ EvFile
@ EvPassive addr=192.0.2.1:4000
@ EvStatList
@ EvLogin ok
@ nil
? ignored 7
> PWD
< 257 "/" is the current directory.
`},
	})
}

func TestPointerEvents(t *testing.T) {
	cfg := testConfig()
	s := NewSession(&cfg, testConn, scriptStart)
	s.Line([]byte("USER bob"), scriptStart)
	s.Line([]byte("PASS x"), scriptStart)
	s.TakeOutput()
	s.Event((*EvLogin)(nil), scriptStart)
	if s.ignored != 1 {
		t.Fatalf("nil *EvLogin not ignored")
	}
	s.Event(&EvLogin{OK: true, Perms: PermRead}, scriptStart)
	if got := string(s.TakeOutput().Reply); got != "230 Login successful.\r\n" {
		t.Fatalf("reply to *EvLogin = %q", got)
	}
	for _, ev := range []Event{(*EvFile)(nil), (*EvStatList)(nil), (*EvPassive)(nil), (*EvTransferStart)(nil), (*EvTransferDone)(nil)} {
		s.Event(ev, scriptStart)
	}
	if s.ignored != 6 {
		t.Fatalf("ignored = %d, want 6", s.ignored)
	}
	s.Line([]byte("MDTM a"), scriptStart)
	s.TakeOutput()
	s.Event(&EvFile{Info: FileInfo{ModTime: scriptStart}}, scriptStart)
	if got := string(s.TakeOutput().Reply); got != "213 20240304120000\r\n" {
		t.Fatalf("reply to *EvFile = %q", got)
	}
}
