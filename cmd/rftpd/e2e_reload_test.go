// End-to-end test of SIGHUP's reload: accounts, limits and banner change for new sessions, open ones go on, a broken file changes nothing.
package main

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dialFrom opens a control connection from the loopback address from and
// reads the greeting, which it returns.
func dialFrom(t *testing.T, addr, from string) (*ctrl, reply) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: clientTimeout}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	c := &ctrl{t: t, conn: conn, r: bufio.NewReader(conn)}
	t.Cleanup(func() { conn.Close() })
	return c, c.read()
}

// logCount counts the lines of rftpd's log holding text.
func logCount(p *proc, text string) int { return strings.Count(p.stderr.String(), text) }

// waitLogCount waits up to 10 s for the n-th line holding text.
func waitLogCount(t *testing.T, p *proc, text string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for logCount(p, text) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q is not in the log %d times:\n%s", text, n, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReloadOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	root := t.TempDir()
	accounts := filepath.Join(dir, "users.toml")
	writeAccountsTo := func(accts []account) {
		b, err := os.ReadFile(writeAccounts(t, accts))
		if err != nil {
			t.Fatal(err)
		}
		putFile(t, accounts, string(b))
	}
	writeAccountsTo([]account{{name: "writer", pass: writerPass, root: root, perms: []string{"read", "write"}}})
	cfg := filepath.Join(dir, "rftpd.toml")
	config := func(banner string, maxPerIP, fsWorkers int) {
		putFile(t, cfg, "users = \"users.toml\"\nbanner = \""+banner+"\"\n"+
			"[limits]\nmax_per_ip = "+strconv.Itoa(maxPerIP)+"\nfs_workers = "+strconv.Itoa(fsWorkers)+"\n[timeouts]\nlogin_fail_delay = \"10ms\"\n")
	}
	config("first banner", 10, 16)
	p := startProc(t, "-config", cfg)
	defer p.stop()

	// An upload in flight, by an account the reload removes.
	old, greet := dialFrom(t, p.addr, "127.0.0.1")
	if greet.code != 220 || !strings.Contains(greet.text(), "first banner") {
		t.Fatalf("greeting %q", greet)
	}
	old.login("writer", writerPass)
	old.cmd("TYPE I", 200)
	data := old.pasv()
	old.cmd("STOR kept.bin", 150)
	payload := randomBytes(81, 3<<20)
	if _, err := data.Write(payload[:1<<20]); err != nil {
		t.Fatal(err)
	}

	// New accounts (writer gone, newbie added), a banner, a per-address
	// limit, and a worker count, which needs a restart.
	writeAccountsTo([]account{{name: "newbie", pass: readerPass, root: root}})
	config("second banner", 1, 8)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLogCount(t, p, `msg="SIGHUP: reloaded; these settings changed but need a restart"`, 1)
	if line := p.stderr.String(); !strings.Contains(line, `changed="banner limits.max_per_ip" restart_needed=limits.fs_workers`) {
		t.Errorf("the reload's log line names the wrong settings:\n%s", line)
	}

	// New sessions: the new banner, the new account, the old one gone,
	// and one session per address.
	c, greet := dialFrom(t, p.addr, "127.0.0.31")
	if !strings.Contains(greet.text(), "second banner") {
		t.Errorf("greeting after the reload %q, want the new banner", greet)
	}
	c.login("newbie", readerPass)
	if _, r := dialFrom(t, p.addr, "127.0.0.31"); r.code != 421 {
		t.Errorf("a second session from 127.0.0.31 under max_per_ip = 1: %q, want 421", r)
	}
	w, _ := dialFrom(t, p.addr, "127.0.0.32")
	w.cmd("USER writer", 331)
	w.cmd("PASS "+writerPass, 530)

	// The old session's upload finishes and is whole.
	if _, err := data.Write(payload[1<<20:]); err != nil {
		t.Fatal(err)
	}
	data.Close()
	old.expect(226)
	old.cmd("NOOP", 200)
	got, err := os.ReadFile(filepath.Join(root, "kept.bin"))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("the upload in flight during the reload: %d bytes, %v; want %d", len(got), err, len(payload))
	}

	// A broken accounts file: the reload fails and changes nothing.
	putFile(t, accounts, "[[user]\nname = ")
	config("third banner", 10, 8)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLogCount(t, p, `msg="SIGHUP: reload failed; the old settings stay in force"`, 1)
	c2, greet := dialFrom(t, p.addr, "127.0.0.33")
	if !strings.Contains(greet.text(), "second banner") {
		t.Errorf("greeting after a failed reload %q, want the banner in force", greet)
	}
	c2.login("newbie", readerPass)
	if _, r := dialFrom(t, p.addr, "127.0.0.33"); r.code != 421 {
		t.Errorf("after a failed reload, a second session from one address: %q, want 421 (max_per_ip = 1 stays)", r)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
}
