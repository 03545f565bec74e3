// End-to-end tests with Python's ftplib (testdata/ftplib_e2e.py) in PASV, EPSV and PORT modes.
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ftplibResult is what testdata/ftplib_e2e.py prints.
type ftplibResult struct {
	Welcome     string                       `json:"welcome"`
	PWD         string                       `json:"pwd"`
	FEAT        []string                     `json:"feat"`
	MLSDRoot    map[string]map[string]string `json:"mlsd_root"`
	MLSDSub     map[string]map[string]string `json:"mlsd_sub"`
	NLSTSub     []string                     `json:"nlst_sub"`
	LISTSub     []string                     `json:"list_sub"`
	Size        map[string]int64             `json:"size"`
	MDTM        map[string]string            `json:"mdtm"`
	NotesLines  int                          `json:"notes_lines"`
	NotesFirst  string                       `json:"notes_first"`
	PWDInner    string                       `json:"pwd_inner"`
	SizeMissing string                       `json:"size_missing"`
	ReaderStor  string                       `json:"reader_stor"`
	Quit        string                       `json:"quit"`
	MKD         string                       `json:"mkd"`
	Rename      string                       `json:"rename"`
	Delete      string                       `json:"delete"`
	RMD         string                       `json:"rmd"`
	RMDNonEmpty string                       `json:"rmd_nonempty"`
	WriterMLSD  map[string]string            `json:"writer_mlsd"`
	WriterSize  int64                        `json:"writer_size"`
	QuitWriter  string                       `json:"quit_writer"`
	Sent        []string                     `json:"sent"`
}

func TestPythonFtplib(t *testing.T) {
	python := needTool(t, "python3", "python3")
	script, err := filepath.Abs("testdata/ftplib_e2e.py")
	if err != nil {
		t.Fatal(err)
	}
	s := startStd(t)
	downloads := []string{fHello, fNotes, fEmpty, fOne, fSmall, fMedium, fBig, fSpaces, fDeep}
	for _, mode := range []struct{ name, want string }{{"pasv", "PASV"}, {"epsv", "EPSV"}, {"port", "PORT"}} {
		t.Run(mode.name, func(t *testing.T) {
			// each mode writes into its own folder of the writer's root
			os.RemoveAll(filepath.Join(s.writer, "dir"))
			work := t.TempDir()
			uploads := map[string][]byte{
				"blob.bin":  randomBytes(61, 2<<20+1),
				"small.bin": randomBytes(62, 100),
				"empty.bin": {},
				"text.txt":  []byte("one\ntwo\nthree\n"),
			}
			for n, b := range uploads {
				putFile(t, filepath.Join(work, "up", n), string(b))
			}
			cmd := []string{script, "127.0.0.1", s.port, mode.name, work}
			r := runToolEnv(t, work, strings.Join(downloads, "\n")+"\n",
				[]string{"READER_PASS=" + readerPass, "WRITER_PASS=" + writerPass, "PYTHONDONTWRITEBYTECODE=1"},
				python, cmd...)
			if r.code != 0 {
				t.Fatalf("ftplib script: %s", r)
			}
			var res ftplibResult
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatalf("ftplib output: %v\n%s", err, r)
			}
			checkFtplib(t, s, mode.name, mode.want, work, downloads, uploads, &res)
		})
	}
	checkTree(t, s.tree, fixtureFiles, nil)
}

