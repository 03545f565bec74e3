// End-to-end tests with curl: listings, downloads in every data-connection mode, uploads, resume, exit codes.
package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// curlArgs are passed to every curl run: no progress meter, errors shown,
// verbose (the control conversation lands in stderr), no .netrc, no config.
var curlArgs = []string{"-q", "-sS", "-v", "--max-time", "50", "--connect-timeout", "10"}

func curl(t *testing.T, dir string, args ...string) toolResult {
	t.Helper()
	return runTool(t, dir, "", needTool(t, "curl", "curl"), append(slices.Clone(curlArgs), args...)...)
}

func mustCurl(t *testing.T, dir string, args ...string) toolResult {
	t.Helper()
	r := curl(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("curl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// sentCommands returns the commands curl -v logged as sent ("> CMD ...").
func sentCommands(stderr string) []string {
	var cmds []string
	for _, l := range strings.Split(stderr, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), "> "); ok {
			verb, _, _ := strings.Cut(c, " ")
			cmds = append(cmds, verb)
		}
	}
	return cmds
}

func TestCurlList(t *testing.T) {
	s := startStd(t)
	dir := t.TempDir()

	r := mustCurl(t, dir, s.url("", "sub/"))
	for _, name := range []string{"file with spaces.txt", "inner", "other", "readme.txt"} {
		if !strings.Contains(r.stdout, " "+name+"\n") && !strings.Contains(r.stdout, " "+name+"\r\n") {
			t.Errorf("curl LIST /sub/ lacks %q:\n%s", name, r.stdout)
		}
	}
	if !slices.Contains(sentCommands(r.stderr), "LIST") {
		t.Errorf("curl did not send LIST:\n%s", r.stderr)
	}

	// -l: NLST, names only
	r = mustCurl(t, dir, "-l", s.url("", "sub/inner/deep/"))
	names := strings.Fields(strings.ReplaceAll(r.stdout, "\r", ""))
	slices.Sort(names)
	if want := []string{"leaf.txt", "more.bin"}; !slices.Equal(names, want) {
		t.Errorf("curl -l: %q, want %q", names, want)
	}
	if !slices.Contains(sentCommands(r.stderr), "NLST") {
		t.Errorf("curl -l did not send NLST:\n%s", r.stderr)
	}

	// the root, as the reader account
	r = mustCurl(t, dir, "-u", "reader:"+readerPass, s.url("", ""))
	for _, name := range []string{fHello, fBig, "sub"} {
		if !strings.Contains(r.stdout, name) {
			t.Errorf("curl LIST / as reader lacks %q:\n%s", name, r.stdout)
		}
	}
	// a folder that does not exist: CWD fails, exit 9 (CURLE_REMOTE_ACCESS_DENIED)
	if r = curl(t, dir, s.url("", "nonexistent/")); r.code != 9 {
		t.Errorf("curl LIST of a missing folder: want exit 9, got %s", r)
	}
}

func TestCurlDownloadModes(t *testing.T) {
	s := startStd(t)
	for _, mode := range []struct {
		name string
		args []string
		want string // the data-connection command curl must have used
	}{
		{"EPSV", nil, "EPSV"},
		{"PASV", []string{"--ftp-pasv", "--disable-epsv"}, "PASV"},
		{"EPRT", []string{"-P", "127.0.0.1"}, "EPRT"},
		{"PORT", []string{"-P", "127.0.0.1", "--disable-eprt"}, "PORT"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range []string{fHello, fEmpty, fOne, fSmall, fMedium, fBig, fSpaces, fDeep} {
				out := filepath.Join(dir, filepath.Base(name))
				u := s.url("", strings.ReplaceAll(name, " ", "%20"))
				r := mustCurl(t, dir, append(slices.Clone(mode.args), "-o", out, u)...)
				cmds := sentCommands(r.stderr)
				if !slices.Contains(cmds, mode.want) {
					t.Errorf("curl %s %s did not send %s: %q", mode.args, name, mode.want, cmds)
				}
				checkFile(t, out, fixtureFiles[name])
			}
		})
	}
}

