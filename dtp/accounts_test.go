// Tests of the accounts file and of logins.
package dtp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rftpd/rftpd/protocol"
)

func TestLoadAccounts(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "plain")
	mustOK(t, os.WriteFile(file, nil, 0o644))
	user := func(extra string) string {
		return fmt.Sprintf("[[user]]\nname = \"alice\"\npassword = %q\nroot = %q\n%s", testHash, root, extra)
	}
	for _, tc := range []struct {
		name, body string
		err        string // "" if the file is good; else text the error contains
	}{
		{"good", user(`permissions = ["read", "write", "mkdir"]`) + "\n" +
			fmt.Sprintf("[[user]]\nname = \"bob\"\npassword = %q\nroot = \".\"\n", testHash), ""},
		{"empty file", "", ""},
		{"unknown key", user("shell = \"/bin/sh\"\n"), `user 1 "alice" (line 1): unknown key "shell"`},
		{"unknown key in second user", user("") + "\n[[user]]\nname = \"bob\"\npasword = \"x\"\n",
			`user 2 "bob" (line 6): unknown key "pasword"`},
		{"unknown top-level key", "listen = 21\n" + user(""), `unknown key "listen"`},
		{"bad hash", "[[user]]\nname = \"alice\"\npassword = \"hunter2\"\nroot = \"/tmp\"\n", `user 1 "alice" (line 1): password is not a bcrypt hash`},
		{"missing hash", "[[user]]\nname = \"alice\"\nroot = \"/tmp\"\n", "password is missing"},
		{"unknown permission", user(`permissions = ["read", "admin"]`), `unknown permission "admin"`},
		{"missing root", user("")[:strings.Index(user(""), "root")] + `root = "/no/such/dir"` + "\n", "root: "},
		{"root is a file", strings.Replace(user(""), root, file, 1), "root: "},
		{"no root", strings.Replace(user(""), "root = ", "#", 1), "root is missing"},
		{"empty name", strings.Replace(user(""), `"alice"`, `""`, 1), "user 1 (line 1): name is missing"},
		{"duplicate", user("") + "\n" + user(""), `user 2 "alice" (line 6): name appears twice`},
		{"reserved", strings.Replace(user(""), "alice", "Anonymous", 1), "reserved for anonymous"},
		{"wrong type", strings.Replace(user(""), `"alice"`, "3", 1), "line 2"},
		{"bad syntax", "[[user]\n", "toml: line "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := LoadAccounts(writeAccounts(t, tc.body))
			if tc.err == "" {
				mustOK(t, err)
				acc.Close()
				return
			}
			if err == nil {
				acc.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "dtp: ") {
				t.Fatalf("error %q, want it to contain %q", err, tc.err)
			}
		})
	}
	if _, err := LoadAccounts(filepath.Join(root, "missing.toml")); err == nil {
		t.Fatal("a missing file loads")
	}
}

func TestLogin(t *testing.T) {
	dir := t.TempDir()
	pub := t.TempDir()
	body := fmt.Sprintf("[[user]]\nname = \"alice\"\npassword = %q\nroot = %q\npermissions = [\"read\", \"delete\"]\n"+
		"[[user]]\nname = \"bob\"\npassword = %q\nroot = %q\n", testHash, dir, testHash, dir)
	acc, err := LoadAccounts(writeAccounts(t, body))
	mustOK(t, err)
	defer acc.Close()
	srv, err := New(DefaultConfig(), acc)
	mustOK(t, err)
	defer srv.Close()

	login := func(user, pass string) protocol.EvLogin {
		t.Helper()
		sess := srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
		defer srv.CloseSession(sess)
		c := newCollector()
		srv.Do(sess, protocol.ReqLogin{User: user, Pass: pass}, c.post)
		ev := expect[protocol.EvLogin](t, c)
		if (sess.identity() != nil) != ev.OK {
			t.Fatalf("session identity does not match %#v", ev)
		}
		return ev
	}
	check := func(got, want protocol.EvLogin) {
		t.Helper()
		if got != want {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	}
	check(login("alice", "secret"), protocol.EvLogin{OK: true, Perms: protocol.PermRead | protocol.PermDelete})
	check(login("bob", "secret"), protocol.EvLogin{OK: true, Perms: protocol.PermRead})
	check(login("alice", "wrong"), protocol.EvLogin{})
	check(login("Alice", "secret"), protocol.EvLogin{})
	check(login("nobody", "secret"), protocol.EvLogin{})
	check(login("anonymous", "a@b"), protocol.EvLogin{}) // not enabled yet
	check(login("alice", strings.Repeat("x", 100)), protocol.EvLogin{})

	mustOK(t, acc.SetAnonymous(pub))
	for _, name := range []string{"anonymous", "ftp", "FTP", "Anonymous"} {
		check(login(name, ""), protocol.EvLogin{OK: true, Anonymous: true, Perms: protocol.PermRead})
	}
	if err := acc.SetAnonymous(filepath.Join(pub, "missing")); err == nil {
		t.Fatal("SetAnonymous accepts a missing directory")
	}

	// An unknown user costs a bcrypt compare like a wrong password.
	slow, err := bcrypt.GenerateFromPassword([]byte("x"), 9)
	mustOK(t, err)
	accSlow, err := LoadAccounts(writeAccounts(t, fmt.Sprintf("[[user]]\nname = \"c\"\npassword = %q\nroot = %q\n", slow, dir)))
	mustOK(t, err)
	defer accSlow.Close()
	srvSlow, err := New(DefaultConfig(), accSlow)
	mustOK(t, err)
	defer srvSlow.Close()
	timeLogin := func(user string) time.Duration {
		sess := srvSlow.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
		c := newCollector()
		start := time.Now()
		srvSlow.Do(sess, protocol.ReqLogin{User: user, Pass: "wrong"}, c.post)
		expect[protocol.EvLogin](t, c)
		return time.Since(start)
	}
	wrong, unknown := timeLogin("c"), timeLogin("nobody")
	if unknown < wrong/3 {
		t.Fatalf("unknown user answered in %v, wrong password in %v", unknown, wrong)
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword([]byte("pw"))
	mustOK(t, err)
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("pw")) != nil {
		t.Fatal("hash does not match")
	}
	if cost, _ := bcrypt.Cost([]byte(h)); cost != bcrypt.DefaultCost {
		t.Fatalf("cost %d", cost)
	}
	if _, err := HashPassword(make([]byte, 73)); err == nil {
		t.Fatal("a 73-byte password hashes")
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, nil)
	e.do(protocol.ReqLogout{})
	e.do(protocol.ReqFile{Op: protocol.OpStat, Path: "/"})
	mustErr(t, expect[protocol.EvFile](t, e.ev).Err, protocol.ErrPermission)
}
