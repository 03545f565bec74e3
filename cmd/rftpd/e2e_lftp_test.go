// End-to-end tests with lftp: mirror down and up, pget in segments, file operations, active mode.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// lftp runs one lftp -c script against s as user (pass) in dir; settings
// are prepended to the standard ones (one retry, short timeouts, passive).
func lftp(t *testing.T, s *server, dir, user, pass, script string, settings ...string) toolResult {
	t.Helper()
	bin := needTool(t, "lftp", "lftp")
	pre := []string{
		"debug -o " + filepath.Join(dir, lftpDebug) + " 9",
		"set net:max-retries 1", "set net:timeout 10", "set net:reconnect-interval-base 1",
		"set ftp:passive-mode on", "set cmd:fail-exit yes", "set xfer:clobber yes",
	}
	pre = append(pre, settings...)
	full := fmt.Sprintf("%s; open -u %s,%s ftp://%s; %s", strings.Join(pre, "; "), user, pass, s.addr, script)
	r := runTool(t, dir, "", bin, "-c", full)
	r.stderr = "script: " + full + "\n" + r.stderr
	return r
}

// lftpDebug is the file in the run's folder where lftp logs its conversation.
const lftpDebug = "lftp-debug.txt"

// lftpSent returns the verbs lftp logged as sent in dir's debug file.
func lftpSent(t *testing.T, dir string) []string {
	t.Helper()
	var verbs []string
	for _, l := range strings.Split(string(getFile(t, filepath.Join(dir, lftpDebug))), "\n") {
		if c, ok := strings.CutPrefix(l, "---> "); ok {
			v, _, _ := strings.Cut(c, " ")
			verbs = append(verbs, v)
		}
	}
	return verbs
}

func mustLftp(t *testing.T, s *server, dir, user, pass, script string, settings ...string) toolResult {
	t.Helper()
	r := lftp(t, s, dir, user, pass, script, settings...)
	if r.code != 0 {
		t.Fatalf("lftp: %s", r)
	}
	return r
}

func TestLftpMirrorDownload(t *testing.T) {
	s := startStd(t)
	for _, v := range []struct {
		name     string
		settings []string
		opts     string
		want     []string // verbs lftp must have sent
	}{
		{"passive", []string{"set ftp:prefer-epsv yes"}, "", []string{"EPSV", "MLSD", "RETR"}},
		{"passive-parallel", nil, "--parallel=4", []string{"MLSD", "RETR"}},
		{"no-EPSV", []string{"set ftp:prefer-epsv no"}, "", []string{"PASV", "MLSD", "RETR"}},
		{"active", []string{"set ftp:passive-mode off", "set ftp:port-range 20000-60000"}, "", []string{"PORT", "MLSD", "RETR"}},
		{"LIST-only", []string{"set ftp:use-mlsd no"}, "", []string{"LIST", "RETR"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			mustLftp(t, s, dir, "anonymous", "x", fmt.Sprintf("mirror %s / %s", v.opts, filepath.Join(dir, "copy")), v.settings...)
			checkTree(t, filepath.Join(dir, "copy"), fixtureFiles, nil)
			sent := lftpSent(t, dir)
			for _, verb := range v.want {
				if !slices.Contains(sent, verb) {
					t.Errorf("lftp did not send %s: %q", verb, sent)
				}
			}
		})
	}
	// a sub-tree, as the reader account
	dir := t.TempDir()
	mustLftp(t, s, dir, "reader", readerPass, "mirror /sub/inner "+filepath.Join(dir, "inner"))
	want := map[string][]byte{}
	for n, b := range fixtureFiles {
		if rel, ok := strings.CutPrefix(n, "sub/inner/"); ok {
			want[rel] = b
		}
	}
	checkTree(t, filepath.Join(dir, "inner"), want, nil)
}