func TestCurlUpload(t *testing.T) {
	s := startStd(t)
	dir := t.TempDir()
	user := "writer:" + writerPass
	files := map[string][]byte{
		"up.bin":         randomBytes(31, 3<<20+5),
		"empty.bin":      {},
		"with space.txt": []byte("space\n"),
	}
	for name, data := range files {
		putFile(t, filepath.Join(dir, name), string(data))
	}
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"EPSV", nil}, {"PASV", []string{"--disable-epsv"}}, {"EPRT", []string{"-P", "127.0.0.1"}},
		{"PORT", []string{"-P", "127.0.0.1", "--disable-eprt"}},
	} {
		for name, data := range files {
			remote := mode.name + "/" + name
			args := append(slices.Clone(mode.args), "-u", user, "--ftp-create-dirs", "-T", filepath.Join(dir, name),
				s.url("", strings.ReplaceAll(remote, " ", "%20")))
			mustCurl(t, dir, args...)
			checkFile(t, filepath.Join(s.writer, remote), data)
		}
	}
	// upload to a folder URL keeps the local name
	mustCurl(t, dir, "-u", user, "-T", filepath.Join(dir, "up.bin"), s.url("", "EPSV/"))
	checkFile(t, filepath.Join(s.writer, "EPSV/up.bin"), files["up.bin"])

	// --append
	putFile(t, filepath.Join(dir, "part1"), "first\n")
	putFile(t, filepath.Join(dir, "part2"), "second\n")
	mustCurl(t, dir, "-u", user, "-T", filepath.Join(dir, "part1"), s.url("", "log.txt"))
	mustCurl(t, dir, "-u", user, "--append", "-T", filepath.Join(dir, "part2"), s.url("", "log.txt"))
	checkFile(t, filepath.Join(s.writer, "log.txt"), []byte("first\nsecond\n"))

	// quote commands around a transfer: MKD before, RNFR/RNTO and DELE after
	r := mustCurl(t, dir, "-u", user, "-Q", "MKD quoted", "-Q", "-RNFR log.txt", "-Q", "-RNTO quoted/log.txt",
		"-T", filepath.Join(dir, "part1"), s.url("", "quoted-part1"))
	checkFile(t, filepath.Join(s.writer, "quoted/log.txt"), []byte("first\nsecond\n"))
	checkFile(t, filepath.Join(s.writer, "quoted-part1"), []byte("first\n"))
	mustCurl(t, dir, "-u", user, "-Q", "DELE quoted/log.txt", "-Q", "RMD quoted", "-Q", "DELE quoted-part1", "-I", s.url("", ""))
	for _, p := range []string{"quoted", "quoted-part1"} {
		if _, err := os.Stat(filepath.Join(s.writer, p)); !os.IsNotExist(err) {
			t.Errorf("after DELE/RMD %s still exists (%v)\n%s", p, err, r.stderr)
		}
	}
}

func TestCurlResume(t *testing.T) {
	s := startStd(t)
	dir := t.TempDir()
	// download: a partial local file completed with -C - (SIZE, then REST + RETR)
	for _, cut := range []int{1, 4096, 1 << 20, 7<<20 + 11} {
		out := filepath.Join(dir, "big.part")
		putFile(t, out, string(fixtureFiles[fBig][:cut]))
		r := mustCurl(t, dir, "-C", "-", "-o", out, s.url("", fBig))
		if !slices.Contains(sentCommands(r.stderr), "REST") {
			t.Errorf("curl -C - did not send REST: %q", sentCommands(r.stderr))
		}
		checkFile(t, out, fixtureFiles[fBig])
	}
	// an explicit offset writes only the tail
	out := filepath.Join(dir, "tail")
	mustCurl(t, dir, "-C", "1000", "-o", out, s.url("", fMedium))
	checkFile(t, out, fixtureFiles[fMedium][1000:])
	// a complete local file: nothing left to fetch, curl succeeds
	full := filepath.Join(dir, "full")
	putFile(t, full, string(fixtureFiles[fSmall]))
	mustCurl(t, dir, "-C", "-", "-o", full, s.url("", fSmall))
	checkFile(t, full, fixtureFiles[fSmall])

	// upload: the server holds a prefix; -C - asks SIZE and appends the rest
	data := randomBytes(41, 2<<20+9)
	local := filepath.Join(dir, "upload.bin")
	putFile(t, local, string(data))
	putFile(t, filepath.Join(s.writer, "upload.bin"), string(data[:300000]))
	r := mustCurl(t, dir, "-u", "writer:"+writerPass, "-C", "-", "-T", local, s.url("", "upload.bin"))
	if cmds := sentCommands(r.stderr); !slices.Contains(cmds, "SIZE") || !slices.Contains(cmds, "APPE") {
		t.Errorf("curl -C - -T did not send SIZE and APPE: %q", cmds)
	}
	checkFile(t, filepath.Join(s.writer, "upload.bin"), data)
}

func TestCurlExitCodes(t *testing.T) {
	s := startStd(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		// CURLE_REMOTE_FILE_NOT_FOUND
		{"missing file", []string{"-o", "x", s.url("", "nonexistent.bin")}, 78},
		// CURLE_LOGIN_DENIED
		{"bad password", []string{"-u", "writer:wrong", s.url("", "")}, 67},
		{"unknown user", []string{"-u", "nobody:x", s.url("", "")}, 67},
		// CURLE_UPLOAD_FAILED: STOR refused with 550
		{"anonymous upload", []string{"-T", filepath.Join(dir, "f"), s.url("", "f")}, 25},
		{"reader upload", []string{"-u", "reader:" + readerPass, "-T", filepath.Join(dir, "f"), s.url("", "f")}, 25},
		// CURLE_QUOTE_ERROR: a refused quote command
		{"anonymous DELE", []string{"-Q", "DELE " + fHello, s.url("", "")}, 21},
		{"unknown quote command", []string{"-Q", "XYZZY", s.url("", "")}, 21},
		// success
		{"anonymous get", []string{"-o", "ok", s.url("", fHello)}, 0},
		{"writer login", []string{"-u", "writer:" + writerPass, s.url("", "")}, 0},
	} {
		putFile(t, filepath.Join(dir, "f"), "data")
		r := curl(t, dir, c.args...)
		if r.code != c.code {
			t.Errorf("%s: curl %s: want exit %d, got %s", c.name, strings.Join(c.args, " "), c.code, r)
		}
	}
	checkTree(t, s.tree, fixtureFiles, nil)
	if names, _ := readDirNames(s.writer); len(names) != 0 {
		t.Errorf("writer root changed: %q", names)
	}
}