func checkFtplib(t *testing.T, s *server, mode, wantCmd, work string, downloads []string, uploads map[string][]byte, res *ftplibResult) {
	t.Helper()
	if !slices.Contains(res.Sent, wantCmd) {
		t.Errorf("%s: ftplib never sent %s: %q", mode, wantCmd, res.Sent)
	}
	for _, other := range []string{"PASV", "EPSV", "PORT", "EPRT"} {
		if other != wantCmd && slices.Contains(res.Sent, other) {
			t.Errorf("%s: ftplib sent %s as well", mode, other)
		}
	}
	if !strings.HasPrefix(res.Welcome, "220 ") {
		t.Errorf("welcome %q", res.Welcome)
	}
	if res.PWD != "/" || res.PWDInner != "/sub/inner" {
		t.Errorf("pwd %q, pwd in sub/inner %q", res.PWD, res.PWDInner)
	}
	if len(res.FEAT) < 3 || !slices.Contains(res.FEAT, " MDTM") || !slices.Contains(res.FEAT, " SIZE") {
		t.Errorf("FEAT %q", res.FEAT)
	}

	// MLSD of the root: every top-level entry with its facts
	for name, data := range fixtureFiles {
		if strings.Contains(name, "/") {
			continue
		}
		f := res.MLSDRoot[name]
		if f == nil {
			t.Errorf("MLSD / lacks %s: %v", name, res.MLSDRoot)
			continue
		}
		if f["type"] != "file" || f["size"] != strconv.Itoa(len(data)) || f["modify"] != "20240102030405" {
			t.Errorf("MLSD / %s facts %v", name, f)
		}
	}
	if f := res.MLSDRoot["sub"]; f == nil || f["type"] != "dir" {
		t.Errorf("MLSD / sub: %v", f)
	}
	for name, f := range res.MLSDRoot {
		if name != "." && name != ".." && f["type"] != "file" && f["type"] != "dir" {
			t.Errorf("MLSD / %s: odd type %v", name, f)
		}
	}
	if f := res.MLSDSub["file with spaces.txt"]; f == nil || f["size"] != strconv.Itoa(len(fixtureFiles[fSpaces])) {
		t.Errorf("MLSD /sub %v", res.MLSDSub)
	}
	for i, n := range res.NLSTSub {
		res.NLSTSub[i] = strings.TrimPrefix(n, "/sub/")
	}
	slices.Sort(res.NLSTSub)
	if want := []string{"file with spaces.txt", "inner", "other", "readme.txt"}; !slices.Equal(res.NLSTSub, want) {
		t.Errorf("NLST /sub %q, want %q", res.NLSTSub, want)
	}
	var listed []string
	for _, l := range res.LISTSub {
		for _, n := range []string{"file with spaces.txt", "inner", "other", "readme.txt"} {
			if strings.HasSuffix(l, " "+n) {
				listed = append(listed, n)
			}
		}
	}
	if len(listed) != 4 || len(res.LISTSub) != 4 {
		t.Errorf("LIST /sub %q", res.LISTSub)
	}

	// SIZE, MDTM and the downloads
	for _, name := range downloads {
		if res.Size[name] != int64(len(fixtureFiles[name])) {
			t.Errorf("SIZE %s = %d, want %d", name, res.Size[name], len(fixtureFiles[name]))
		}
		if res.MDTM[name] != "213 20240102030405" {
			t.Errorf("MDTM %s = %q", name, res.MDTM[name])
		}
		checkFile(t, filepath.Join(work, "down", strings.ReplaceAll(name, "/", "__")), fixtureFiles[name])
	}
	checkFile(t, filepath.Join(work, "down", "medium-rest"), fixtureFiles[fMedium][777777:])
	if res.NotesLines != 200 || res.NotesFirst != strings.Split(string(fixtureFiles[fNotes]), "\n")[0] {
		t.Errorf("retrlines notes.txt: %d lines, first %q", res.NotesLines, res.NotesFirst)
	}
	if !strings.HasPrefix(res.SizeMissing, "550") || !strings.HasPrefix(res.ReaderStor, "550") {
		t.Errorf("SIZE nonexistent %q, reader STOR %q: want 550", res.SizeMissing, res.ReaderStor)
	}
	if !strings.HasPrefix(res.Quit, "221") || !strings.HasPrefix(res.QuitWriter, "221") {
		t.Errorf("QUIT %q / %q", res.Quit, res.QuitWriter)
	}

	// the writer's changes, on disk
	if res.MKD != "/dir" {
		t.Errorf("mkd returned %q, want /dir", res.MKD)
	}
	for what, r := range map[string]string{"rename": res.Rename, "delete": res.Delete, "rmd": res.RMD} {
		if !strings.HasPrefix(r, "250") {
			t.Errorf("%s: %q", what, r)
		}
	}
	if !strings.HasPrefix(res.RMDNonEmpty, "550") {
		t.Errorf("rmd of a non-empty folder: %q", res.RMDNonEmpty)
	}
	text := uploads["text.txt"]
	want := map[string][]byte{
		"dir/nested/moved.bin": uploads["blob.bin"],
		"dir/empty.bin":        {},
		"dir/text.txt":         text,
		"dir/lines.txt":        text,
		"dir/appended.txt":     bytes.Repeat(text, 2),
	}
	checkTree(t, s.writer, want, nil)
	if res.WriterSize != int64(len(uploads["blob.bin"])) {
		t.Errorf("writer SIZE nested/moved.bin = %d", res.WriterSize)
	}
	wantMLSD := map[string]string{"nested": "dir:-", "empty.bin": "file:0", "text.txt": "file:14", "lines.txt": "file:14", "appended.txt": "file:28"}
	for name, v := range res.WriterMLSD {
		if name == "." || name == ".." {
			continue
		}
		if wantMLSD[name] != v {
			t.Errorf("writer MLSD %s = %q, want %q", name, v, wantMLSD[name])
		}
	}
	if len(res.WriterMLSD) < len(wantMLSD) {
		t.Errorf("writer MLSD %v, want %v", res.WriterMLSD, wantMLSD)
	}
}
