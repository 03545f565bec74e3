// Tests of reserved names: every command naming an upload's temporary file or folder is refused without a request.
package protocol

import "testing"

func TestReservedNames(t *testing.T) {
	const tmp = ".rftpd-upload.1a2b3c4d.0123456789ab"
	runCases(t, []scriptCase{
		{"file commands", `
login
> SIZE ` + tmp + `
< 550 File name not allowed.
> MDTM /pub/` + tmp + `
< 550 File name not allowed.
> MLST ` + tmp + `
< 550 File name not allowed.
> STAT ` + tmp + `
< 550 File name not allowed.
> STAT -la /` + tmp + `/
< 550 File name not allowed.
> CWD ` + tmp + `
< 550 File name not allowed.
> DELE ` + tmp + `
< 550 File name not allowed.
> RMD ` + tmp + `
< 550 File name not allowed.
> MKD ` + tmp + `
< 550 File name not allowed.
> MKD /pub/.rftpd-upload.stash
< 550 File name not allowed.
> RNFR ` + tmp + `
< 550 File name not allowed.
> SITE CHMOD 644 ` + tmp + `
< 550 File name not allowed.
> MFMT 20240102030405 ` + tmp + `
< 550 File name not allowed.
> RNFR a
! ReqFile renamecheck "/a"
@ EvFile
< 350 Ready for RNTO.
> RNTO sub/` + tmp + `
< 553 File name not allowed.
> RNTO b
< 503 Bad sequence of commands.
`},
		{"any element, any case, relative or absolute", `
login
> CWD /pub/.rftpd-upload.d/x
< 550 File name not allowed.
> SIZE .RFTPD-Upload.x
< 550 File name not allowed.
> SIZE /pub/../` + tmp + `/../a
! ReqFile stat "/a" ascii
@ EvFile size=1
< 213 1
> CWD pub
! ReqFile stat "/pub"
@ EvFile dir
< 250 Directory successfully changed.
> DELE ./` + tmp + `
< 550 File name not allowed.
> DELE a.rftpd-upload.x
! ReqFile delete "/pub/a.rftpd-upload.x"
@ EvFile
< 250 Delete operation successful.
> DELE .rftpd-upload
! ReqFile delete "/pub/.rftpd-upload"
@ EvFile
< 250 Delete operation successful.
`},
		{"transfers: refused before the endpoint is used", "login\n> TYPE I\n< 200 Switching to Binary mode.\n" + pasv + `
> RETR ` + tmp + `
< 550 File name not allowed.
> LIST -a ` + tmp + `
< 550 File name not allowed.
> NLST /` + tmp + `/x
< 550 File name not allowed.
> MLSD ` + tmp + `
< 550 File name not allowed.
> STOR ` + tmp + `
< 553 File name not allowed.
> APPE ` + tmp + `
< 553 File name not allowed.
> STOR /.rftpd-upload.stash/f
< 553 File name not allowed.
> REST 5
< 350 Restarting at 5. Send STORE or RETRIEVE.
> STOR ` + tmp + `
< 553 File name not allowed.
> STOR a
! ReqTransfer stor "/a"
`},
	})
}

func TestHasReserved(t *testing.T) {
	for p, want := range map[string]bool{
		"/":                        false,
		"/.rftpd-upload.":          true,
		"/.rftpd-upload":           false,
		"/a/.Rftpd-Upload.x/b":     true,
		"/a/b.rftpd-upload.x":      false,
		"/.rftpd-uploadx.y":        false,
		"/" + ReservedPrefix + "z": true,
	} {
		if got := hasReserved(p); got != want {
			t.Errorf("hasReserved(%q) = %v, want %v", p, got, want)
		}
	}
}
