// End-to-end tests with tnftp (NetBSD's ftp): scripted sessions with and without EPSV/EPRT, passive and active, and URL fetches.
package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// tnftp runs tnftp in dir, logged in as user, with the script's lines on
// stdin; -d echoes every command sent as "---> VERB ...", -v every reply.
func tnftp(t *testing.T, s *server, dir, user, pass, script string) toolResult {
	t.Helper()
	bin := needTool(t, "tnftp", "tnftp")
	host, port, _ := net.SplitHostPort(s.addr)
	stdin := fmt.Sprintf("user %s %s\n%s\nbye\n", user, pass, script)
	r := runTool(t, dir, stdin, bin, "-n", "-v", "-d", host, port)
	r.stderr = "script:\n" + stdin + r.stderr
	return r
}

// tnftpModes are the data-connection modes tnftp is driven in: the script
// lines that select one and the verb that proves it. tnftp prefers
// EPSV/EPRT; `epsv4 off` makes it use PASV/PORT, as older clients do.
var tnftpModes = []scriptMode{
	{"EPSV", "", "EPSV"},
	{"PASV", "epsv4 off", "PASV"},
	{"EPRT", "passive off", "EPRT"},
	{"PORT", "epsv4 off\npassive off", "PORT"},
}

func TestTnftpDownload(t *testing.T) {
	s := startStd(t)
	testScriptedDownload(t, s, tnftpModes, tnftp)
	// -o with a URL, as scripts fetch a single file
	dir := t.TempDir()
	bin := needTool(t, "tnftp", "tnftp")
	for i, name := range []string{fMedium, fSpaces, fEmpty} {
		local := filepath.Join(dir, fmt.Sprint(i))
		mustRun(t, dir, bin, "-V", "-o", local, s.url("", strings.ReplaceAll(name, " ", "%20")))
		checkFile(t, local, fixtureFiles[name])
	}
	if r := runTool(t, dir, "", bin, "-V", "-o", filepath.Join(dir, "missing"), s.url("", "nonexistent")); r.code == 0 {
		t.Errorf("tnftp -o of a missing file: want a failure, got %s", r)
	}
}

func TestTnftpUpload(t *testing.T) {
	testScriptedUpload(t, tnftpModes, tnftp)
}

// TestTnftpMgetGlob fetches `mget *.txt` with prompting off in folders that
// also hold other files, in every mode: tnftp sends NLST *.txt and fetches
// each name the server lists, so it needs wildcard NLST in the server
// (without it NLST *.txt gets 550 and nothing is fetched).
func TestTnftpMgetGlob(t *testing.T) {
	testScriptedMget(t, tnftpModes, "prompt off", tnftp)
}
