// Tests of the accounts file and of logins.
package dtp

import (
	"crypto/tls"
	"fmt"
	"math"
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
		{"tls keys", user("tls_login = true\ntls_data = false\ntls_reuse = true\n"), ""},
		{"tls key not a boolean", user("tls_login = \"yes\"\n"), "tls_login"},
		{"unknown tls key", user("tls_required = true\n"), `user 1 "alice" (line 1): unknown key "tls_required"`},
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
	// The dummy hash has the file's cost, and an unknown user is checked
	// against it: without a compare its answer would take microseconds
	// against tens of milliseconds, so the fastest of 5 tries of each,
	// taken in turns, must be within a factor of 10 however busy the
	// machine is.
	if c, err := bcrypt.Cost(accSlow.dummyHash()); err != nil || c != 9 {
		t.Fatalf("the dummy hash has cost %d (%v), want the file's 9", c, err)
	}
	wrong, unknown := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	for range 5 {
		wrong, unknown = min(wrong, timeLogin("c")), min(unknown, timeLogin("nobody"))
	}
	if unknown < wrong/10 {
		t.Fatalf("unknown user answered in %v at best, wrong password in %v", unknown, wrong)
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

// TestTLSLoginPolicy checks the TLS requirements of logins: the listener
// defaults, each account's overrides, anonymous logins, and the refusal
// of an unprotected login that needs TLS, answered at once (inline, no
// password check) for known and unknown names alike.
func TestTLSLoginPolicy(t *testing.T) {
	dir, pub := t.TempDir(), t.TempDir()
	tl := newTLSFix(t).tl
	entry := func(name, extra string) string {
		return fmt.Sprintf("[[user]]\nname = %q\npassword = %q\nroot = %q\n%s", name, testHash, dir, extra)
	}
	plain := entry("plain", "")
	body := plain +
		entry("strict", "tls_login = true\ntls_data = true\ntls_reuse = true\n") +
		entry("loose", "tls_login = false\ntls_data = false\ntls_reuse = false\n")

	type want struct {
		required    bool // ErrTLSRequired
		ok          bool
		data, reuse bool
	}
	required := want{required: true}
	refused := want{}
	for _, tc := range []struct {
		name   string
		body   string
		mod    func(*Config)
		user   string
		secure bool
		want   want
	}{
		// Listener defaults all on.
		{"on", body, allTLS, "plain", false, required},
		{"on", body, allTLS, "plain", true, want{ok: true, data: true, reuse: true}},
		{"on", body, allTLS, "strict", false, required},
		{"on", body, allTLS, "strict", true, want{ok: true, data: true, reuse: true}},
		{"on", body, allTLS, "loose", false, want{ok: true}},
		{"on", body, allTLS, "nobody", false, required},
		{"on", body, allTLS, "nobody", true, refused},
		{"on", body, allTLS, "anonymous", false, required},
		{"on", body, allTLS, "ftp", true, want{ok: true, data: true, reuse: true}},
		// Listener defaults all off.
		{"off", body, noTLSRules, "plain", false, want{ok: true}},
		{"off", body, noTLSRules, "strict", false, required},
		{"off", body, noTLSRules, "strict", true, want{ok: true, data: true, reuse: true}},
		{"off", body, noTLSRules, "loose", true, want{ok: true}},
		{"off", body, noTLSRules, "nobody", false, refused},
		{"off", body, noTLSRules, "anonymous", false, want{ok: true}},
		// No certificate: the defaults do not apply (reuse has no effect).
		{"no TLS", plain, func(c *Config) { allTLS(c); c.TLS = nil }, "plain", false, want{ok: true, reuse: true}},
		{"no TLS", plain, func(c *Config) { allTLS(c); c.TLS = nil }, "anonymous", false, want{ok: true, reuse: true}},
	} {
		t.Run(fmt.Sprintf("%s/%s/secure=%v", tc.name, tc.user, tc.secure), func(t *testing.T) {
			acc, err := LoadAccounts(writeAccounts(t, tc.body))
			mustOK(t, err)
			defer acc.Close()
			mustOK(t, acc.SetAnonymous(pub))
			cfg := DefaultConfig()
			cfg.TLS = tl
			tc.mod(&cfg)
			srv, err := New(cfg, acc)
			mustOK(t, err)
			defer srv.Close()
			for _, pass := range []string{"secret", "wrong"} {
				sess := srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
				defer srv.CloseSession(sess)
				c := newCollector()
				srv.Do(sess, protocol.ReqLogin{User: tc.user, Pass: pass, Secure: tc.secure}, c.post)
				if tc.want.required {
					// Answered inline: no queue, no bcrypt.
					select {
					case ev := <-c.ch:
						if ev != (protocol.EvLogin{Err: protocol.ErrTLSRequired}) {
							t.Fatalf("password %q: got %#v, want ErrTLSRequired", pass, ev)
						}
					default:
						t.Fatalf("password %q: ErrTLSRequired not answered inline", pass)
					}
					if sess.identity() != nil {
						t.Fatal("a refused login left an identity")
					}
					continue
				}
				ev := expect[protocol.EvLogin](t, c)
				anon := isAnonymousName(tc.user)
				ok := tc.want.ok && (pass == "secret" || anon)
				if ev.Err != nil || ev.OK != ok || (ok && (ev.TLSData != tc.want.data || ev.Anonymous != anon)) {
					t.Fatalf("password %q: got %#v, want ok %v, TLSData %v", pass, ev, ok, tc.want.data)
				}
				if id := sess.identity(); ok && (id == nil || id.tlsData != tc.want.data || id.tlsReuse != tc.want.reuse) {
					t.Fatalf("password %q: identity %+v, want data %v, reuse %v", pass, id, tc.want.data, tc.want.reuse)
				}
			}
		})
	}
}

func allTLS(c *Config) {
	c.TLSLoginAccounts, c.TLSLoginAnonymous, c.TLSDataAccounts, c.TLSDataAnonymous, c.TLSReuse = true, true, true, true, true
}

func noTLSRules(c *Config) {
	c.TLSLoginAccounts, c.TLSLoginAnonymous, c.TLSDataAccounts, c.TLSDataAnonymous, c.TLSReuse = false, false, false, false, false
}

// An account that requires TLS (tls_login or tls_data = true) on a server
// without a certificate stops New, naming the account; tls_reuse and
// false values do not.
func TestTLSAccountNeedsCertificate(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		extra string
		fails bool
	}{
		{"tls_login = true\n", true},
		{"tls_data = true\n", true},
		{"tls_login = false\ntls_data = false\ntls_reuse = true\n", false},
	} {
		acc, err := LoadAccounts(writeAccounts(t, fmt.Sprintf("[[user]]\nname = \"carol\"\npassword = %q\nroot = %q\n%s", testHash, dir, tc.extra)))
		mustOK(t, err)
		srv, err := New(DefaultConfig(), acc)
		switch {
		case tc.fails && (err == nil || !strings.Contains(err.Error(), `"carol"`)):
			t.Fatalf("%q without TLS: %v", tc.extra, err)
		case !tc.fails && err != nil:
			t.Fatalf("%q without TLS: %v", tc.extra, err)
		case err == nil:
			srv.Close()
		}
		acc.Close()
	}
}

// A login that must protect its data connections has a transfer without
// PROT P refused by the DTP too (the session refuses it first, with 521).
func TestTLSDataRequired(t *testing.T) {
	e, f := newTLSEnv(t, func(c *Config) { c.TLSDataAccounts = true })
	e.write("f", []byte("data"))
	e.do(protocol.ReqLogin{User: "u", Pass: "secret"})
	if ev := expect[protocol.EvLogin](t, e.ev); !ev.OK || !ev.TLSData {
		t.Fatalf("login: %#v", ev)
	}
	e.pasv()
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrPermission)
	ccfg, _ := f.boundClient(t, e, tls.VersionTLS13)
	got, _, _, done := e.protectedDownload(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"}, ccfg)
	mustOK(t, done.Err)
	if string(got) != "data" {
		t.Fatalf("got %q", got)
	}
}
