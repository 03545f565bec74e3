// Network battery: every command with hostile arguments, before and after login, against the real binary.
package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// batteryVerbs is every verb rftpd knows, a few it does not, and lower case.
var batteryVerbs = []string{
	"USER", "PASS", "ACCT", "CWD", "CDUP", "SMNT", "REIN", "PORT", "PASV", "TYPE", "STRU", "MODE", "RETR",
	"STOR", "STOU", "APPE", "ALLO", "REST", "RNFR", "RNTO", "ABOR", "DELE", "RMD", "MKD", "PWD", "LIST", "NLST",
	"SITE", "SYST", "STAT", "HELP", "NOOP", "XCWD", "XCUP", "XPWD", "XMKD", "XRMD", "FEAT", "OPTS", "SIZE",
	"MDTM", "MLST", "MLSD", "EPSV", "EPRT", "HOST", "MFMT", "AUTH", "PBSZ", "PROT", "XYZZY", "retr", "Site",
}

// dataVerbs open a data connection when they are accepted.
var dataVerbs = map[string]bool{"RETR": true, "STOR": true, "STOU": true, "APPE": true, "LIST": true, "NLST": true, "MLSD": true}

// batteryArgs builds the hostile arguments; outside is a folder outside every root.
func batteryArgs(outside string) []string {
	args := []string{
		"", " ", "%s%s%s%n%n%x%p", "%99999999d", "${jndi:ldap://x}", "$(id)", "`id`", "'; DROP TABLE x; --",
		"a\x00b", "\x00", "\xff\xfe\xfd", "\xc3\x28", "\xed\xa0\x80", "\xff\xff\xff\xff", "\xff\xf4\xff\xf2",
		"\xff\xfa\x18garbage", "..", "../", "../../../../../../../../etc/passwd", strings.Repeat("../", 500) + "etc",
		"/etc/passwd", "/../../etc/shadow", outside, outside + "/secret.txt", "link-out", "link-out/secret.txt",
		"rel-out/secret.txt", "dir-link-out", "dir-link-out/x", "..\\..\\windows", "~root", "*", "?", "-la ../..",
		"-R /", "./././.", "a/../../b", "//etc//passwd", "\t", "a\tb", "1,2,3,4,5,6", "127,0,0,1,0,21",
		"|1|127.0.0.1|21|", "|2|::1|80|", "|3|x|1|", "99999999999999999999", "-1", "20240101000000 ../../x",
		"CHMOD 777 ../../x", "CHMOD 7777 link-out", "UTF8 ON", "MLST ../", "I", "E", "L 99",
	}
	for _, n := range []int{10, 100, 1000, 4000, 4100, 20000} {
		args = append(args, strings.Repeat("A", n))
	}
	args = append(args, strings.Repeat("\xff", 3000), strings.Repeat("../", 1400))
	return args
}

// snapshot maps every path below dir to its size, mode, time and content hash.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += fmt.Sprintf(" %x", sha256.Sum256(b))
		}
		m[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// battery is one client of the battery: it reconnects whenever the server
// closes the session, which is a legitimate answer to some of the input.
type battery struct {
	t              *testing.T
	addr           string
	user, pass     string
	conn           net.Conn
	r              *bufio.Reader
	cases, closes  int
	replies        map[int]int
	closedOnPurpse []string
	last           string // first line of the last reply
}

// secretText is the content of the file outside every root.
const secretText = "top secret: outside the root\n"

var replyRE = regexp.MustCompile(`^[1-5][0-9][0-9][ -]`)

func (b *battery) connect() {
	b.t.Helper()
	c, err := net.DialTimeout("tcp", b.addr, 10*time.Second)
	if err != nil {
		b.t.Fatalf("connect: %v", err)
	}
	b.conn, b.r = c, bufio.NewReader(c)
	if code, ok := b.reply(); !ok || code != 220 {
		b.t.Fatalf("greeting: %d", code)
	}
	if b.user != "" {
		b.send("USER " + b.user)
		b.mustReply(331)
		b.send("PASS " + b.pass)
		b.mustReply(230)
	}
}

func (b *battery) send(line string) {
	b.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(b.conn, line+"\r\n")
}

// reply reads one whole reply; ok is false when the server closed the session.
func (b *battery) reply() (int, bool) {
	b.t.Helper()
	b.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	first, err := b.r.ReadString('\n')
	if err != nil {
		if ne, isNet := err.(net.Error); isNet && ne.Timeout() {
			b.t.Fatalf("no reply within 15s (the server hangs)")
		}
		return 0, false
	}
	if !replyRE.MatchString(first) || !strings.HasSuffix(first, "\r\n") {
		b.t.Fatalf("malformed reply line %q", first)
	}
	b.last = first
	code := int(first[0]-'0')*100 + int(first[1]-'0')*10 + int(first[2]-'0')
	if first[3] == '-' {
		for {
			l, err := b.r.ReadString('\n')
			if err != nil {
				return code, false
			}
			if strings.HasPrefix(l, first[:3]+" ") {
				break
			}
		}
	}
	b.replies[code/100]++
	return code, true
}

func (b *battery) mustReply(want int) {
	b.t.Helper()
	if code, ok := b.reply(); !ok || code != want {
		b.t.Fatalf("got %d (open %v), want %d", code, ok, want)
	}
}

// try sends one hostile command (with a passive data connection for the
// data verbs) and reads everything it answers.
func (b *battery) try(verb, arg string) {
	b.t.Helper()
	b.cases++
	line := verb
	if arg != "" {
		line += " " + arg
	}
	var data net.Conn
	if dataVerbs[strings.ToUpper(verb)] && b.user != "" {
		b.send("EPSV")
		code, ok := b.reply()
		if !ok {
			b.reopen(line)
			return
		}
		data = b.dialEPSV(code)
	}
	b.send(line)
	code, ok := b.reply()
	if ok && code/100 == 1 && data != nil {
		if strings.EqualFold(verb, "STOR") || strings.EqualFold(verb, "APPE") || strings.EqualFold(verb, "STOU") {
			_, _ = data.Write([]byte("battery data\n"))
		} else {
			data.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, _ := io.ReadAll(io.LimitReader(data, 64<<20))
			if strings.Contains(string(got), secretText) {
				b.t.Errorf("%.60q as %q read a file outside the root", line, b.user)
			}
		}
		data.Close()
		data = nil
		_, ok = b.reply()
	}
	if data != nil {
		data.Close()
	}
	switch {
	case !ok:
		b.reopen(line)
	case b.user != "" && (strings.EqualFold(verb, "REIN") || strings.EqualFold(verb, "USER") || strings.EqualFold(verb, "PASS")):
		// The command may have logged the session out: start afresh so
		// that what follows runs logged in.
		b.conn.Close()
		b.connect()
	}
}

var epsvRE = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)

