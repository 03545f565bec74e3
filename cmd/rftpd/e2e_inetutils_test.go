// End-to-end tests with GNU inetutils ftp, scripted on stdin as firmware and shell scripts drive it: passive and active.
package main

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// inetutilsFtp runs inetutils ftp (Debian's /usr/bin/inetutils-ftp; the ftp
// alternative may name another client) in dir, logged in as user, with the
// script's lines on stdin. It starts in passive mode (PASV; the script's
// `passive` toggles it off, to PORT); -d echoes every command sent as
// "---> VERB ...", -v every reply.
func inetutilsFtp(t *testing.T, s *server, dir, user, pass, script string) toolResult {
	t.Helper()
	bin := needTool(t, "inetutils-ftp", "inetutils-ftp")
	host, port, _ := net.SplitHostPort(s.addr)
	stdin := fmt.Sprintf("user %s %s\n%s\nbye\n", user, pass, script)
	r := runTool(t, dir, stdin, bin, "-n", "-v", "-d", "-p", host, port)
	r.stderr = "script:\n" + stdin + r.stderr
	return r
}

// ftpSent returns the verbs a client echoed as "---> VERB ..." (inetutils
// ftp -d, tnftp -d), in order.
func ftpSent(out string) []string {
	var verbs []string
	for _, l := range strings.Split(out, "\n") {
		if c, ok := strings.CutPrefix(l, "---> "); ok {
			v, _, _ := strings.Cut(c, " ")
			verbs = append(verbs, strings.TrimSpace(v))
		}
	}
	return verbs
}

// printedErrorReply matches a 4xx or 5xx reply as the clients print it.
var printedErrorReply = regexp.MustCompile(`(?m)^[45]\d\d[ -].*$`)

// mustFtpScript fails the test unless the client's output holds no error
// reply (these clients exit 0 whatever a scripted command gets) and it sent
// every verb of want.
func mustFtpScript(t *testing.T, r toolResult, want ...string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit status %d\n%s", r.code, r)
	}
	if e := printedErrorReply.FindAllString(r.stdout, -1); len(e) > 0 {
		t.Errorf("error replies %q\n%s", e, r)
	}
	sent := ftpSent(r.stdout)
	for _, v := range want {
		if !slices.Contains(sent, v) {
			t.Errorf("the client did not send %s: %q\n%s", v, sent, r)
		}
	}
}

// inetutilsModes are the data-connection modes inetutils ftp is driven in:
// the script line that selects it and the verb that proves it.
// scriptMode is one data-connection mode of a client scripted on stdin:
// its name, the commands that select it, and the verb it then sends.
type scriptMode struct{ name, set, verb string }

// scriptClient runs a script in a client on stdin as user (pass) in dir.
type scriptClient func(t *testing.T, s *server, dir, user, pass, script string) toolResult

// testScriptedUpload puts files with run in each mode into a folder of
// its own, puts one file again over another (which is replaced), checks
// the writer's tree byte for byte, and checks that an anonymous put gets
// the server's 550 and writes nothing.
func testScriptedUpload(t *testing.T, modes []scriptMode, run scriptClient) {
	s := startStd(t)
	local := t.TempDir()
	files := []string{fEmpty, fOne, fHello, fMedium, fSpaces}
	for _, name := range files {
		putFile(t, filepath.Join(local, filepath.Base(name)), string(fixtureFiles[name]))
	}
	want := map[string][]byte{}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			script := []string{m.set, "binary", "mkdir " + m.name, "cd " + m.name}
			for _, name := range files {
				base := filepath.Base(name)
				script = append(script, fmt.Sprintf("put %q %q", base, base))
				want[m.name+"/"+base] = fixtureFiles[name]
			}
			// and a file put again is replaced
			script = append(script, fmt.Sprintf("put %q %q", fOne, fHello))
			want[m.name+"/"+fHello] = fixtureFiles[fOne]
			r := run(t, s, local, "writer", writerPass, strings.Join(script, "\n"))
			mustFtpScript(t, r, m.verb, "MKD", "CWD", "STOR")
			checkTree(t, s.writer, want, nil)
		})
	}
	// anonymous may not upload: the server's 550 is printed, nothing is written
	r := run(t, s, local, "anonymous", "x", "put "+fHello)
	if !regexp.MustCompile(`(?m)^550 `).MatchString(r.stdout) {
		t.Errorf("anonymous put: want a 550 reply\n%s", r)
	}
	checkTree(t, s.tree, fixtureFiles, nil)
	checkTree(t, s.writer, want, nil)
}