func TestLftpMirrorUpload(t *testing.T) {
	s := startStd(t)
	for _, v := range []struct {
		name     string
		settings []string
		opts     string
	}{
		{"passive", nil, ""},
		{"parallel", nil, "--parallel=4"},
		{"active", []string{"set ftp:passive-mode off"}, ""},
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			mustLftp(t, s, dir, "writer", writerPass, fmt.Sprintf("mirror -R %s %s /up-%s", v.opts, s.tree, v.name), v.settings...)
			checkTree(t, filepath.Join(s.writer, "up-"+v.name), fixtureFiles, nil)
			// a second run finds nothing to do and changes nothing
			mustLftp(t, s, dir, "writer", writerPass, fmt.Sprintf("mirror -R %s %s /up-%s", v.opts, s.tree, v.name), v.settings...)
			checkTree(t, filepath.Join(s.writer, "up-"+v.name), fixtureFiles, nil)
		})
	}
	// mirror -R --delete removes what the local side no longer has
	local := t.TempDir()
	putFile(t, filepath.Join(local, "keep.txt"), "keep\n")
	putFile(t, filepath.Join(local, "d/drop.txt"), "drop\n")
	dir := t.TempDir()
	mustLftp(t, s, dir, "writer", writerPass, "mirror -R "+local+" /sync")
	checkTree(t, filepath.Join(s.writer, "sync"), map[string][]byte{"keep.txt": []byte("keep\n"), "d/drop.txt": []byte("drop\n")}, nil)
	os.RemoveAll(filepath.Join(local, "d"))
	mustLftp(t, s, dir, "writer", writerPass, "mirror -R --delete "+local+" /sync")
	checkTree(t, filepath.Join(s.writer, "sync"), map[string][]byte{"keep.txt": []byte("keep\n")}, nil)
	if _, err := os.Stat(filepath.Join(s.writer, "sync/d")); !os.IsNotExist(err) {
		t.Errorf("mirror -R --delete left sync/d (%v)", err)
	}
}

func TestLftpPget(t *testing.T) {
	s := startStd(t)
	for _, v := range []struct {
		name     string
		settings []string
	}{
		{"passive", nil},
		{"active", []string{"set ftp:passive-mode off"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "big")
			mustLftp(t, s, dir, "anonymous", "x", fmt.Sprintf("pget -n 4 /%s -o %s", fBig, out), v.settings...)
			checkFile(t, out, fixtureFiles[fBig])
			out = filepath.Join(dir, "medium")
			mustLftp(t, s, dir, "anonymous", "x", fmt.Sprintf("pget -n 8 /%s -o %s", fMedium, out), v.settings...)
			checkFile(t, out, fixtureFiles[fMedium])
		})
	}
	// pget -c resumes a partial download
	dir := t.TempDir()
	out := filepath.Join(dir, "big")
	putFile(t, out, string(fixtureFiles[fBig][:5<<20]))
	mustLftp(t, s, dir, "anonymous", "x", fmt.Sprintf("get -c /%s -o %s", fBig, out))
	checkFile(t, out, fixtureFiles[fBig])
}

func TestLftpFileOperations(t *testing.T) {
	s := startStd(t)
	dir := t.TempDir()
	putFile(t, filepath.Join(dir, "a.txt"), "alpha\n")
	putFile(t, filepath.Join(dir, "b.bin"), string(randomBytes(51, 100000)))
	script := strings.Join([]string{
		"mkdir -p x/y/z",
		"cd x/y",
		"put " + filepath.Join(dir, "a.txt"),
		"put " + filepath.Join(dir, "b.bin") + " -o z/b.bin",
		"mv a.txt z/renamed.txt",
		"cd /",
		"put " + filepath.Join(dir, "a.txt") + " -o gone.txt",
		"rm gone.txt",
		"mkdir empty",
		"rmdir empty",
		"cls -1 /x/y/z",
		"get /x/y/z/renamed.txt -o " + filepath.Join(dir, "back.txt"),
	}, "; ")
	r := mustLftp(t, s, dir, "writer", writerPass, script)
	checkTree(t, s.writer, map[string][]byte{
		"x/y/z/renamed.txt": []byte("alpha\n"),
		"x/y/z/b.bin":       randomBytes(51, 100000),
	}, nil)
	if names, _ := readDirNames(s.writer); len(names) != 1 {
		t.Errorf("writer root holds %q, want only x", names)
	}
	checkFile(t, filepath.Join(dir, "back.txt"), []byte("alpha\n"))
	if got := strings.Fields(r.stdout); strings.Join(got, " ") != "/x/y/z/b.bin /x/y/z/renamed.txt" {
		t.Errorf("cls -1: %q", r.stdout)
	}

	// the same operations are refused to anonymous, and lftp reports it
	for _, cmd := range []string{"mkdir nope", "rm " + fHello, "mv " + fHello + " x", "put " + filepath.Join(dir, "a.txt")} {
		if r := lftp(t, s, dir, "anonymous", "x", cmd); r.code == 0 {
			t.Errorf("anonymous %q succeeded: %s", cmd, r)
		}
	}
	checkTree(t, s.tree, fixtureFiles, nil)
}
