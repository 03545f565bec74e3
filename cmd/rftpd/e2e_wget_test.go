// End-to-end tests with GNU wget: recursive download (it parses LIST output), active mode, resume.
package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func wget(t *testing.T, dir string, args ...string) toolResult {
	t.Helper()
	bin := needTool(t, "wget", "wget")
	base := []string{"--no-config", "--tries=1", "--timeout=10", "--no-verbose"}
	return runTool(t, dir, "", bin, append(base, args...)...)
}

func mustWget(t *testing.T, dir string, args ...string) toolResult {
	t.Helper()
	r := wget(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("wget %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// skipListing ignores the .listing files wget keeps when asked to.
func skipListing(rel string) bool { return filepath.Base(rel) == ".listing" }

func TestWgetRecursive(t *testing.T) {
	s := startStd(t)
	for _, v := range []struct {
		name string
		args []string
	}{
		{"passive", nil},
		{"active", []string{"--no-passive-ftp"}},
		{"keep-listing", []string{"--no-remove-listing"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			args := append(slices.Clone(v.args), "-r", "-l", "inf", "-nH", "-np", "-P", "copy", "ftp://anonymous@"+s.addr+"/")
			mustWget(t, dir, args...)
			checkTree(t, filepath.Join(dir, "copy"), fixtureFiles, skipListing)
		})
	}
	// a sub-tree as the reader account, cutting the leading folder
	dir := t.TempDir()
	mustWget(t, dir, "-r", "-l", "inf", "-nH", "--cut-dirs=1", "-np", "-P", "copy",
		"--ftp-user=reader", "--ftp-password="+readerPass, "ftp://"+s.addr+"/sub/")
	want := map[string][]byte{}
	for n, b := range fixtureFiles {
		if rel, ok := strings.CutPrefix(n, "sub/"); ok {
			want[rel] = b
		}
	}
	checkTree(t, filepath.Join(dir, "copy"), want, skipListing)
}

func TestWgetSingleFiles(t *testing.T) {
	s := startStd(t)
	dir := t.TempDir()
	for _, name := range []string{fHello, fEmpty, fOne, fMedium, fSpaces} {
		out := filepath.Join(dir, filepath.Base(name))
		mustWget(t, dir, "-O", out, "ftp://"+s.addr+"/"+strings.ReplaceAll(name, " ", "%20"))
		checkFile(t, out, fixtureFiles[name])
	}
	// -c continues a partial file with REST
	out := filepath.Join(dir, "big")
	putFile(t, out, string(fixtureFiles[fBig][:3<<20+1]))
	mustWget(t, dir, "-c", "-O", out, "ftp://"+s.addr+"/"+fBig)
	checkFile(t, out, fixtureFiles[fBig])
	// a missing file is an error (exit 8: the server issued an error response)
	if r := wget(t, dir, "-O", filepath.Join(dir, "missing"), "ftp://"+s.addr+"/nonexistent"); r.code != 8 {
		t.Errorf("wget of a missing file: want exit 8, got %s", r)
	}
	// a wrong password too (exit 6: authentication failure)
	if r := wget(t, dir, "-O", filepath.Join(dir, "x"), "--ftp-user=writer", "--ftp-password=wrong", "ftp://"+s.addr+"/x"); r.code != 6 {
		t.Errorf("wget with a wrong password: want exit 6, got %s", r)
	}
}
