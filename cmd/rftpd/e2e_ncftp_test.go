// End-to-end tests with ncftpget and ncftpput: single files and whole trees (-R), passive (-F) and active (-E).
package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ncftp runs ncftpget or ncftpput with -P PORT, no progress meter and a
// debug log; home is its HOME and working folder (it keeps ~/.ncftp), so
// it must not be a folder the test compares. It returns the result and the
// verbs sent, read from the debug log's "Cmd: VERB" lines.
func ncftp(t *testing.T, home, prog, addr string, args ...string) (toolResult, []string) {
	t.Helper()
	bin := needTool(t, prog, "ncftp")
	_, port, _ := net.SplitHostPort(addr)
	debug := filepath.Join(home, prog+"-debug.txt")
	os.Remove(debug)
	argv := append([]string{"-V", "-t", "20", "-d", debug, "-P", port}, args...)
	r := runTool(t, home, "", bin, argv...)
	var verbs []string
	if b, err := os.ReadFile(debug); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if _, c, ok := strings.Cut(l, "  Cmd: "); ok {
				v, _, _ := strings.Cut(c, " ")
				verbs = append(verbs, v)
			}
		}
		r.stderr += "\ndebug log:\n" + string(b)
	}
	return r, verbs
}

func mustNcftp(t *testing.T, home, prog, addr string, args ...string) []string {
	t.Helper()
	r, verbs := ncftp(t, home, prog, addr, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: %s", prog, strings.Join(args, " "), r)
	}
	return verbs
}

// ncftpModes: -F is passive (PASV), -E active (PORT).
var ncftpModes = []struct{ name, flag, verb string }{
	{"passive", "-F", "PASV"},
	{"active", "-E", "PORT"},
}

func checkVerbsSent(t *testing.T, what string, sent []string, want ...string) {
	t.Helper()
	for _, v := range want {
		if !slices.Contains(sent, v) {
			t.Errorf("%s did not send %s: %q", what, v, sent)
		}
	}
}

func TestNcftpGet(t *testing.T) {
	s := startStd(t)
	files := []string{fEmpty, fOne, fHello, fNotes, fMedium, fSpaces, fDeep}
	remote := make([]string, len(files))
	want := map[string][]byte{}
	for i, name := range files {
		remote[i] = "/" + name
		want[filepath.Base(name)] = fixtureFiles[name]
	}
	// the files of sub, as ncftpget -R makes them under copy/sub
	sub := map[string][]byte{}
	for name, b := range fixtureFiles {
		if strings.HasPrefix(name, "sub/") {
			sub[name] = b
		}
	}
	for _, m := range ncftpModes {
		for _, login := range [][]string{nil, {"-u", "reader", "-p", readerPass}} {
			name := m.name + "-anonymous"
			if login != nil {
				name = m.name + "-reader"
			}
			t.Run(name, func(t *testing.T) {
				home := t.TempDir()
				copyDir := filepath.Join(home, "copy")
				os.Mkdir(copyDir, 0o755)
				args := append(append([]string{m.flag}, login...), "127.0.0.1", copyDir)
				sent := mustNcftp(t, home, "ncftpget", s.addr, append(args, remote...)...)
				checkVerbsSent(t, "ncftpget", sent, m.verb, "RETR")
				checkTree(t, copyDir, want, nil)

				// -R fetches a tree (-T: file by file, not as one .tar)
				treeDir := filepath.Join(home, "tree")
				os.Mkdir(treeDir, 0o755)
				args = append(append([]string{m.flag, "-R", "-T"}, login...), "127.0.0.1", treeDir, "/sub")
				sent = mustNcftp(t, home, "ncftpget", s.addr, args...)
				checkVerbsSent(t, "ncftpget -R", sent, m.verb, "MLSD", "RETR")
				checkTree(t, treeDir, sub, nil)
			})
		}
	}
	// a missing file is an error (exit 3: the transfer failed)
	if r, _ := ncftp(t, t.TempDir(), "ncftpget", s.addr, "127.0.0.1", t.TempDir(), "/nonexistent"); r.code != 3 || !strings.Contains(r.stderr, "No such file") {
		t.Errorf("ncftpget of a missing file: want exit 3 naming the server's reason, got %s", r)
	}
}

func TestNcftpPut(t *testing.T) {
	s := startStd(t)
	// the tree ncftpput -R uploads: empty to 1 MiB files, names with spaces, nested folders
	local := map[string][]byte{
		"empty.bin":                  {},
		"one.bin":                    {0x5A},
		"readme.txt":                 []byte("to the server\n"),
		"medium.bin":                 randomBytes(71, 1<<20+5),
		"with spaces/a b.txt":        []byte("spaces\n"),
		"deep/er/still/leaf.bin":     randomBytes(72, 999),
		"deep/er/still/another.text": []byte("x\n"),
	}
	src := t.TempDir()
	if err := writeTree(filepath.Join(src, "up"), local); err != nil {
		t.Fatal(err)
	}
	login := []string{"-u", "writer", "-p", writerPass}
	want := map[string][]byte{}
	for _, m := range ncftpModes {
		t.Run(m.name, func(t *testing.T) {
			home := t.TempDir()
			// -R -m: the tree, into a remote folder made for it
			args := append(append([]string{m.flag, "-R", "-m"}, login...), "127.0.0.1", "/"+m.name, filepath.Join(src, "up"))
			sent := mustNcftp(t, home, "ncftpput", s.addr, args...)
			checkVerbsSent(t, "ncftpput -R", sent, m.verb, "MKD", "STOR")
			for name, b := range local {
				want[m.name+"/up/"+name] = b
			}
			// single files, into the writer's root
			args = append(append([]string{m.flag}, login...), "127.0.0.1", "/",
				filepath.Join(s.tree, fMedium), filepath.Join(s.tree, fSpaces), filepath.Join(s.tree, fEmpty))
			mustNcftp(t, home, "ncftpput", s.addr, args...)
			for _, name := range []string{fMedium, fSpaces, fEmpty} {
				want[filepath.Base(name)] = fixtureFiles[name]
			}
			checkTree(t, s.writer, want, nil)
		})
	}
	// anonymous may not upload (exit 3, the server's reason printed)
	r, _ := ncftp(t, t.TempDir(), "ncftpput", s.addr, "127.0.0.1", "/", filepath.Join(s.tree, fHello))
	if r.code != 3 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("anonymous ncftpput: want exit 3 naming the server's reason, got %s", r)
	}
	checkTree(t, s.writer, want, nil)
	checkTree(t, s.tree, fixtureFiles, nil)
}