// dialEPSV opens the data connection a 229 reply (the last one) announces.
func (b *battery) dialEPSV(code int) net.Conn {
	b.t.Helper()
	m := epsvRE.FindStringSubmatch(b.last)
	if code != 229 || m == nil {
		return nil
	}
	host, _, _ := net.SplitHostPort(b.addr)
	d, err := net.DialTimeout("tcp", net.JoinHostPort(host, m[1]), 10*time.Second)
	if err != nil {
		b.t.Fatalf("data connection: %v", err)
	}
	return d
}

func (b *battery) reopen(line string) {
	b.closes++
	if len(b.closedOnPurpse) < 5 {
		b.closedOnPurpse = append(b.closedOnPurpse, fmt.Sprintf("%.40q", line))
	}
	b.conn.Close()
	b.connect()
}

func TestHostileBattery(t *testing.T) {
	outside := t.TempDir()
	putFile(t, filepath.Join(outside, "secret.txt"), secretText)
	if err := os.Mkdir(filepath.Join(outside, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := configFile(t, "[timeouts]\nlogin_fail_delay = \"0s\"\n[limits]\nmax_login_failures = 0\nban_after = 0\n")
	s := startStd(t, cfg...)
	for name, target := range map[string]string{
		"link-out":     filepath.Join(outside, "secret.txt"),
		"dir-link-out": outside,
		"rel-out":      mustRel(t, s.writer, outside),
	} {
		if err := os.Symlink(target, filepath.Join(s.writer, name)); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, outside)
	treeBefore := snapshot(t, s.tree)
	args := batteryArgs(outside)

	for _, who := range []struct{ user, pass string }{{"", ""}, {"writer", writerPass}, {"anonymous", "x"}} {
		b := &battery{t: t, addr: s.addr, user: who.user, pass: who.pass, replies: map[int]int{}}
		b.connect()
		for _, verb := range batteryVerbs {
			for _, arg := range args {
				b.try(verb, arg)
			}
		}
		b.conn.Close()
		t.Logf("battery as %q: %d commands, %d sessions closed by the server (e.g. %v), replies by class %v",
			who.user, b.cases, b.closes, b.closedOnPurpse, b.replies)
	}

	if after := snapshot(t, outside); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a file outside the roots changed:\nbefore %v\nafter  %v", before, after)
	}
	if after := snapshot(t, s.tree); fmt.Sprint(after) != fmt.Sprint(treeBefore) {
		t.Errorf("the read-only tree changed")
	}
	// A normal client is still served.
	c := dial(t, s.addr)
	c.login("reader", readerPass)
	c.cmd("TYPE I", 200)
	checkBytes(t, "RETR after the battery", c.retr(fSmall), fixtureFiles[fSmall])
}

func mustRel(t *testing.T, from, to string) string {
	t.Helper()
	r, err := filepath.Rel(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHTTPRequestsClosed: HTTP request lines, before or after login, get 421
// and the connection is closed; the server goes on serving.
func TestHTTPRequestsClosed(t *testing.T) {
	s := startStd(t)
	for _, req := range []string{"GET / HTTP/1.1", "POST /upload HTTP/1.0", "CONNECT example.org:443 HTTP/1.1", "HEAD /x HTTP/1.1"} {
		for _, login := range []bool{false, true} {
			c := dial(t, s.addr)
			if login {
				c.login("anonymous", "x")
			}
			c.cmd(req, 421)
			expectClosed(t, c, 5*time.Second)
		}
	}
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("NOOP", 200)
}
