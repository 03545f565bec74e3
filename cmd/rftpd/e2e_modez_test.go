// End-to-end tests of MODE Z with lftp, which turns it on by itself when FEAT lists it: get, put, mirror both ways, over FTPS too.
package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// lftpUsedModeZ checks that lftp's conversation in dir switched to MODE Z
// and the server agreed.
func lftpUsedModeZ(t *testing.T, dir string) {
	t.Helper()
	if sent := lftpSent(t, dir); !slices.Contains(sent, "MODE") {
		t.Fatalf("lftp did not send MODE Z: %q", sent)
	}
	if log := string(getFile(t, filepath.Join(dir, lftpDebug))); !strings.Contains(log, "<--- 200 Mode set to Z.") {
		t.Fatalf("no 200 to MODE Z in lftp's log")
	}
}

// lftp with MODE Z offered: mirror down and up, get and put of single
// files, resumed get (REST under MODE Z), each checked byte for byte
// against the trees.
func TestLftpModeZ(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "rftpd.toml")
	putFile(t, cfg, "mode_z = true\n")
	s := startStd(t, "-config", cfg)
	for _, v := range []struct {
		name     string
		settings []string
	}{
		{"level 6", nil},
		{"level 1, LIST", []string{"set ftp:mode-z-level 1", "set ftp:use-mlsd no"}},
		{"level 9, active", []string{"set ftp:mode-z-level 9", "set ftp:passive-mode off"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			mustLftp(t, s, dir, "anonymous", "x", "mirror / "+filepath.Join(dir, "copy"), v.settings...)
			checkTree(t, filepath.Join(dir, "copy"), fixtureFiles, nil)
			lftpUsedModeZ(t, dir)

			up := "up-" + strings.NewReplacer(" ", "", ",", "").Replace(v.name)
			dir = t.TempDir()
			mustLftp(t, s, dir, "writer", writerPass, "mirror -R "+s.tree+" /"+up, v.settings...)
			checkTree(t, filepath.Join(s.writer, up), fixtureFiles, nil)
			lftpUsedModeZ(t, dir)
		})
	}
	// get and put of one file, and a get resumed half way (REST + MODE Z)
	dir := t.TempDir()
	putFile(t, filepath.Join(dir, fBig+".part"), string(fixtureFiles[fBig][:len(fixtureFiles[fBig])/2]))
	mustLftp(t, s, dir, "reader", readerPass,
		"get "+fMedium+" -o "+filepath.Join(dir, "medium")+"; get -c "+fBig+" -o "+filepath.Join(dir, fBig+".part"))
	checkBytes(t, "get", getFile(t, filepath.Join(dir, "medium")), fixtureFiles[fMedium])
	checkBytes(t, "get -c", getFile(t, filepath.Join(dir, fBig+".part")), fixtureFiles[fBig])
	lftpUsedModeZ(t, dir)
	if sent := lftpSent(t, dir); !slices.Contains(sent, "REST") {
		t.Errorf("get -c sent no REST: %q", sent)
	}
	up := t.TempDir()
	mustLftp(t, s, up, "writer", writerPass, "put "+filepath.Join(dir, "medium")+" -o /medium.put")
	checkFile(t, filepath.Join(s.writer, "medium.put"), fixtureFiles[fMedium])
	lftpUsedModeZ(t, up)
}

// MODE Z under PROT P: lftp compresses inside TLS.
func TestLftpModeZOverTLS(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "rftpd.toml")
	putFile(t, cfg, "mode_z = true\n")
	s := startFTPS(t, "-config", cfg)
	dir := t.TempDir()
	tls := []string{"set ftp:ssl-force yes", "set ftp:ssl-protect-data yes", "set ssl:ca-file " + certFile}
	mustLftp(t, s, dir, "writer", writerPass, "mirror -R "+s.tree+" /tls; mirror /tls "+filepath.Join(dir, "back"), tls...)
	checkTree(t, filepath.Join(s.writer, "tls"), fixtureFiles, nil)
	checkTree(t, filepath.Join(dir, "back"), fixtureFiles, nil)
	lftpUsedModeZ(t, dir)
	if sent := lftpSent(t, dir); !slices.Contains(sent, "PROT") {
		t.Errorf("lftp did not protect the data: %q", sent)
	}
}
