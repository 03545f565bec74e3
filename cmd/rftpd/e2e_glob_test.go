// End-to-end tests of patterns in LIST and NLST: mget in tnftp, inetutils ftp and ncftpget, ls in lftp.
package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// globFiles is what the writer's root holds for the pattern tests: text
// files to fetch with *.txt, one with a space in its name, others that
// must not come, a dot file, a folder, and the temporary file of an
// upload in the old format (which no cleanup removes).
var globFiles = map[string][]byte{
	"a.txt":                      randomBytes(11, 3000),
	"b.txt":                      []byte("bee\r\nline two\n"),
	"with space.txt":             randomBytes(12, 70000),
	"c.bin":                      randomBytes(13, 100),
	"readme":                     []byte("no extension\n"),
	".hidden.txt":                []byte("dot file\n"),
	"sub/d.txt":                  randomBytes(14, 5000),
	"sub/e.bin":                  randomBytes(15, 10),
	"sub/inner/f.txt":            []byte("deeper\n"),
	".rftpd-upload.0123456789ab": []byte("an upload in progress\n"),
}

// startGlob starts rftpd with globFiles in the writer's root.
func startGlob(t *testing.T) *server {
	t.Helper()
	s := startStd(t)
	if err := writeTree(s.writer, globFiles); err != nil {
		t.Fatal(err)
	}
	return s
}

// wantGlob is the files of globFiles named in names.
func wantGlob(names ...string) map[string][]byte {
	m := map[string][]byte{}
	for _, n := range names {
		m[n] = globFiles[n]
	}
	return m
}

// Classic clients expand mget's pattern with NLST (RFC 959 §4.1.3) and
// fetch the names it sends; the folder part comes back with each name.
// No match is an empty listing and 226, as vsftpd answers: the clients
// fetch nothing, say nothing, and go on with the next command.
func TestGlobClassicMget(t *testing.T) {
	s := startGlob(t)
	for _, c := range []struct{ name, prog, pkg string }{
		{"tnftp", "tnftp", "tnftp"},
		{"inetutils", "inetutils-ftp", "inetutils-ftp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bin := needTool(t, c.prog, c.pkg)
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			script := "user writer " + writerPass + "\nprompt off\nbinary\n" +
				"mget *.none\nmget .rftpd-up*\nmget *.txt\nmget sub/*.txt\nbye\n"
			r := runTool(t, dir, script, bin, "-n", "-v", "127.0.0.1", s.port)
			if r.code != 0 {
				t.Fatalf("%s: %s", c.prog, r)
			}
			checkTree(t, dir, wantGlob("a.txt", "b.txt", "with space.txt", "sub/d.txt"), nil)
			// A refusal is a reply line of 4xx or 5xx (not a rate like
			// "425 Mbytes/s" in a transfer's summary).
			if strings.Contains(r.stdout+r.stderr, "No such file") {
				t.Errorf("%s said No such file:\n%s", c.prog, r)
			}
			if m := printedErrorReply.FindString(r.stdout + r.stderr); m != "" {
				t.Errorf("%s got a refusal, %q:\n%s", c.prog, m, r)
			}
		})
	}
}

// ncftpget globs on the server with NLST too.
func TestGlobNcftpget(t *testing.T) {
	s := startGlob(t)
	bin := needTool(t, "ncftpget", "ncftp")
	dir := t.TempDir()
	r := runTool(t, dir, "", bin, "-u", "writer", "-p", writerPass, "-P", s.port, "-V", "127.0.0.1", dir, "*.txt", "sub/*.txt")
	if r.code != 0 {
		t.Fatalf("ncftpget: %s", r)
	}
	want := wantGlob("a.txt", "b.txt", "with space.txt")
	want["d.txt"] = globFiles["sub/d.txt"]
	checkTree(t, dir, want, nil)
}

// lftp sends ls's and nlist's arguments to LIST and NLST as they are
// (its mget globs by itself over MLSD).
func TestGlobLftp(t *testing.T) {
	s := startGlob(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "got"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := mustLftp(t, s, dir, "writer", writerPass, `echo @ls; ls *.txt; echo @lsdir; ls s*; echo @nlist; nlist sub/*.txt; `+
		`echo @dots; ls .*; echo @class; nlist [ab]*; echo @up; nlist ../../*.bin; echo @none; ls *.none; nlist *.none; `+
		`echo @mget; mget -O `+filepath.Join(dir, "got")+` *.txt`)
	sections := map[string][]string{}
	var cur string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if name, ok := strings.CutPrefix(l, "@"); ok {
			cur = name
			continue
		}
		sections[cur] = append(sections[cur], l)
	}
	// ls: ls -l lines of the matching files, sorted by name.
	var names []string
	for _, l := range sections["ls"] {
		if !strings.HasPrefix(l, "-rw-r--r-- 1 ftp ftp ") {
			t.Errorf("ls *.txt line %q", l)
		}
		if f := strings.Fields(l); len(f) >= 9 {
			names = append(names, strings.Join(f[8:], " "))
		}
	}
	if want := []string{"a.txt", "b.txt", "with space.txt"}; !slices.Equal(names, want) {
		t.Errorf("ls *.txt: %q, want %q", names, want)
	}
	// A matching folder is listed as itself, with its link count.
	if l := sections["lsdir"]; len(l) != 1 || !strings.HasPrefix(l[0], "drwx") || !strings.HasSuffix(l[0], " sub") || strings.Fields(l[0])[1] != "3" {
		t.Errorf("ls s*: %q", l)
	}
	for _, c := range []struct {
		section string
		want    []string
	}{
		{"nlist", []string{"sub/d.txt"}},
		{"dots", nil}, // ls -l of .hidden.txt, checked below; never the upload's file
		{"class", []string{"a.txt", "b.txt"}},
		{"up", []string{"../../c.bin"}}, // the root is the top
		{"none", nil},
	} {
		if c.section == "dots" {
			if l := sections["dots"]; len(l) != 1 || !strings.HasSuffix(l[0], " .hidden.txt") {
				t.Errorf("ls .*: %q", l)
			}
			continue
		}
		if got := sections[c.section]; !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.section, got, c.want)
		}
	}
	checkTree(t, filepath.Join(dir, "got"), wantGlob("a.txt", "b.txt", "with space.txt"), nil)
}