// testScriptedMget runs `mget *.txt` with prompting off (prompt turns it
// off) in folders that also hold other files, in each mode: the client
// sends NLST *.txt and fetches each name the server lists, so it needs
// wildcard NLST in the server.
func testScriptedMget(t *testing.T, modes []scriptMode, prompt string, run scriptClient) {
	s := startStd(t)
	for _, m := range modes {
		for _, folder := range []string{"/", "sub", "sub/inner/deep"} {
			t.Run(m.name+"-"+folder, func(t *testing.T) {
				dir := t.TempDir()
				r := run(t, s, dir, "anonymous", "x", strings.Join([]string{m.set, "binary", prompt, "cd " + folder, "mget *.txt"}, "\n"))
				if !strings.Contains(r.stdout, "Interactive mode off.") {
					t.Errorf("%s did not turn prompting off:\n%s", prompt, r)
				}
				mustFtpScript(t, r, m.verb, "NLST", "RETR")
				checkTree(t, dir, txtFilesIn(folder), nil)
			})
		}
	}
}

var inetutilsModes = []scriptMode{
	{"passive", "", "PASV"},
	{"active", "passive", "PORT"}, // passive mode is on (-p); `passive` toggles it off
}

// testScriptedDownload gets files with run in each mode, as anonymous and
// as reader, checks them byte for byte and that `dir sub` lists the folder.
func testScriptedDownload(t *testing.T, s *server, modes []scriptMode, run scriptClient) {
	files := []string{fEmpty, fOne, fHello, fNotes, fMedium, fSpaces, fDeep}
	for _, m := range modes {
		for _, login := range []struct{ user, pass string }{{"anonymous", "guest@example.com"}, {"reader", readerPass}} {
			t.Run(m.name+"-"+login.user, func(t *testing.T) {
				dir := t.TempDir()
				script := []string{m.set, "binary"}
				want := map[string][]byte{}
				for i, name := range files {
					local := fmt.Sprintf("%d-%s", i, filepath.Base(name))
					script = append(script, fmt.Sprintf("get %q %q", name, local))
					want[local] = fixtureFiles[name]
				}
				script = append(script, "dir sub")
				r := run(t, s, dir, login.user, login.pass, strings.Join(script, "\n"))
				mustFtpScript(t, r, m.verb, "TYPE", "RETR", "LIST")
				checkTree(t, dir, want, nil)
				if !strings.Contains(r.stdout, " file with spaces.txt\n") || !strings.Contains(r.stdout, " inner\n") {
					t.Errorf("dir sub did not list the folder:\n%s", r.stdout)
				}
			})
		}
	}
}

func TestInetutilsFtpDownload(t *testing.T) {
	testScriptedDownload(t, startStd(t), inetutilsModes, inetutilsFtp)
}

func TestInetutilsFtpUpload(t *testing.T) {
	testScriptedUpload(t, inetutilsModes, inetutilsFtp)
}

// TestInetutilsMgetGlob fetches `mget *.txt` with prompting off in folders
// that also hold other files: the client sends NLST *.txt and fetches each
// name the server lists, so it needs wildcard NLST in the server (without
// it NLST *.txt gets 550 and nothing is fetched).
func TestInetutilsMgetGlob(t *testing.T) {
	testScriptedMget(t, inetutilsModes, "prompt", inetutilsFtp)
}

// txtFilesIn returns the fixture files in folder (not below it) whose names
// end in .txt, by base name: what `mget *.txt` there fetches.
func txtFilesIn(folder string) map[string][]byte {
	folder = strings.Trim(folder, "/")
	want := map[string][]byte{}
	for name, b := range fixtureFiles {
		if filepath.Dir(name) == filepath.Clean("./"+folder) && strings.HasSuffix(name, ".txt") {
			want[filepath.Base(name)] = b
		}
	}
	return want
}
