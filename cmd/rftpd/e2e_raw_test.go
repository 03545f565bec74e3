// End-to-end control conversations written by hand over net.Dial: replies, limits, hostile input, a manual transfer.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ctrl is a control connection driven line by line.
type ctrl struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
	log  strings.Builder // the transcript, for failure messages
}

// reply is one complete (possibly multi-line) server reply.
type reply struct {
	code  int
	lines []string // every line without CRLF, the first with its code
}

func (r reply) String() string { return strings.Join(r.lines, "\n") }

// text is the last line's text after the code.
func (r reply) text() string {
	l := r.lines[len(r.lines)-1]
	if len(l) < 4 {
		return ""
	}
	return l[4:]
}

// dial connects to addr and reads the greeting, which must be 220.
func dial(t testing.TB, addr string) *ctrl {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	c := &ctrl{t: t, conn: conn, r: bufio.NewReader(conn)}
	t.Cleanup(func() {
		conn.Close()
		if t.Failed() {
			t.Logf("control transcript:\n%s", c.log.String())
		}
	})
	c.expect(220)
	return c
}

// write sends raw bytes.
func (c *ctrl) write(b []byte) {
	c.t.Helper()
	fmt.Fprintf(&c.log, "C: %q\n", b)
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write %q: %v", b, err)
	}
}

// send sends one command line (CRLF added).
func (c *ctrl) send(line string) {
	c.t.Helper()
	c.write([]byte(line + "\r\n"))
}

// read reads one complete reply (RFC 959 §4.2 multi-line form included).
func (c *ctrl) read() reply {
	c.t.Helper()
	r, err := c.tryRead()
	if err != nil {
		c.t.Fatalf("reading reply: %v", err)
	}
	return r
}

var replyLine = regexp.MustCompile(`^([1-5][0-9][0-9])([ -])`)

func (c *ctrl) tryRead() (reply, error) {
	c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	var r reply
	readLine := func() (string, error) {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("%w (partial %q)", err, l)
		}
		fmt.Fprintf(&c.log, "S: %s\n", strings.TrimRight(l, "\r\n"))
		if !strings.HasSuffix(l, "\r\n") {
			return "", fmt.Errorf("reply line %q does not end in CRLF", l)
		}
		return l[:len(l)-2], nil
	}
	first, err := readLine()
	if err != nil {
		return r, err
	}
	m := replyLine.FindStringSubmatch(first)
	if m == nil {
		return r, fmt.Errorf("malformed reply line %q", first)
	}
	r.code, _ = strconv.Atoi(m[1])
	r.lines = append(r.lines, first)
	if m[2] == "-" {
		for {
			l, err := readLine()
			if err != nil {
				return r, err
			}
			r.lines = append(r.lines, l)
			if strings.HasPrefix(l, m[1]+" ") {
				break
			}
		}
	}
	return r, nil
}

// expect reads one reply and fails unless its code is code.
func (c *ctrl) expect(code int) reply {
	c.t.Helper()
	r := c.read()
	if r.code != code {
		c.t.Fatalf("got reply %q, want code %d", r, code)
	}
	return r
}

// cmd sends line and expects code.
func (c *ctrl) cmd(line string, code int) reply {
	c.t.Helper()
	c.send(line)
	return c.expect(code)
}

// login logs in as user with pass.
func (c *ctrl) login(user, pass string) {
	c.t.Helper()
	c.cmd("USER "+user, 331)
	c.cmd("PASS "+pass, 230)
}

// pasv sends PASV, checks the announced address is the loopback one and
// dials it.
func (c *ctrl) pasv() net.Conn {
	c.t.Helper()
	return c.dialPASV(c.cmd("PASV", 227))
}

// dialPASV dials the address of a 227 reply, which must be the loopback one.
func (c *ctrl) dialPASV(r reply) net.Conn {
	c.t.Helper()
	m := regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`).FindStringSubmatch(r.text())
	if m == nil {
		c.t.Fatalf("PASV reply %q has no (h1,h2,h3,h4,p1,p2)", r)
	}
	host := strings.Join(m[1:5], ".")
	if host != "127.0.0.1" {
		c.t.Errorf("PASV announces %s, want 127.0.0.1", host)
	}
	p1, _ := strconv.Atoi(m[5])
	p2, _ := strconv.Atoi(m[6])
	return c.dialData(net.JoinHostPort(host, strconv.Itoa(p1*256+p2)))
}

// epsv sends EPSV and dials the announced port on the control address.
func (c *ctrl) epsv() net.Conn {
	c.t.Helper()
	r := c.cmd("EPSV", 229)
	m := regexp.MustCompile(`\(\|\|\|(\d+)\|\)`).FindStringSubmatch(r.text())
	if m == nil {
		c.t.Fatalf("EPSV reply %q has no (|||port|)", r)
	}
	host, _, _ := net.SplitHostPort(c.conn.RemoteAddr().String())
	return c.dialData(net.JoinHostPort(host, m[1]))
}

func (c *ctrl) dialData(addr string) net.Conn {
	c.t.Helper()
	d, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		c.t.Fatalf("dial data %s: %v", addr, err)
	}
	c.t.Cleanup(func() { d.Close() })
	return d
}

// readAll reads a data connection to EOF.
func readAll(t testing.TB, d net.Conn) []byte {
	t.Helper()
	d.SetReadDeadline(time.Now().Add(clientTimeout))
	b, err := io.ReadAll(d)
	if err != nil {
		t.Fatalf("read data: %v", err)
	}
	d.Close()
	return b
}

// retr downloads name over a fresh passive connection.
func (c *ctrl) retr(name string) []byte {
	c.t.Helper()
	d := c.pasv()
	c.cmd("RETR "+name, 150)
	b := readAll(c.t, d)
	c.expect(226)
	return b
}

func TestRawGreetingAndAnonymousLogin(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.cmd("USER anonymous", 331)
	c.cmd("PASS guest@example.com", 230)
	r := c.cmd("PWD", 257)
	if r.text() != `"/" is the current directory.` {
		t.Errorf("PWD: got %q", r)
	}
	c.cmd("SYST", 215)
	c.cmd("NOOP", 200)
	// anonymous is read only
	c.cmd("MKD newdir", 550)
	c.cmd("DELE "+fHello, 550)
	c.cmd("QUIT", 221)

	// ftp is the other anonymous name; the greeting is the configured banner
	c2 := dial(t, s.addr)
	c2.login("ftp", "x")
	c2.cmd("QUIT", 221)
}

func TestRawBannerFromConfig(t *testing.T) {
	cfg := t.TempDir() + "/rftpd.toml"
	putFile(t, cfg, "banner = \"hello from e2e\"\n")
	addr := startServer(t, "-config", cfg, "-anonymous", fixtureTree(t))
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || l != "220 hello from e2e\r\n" {
		t.Errorf("greeting %q (%v), want %q", l, err, "220 hello from e2e\r\n")
	}
}

func TestRawPasswordLogin(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.cmd("USER writer", 331)
	c.cmd("PASS wrong", 530)
	c.cmd("USER nobody", 331) // unknown users are not told apart
	c.cmd("PASS "+writerPass, 530)
	c.login("writer", writerPass)
	c.cmd("PWD", 257)
}

func TestRawAnonymousDisabled(t *testing.T) {
	users := writeAccounts(t, []account{{name: "reader", pass: readerPass, root: fixtureTree(t)}})
	addr := startServer(t, "-users", users)
	c := dial(t, addr)
	c.send("USER anonymous")
	r := c.read()
	if r.code == 331 {
		r = c.cmd("PASS x", 530)
	} else if r.code != 530 {
		t.Fatalf("USER anonymous without -anonymous: got %q, want 530 (or 331 then 530)", r)
	}
	c.cmd("PWD", 530)
	c.login("reader", readerPass)
}

func TestRawFEAT(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	r := c.cmd("FEAT", 211) // FEAT works before login
	if len(r.lines) < 3 || !strings.HasPrefix(r.lines[0], "211-") || !strings.HasPrefix(r.lines[len(r.lines)-1], "211 ") {
		t.Fatalf("FEAT is not a multi-line 211 reply: %q", r)
	}
	feats := map[string]string{}
	for _, l := range r.lines[1 : len(r.lines)-1] {
		if !strings.HasPrefix(l, " ") {
			t.Errorf("FEAT line %q does not start with a space (RFC 2389)", l)
		}
		name, params, _ := strings.Cut(strings.TrimSpace(l), " ")
		feats[name] = params
	}
	for _, f := range []string{"EPRT", "EPSV", "MDTM", "MLST", "PASV", "REST", "SIZE", "TVFS", "UTF8"} {
		if _, ok := feats[f]; !ok {
			t.Errorf("FEAT lacks %s: %q", f, r)
		}
	}
	if feats["REST"] != "STREAM" {
		t.Errorf("FEAT REST %q, want STREAM", feats["REST"])
	}
	for _, fact := range []string{"type*", "size*", "modify*", "perm*"} {
		if !strings.Contains(feats["MLST"], fact) {
			t.Errorf("FEAT MLST %q lacks %s", feats["MLST"], fact)
		}
	}
	c.cmd("OPTS UTF8 ON", 200)
}

func TestRawPWDQuotingAndNavigation(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	r := c.cmd(`MKD a"b`, 257)
	if !strings.HasPrefix(r.text(), `"/a""b"`) {
		t.Errorf(`MKD a"b: got %q, want the path quoted as "/a""b"`, r)
	}
	c.cmd(`CWD a"b`, 250)
	r = c.cmd("PWD", 257)
	if r.text() != `"/a""b" is the current directory.` {
		t.Errorf(`PWD in a"b: got %q, want "/a""b" doubled`, r)
	}
	c.cmd("MKD with space", 257)
	c.cmd("CWD with space", 250)
	if r = c.cmd("PWD", 257); !strings.HasPrefix(r.text(), `"/a""b/with space" `) {
		t.Errorf("PWD: got %q", r)
	}
	c.cmd("CDUP", 250)
	c.cmd("XPWD", 257)
	c.cmd("CDUP", 250)
	if r = c.cmd("PWD", 257); !strings.HasPrefix(r.text(), `"/" `) {
		t.Errorf("PWD after two CDUP: got %q", r)
	}
	c.cmd("CDUP", 250) // at the root CDUP stays there
	if r = c.cmd("PWD", 257); !strings.HasPrefix(r.text(), `"/" `) {
		t.Errorf("PWD after CDUP at the root: got %q", r)
	}
	c.cmd("CWD ../../..", 250) // clamped to the root
	if r = c.cmd("PWD", 257); !strings.HasPrefix(r.text(), `"/" `) {
		t.Errorf("PWD after CWD ../../..: got %q", r)
	}
	c.cmd("CWD /nonexistent", 550)
	putFile(t, s.writer+"/plain", "x")
	c.cmd("CWD plain", 550) // a file is no directory
	c.cmd(`RMD a"b/with space`, 250)
	c.cmd(`XRMD a"b`, 250)

	// the read-only fixture tree, by absolute and relative paths
	c2 := dial(t, s.addr)
	c2.login("anonymous", "x")
	c2.cmd("CWD /sub/inner/deep", 250)
	if r = c2.cmd("PWD", 257); !strings.HasPrefix(r.text(), `"/sub/inner/deep" `) {
		t.Errorf("PWD: got %q", r)
	}
	c2.cmd("CWD ../../other", 250)
	if r = c2.cmd("PWD", 257); !strings.HasPrefix(r.text(), `"/sub/other" `) {
		t.Errorf("PWD: got %q", r)
	}
	c2.cmd("XCUP", 250)
	c2.cmd("XCWD inner", 250)
	if r = c2.cmd("PWD", 257); !strings.HasPrefix(r.text(), `"/sub/inner" `) {
		t.Errorf("PWD: got %q", r)
	}
}

func TestRawTYPE(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE A", 200)
	c.cmd("TYPE I", 200)
	c.cmd("TYPE L 8", 200)
	c.cmd("TYPE A N", 200)
	c.cmd("TYPE E", 504)
	c.cmd("TYPE", 501)
	c.cmd("TYPE ?", 501)
	c.cmd("MODE S", 200)
	c.cmd("MODE B", 504)
	c.cmd("STRU F", 200)
	c.cmd("STRU R", 504)

	// TYPE A turns LF into CRLF on the wire; TYPE I leaves the bytes alone
	c.cmd("TYPE A", 200)
	got := c.retr(fNotes)
	want := bytes.ReplaceAll(fixtureFiles[fNotes], []byte("\n"), []byte("\r\n"))
	checkBytes(t, "RETR notes.txt in TYPE A", got, want)
	c.cmd("TYPE I", 200)
	checkBytes(t, "RETR notes.txt in TYPE I", c.retr(fNotes), fixtureFiles[fNotes])
}

func TestRawSIZEandMDTM(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	for _, name := range []string{fHello, fEmpty, fOne, fMedium, fBig, fSpaces} {
		r := c.cmd("SIZE "+name, 213)
		if want := strconv.Itoa(len(fixtureFiles[name])); r.text() != want {
			t.Errorf("SIZE %s: got %q, want %s", name, r.text(), want)
		}
		r = c.cmd("MDTM "+name, 213)
		if want := fixtureTime.Format("20060102150405"); strings.TrimSuffix(r.text(), ".000") != want {
			t.Errorf("MDTM %s: got %q, want %s", name, r.text(), want)
		}
	}
	c.cmd("SIZE /sub/inner/deep/leaf.txt", 213)
	c.cmd("SIZE nonexistent", 550)
	c.cmd("MDTM nonexistent", 550)
	c.cmd("SIZE sub", 550) // SIZE of a directory is refused (RFC 3659 §4)
	c.cmd("SIZE", 501)
}

// RFC 3659 §4 and §5.3: in TYPE A, SIZE and REST count the bytes sent,
// where each bare LF goes as CRLF: SIZE is the converted length, and a
// download resumed at any marker, even between an added CR and its LF,
// sends the rest of the converted stream.
func TestRawSIZEandRESTinTYPEA(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE A", 200)
	stored := fixtureFiles[fNotes]
	stream := bytes.ReplaceAll(stored, []byte("\n"), []byte("\r\n"))
	if r := c.cmd("SIZE "+fNotes, 213); r.text() != strconv.Itoa(len(stream)) {
		t.Errorf("SIZE in TYPE A: %s, want %d (stored: %d)", r.text(), len(stream), len(stored))
	}
	firstCR := bytes.IndexByte(stream, '\r')
	for _, at := range []int{0, 7, firstCR, firstCR + 1, firstCR + 2, len(stream) - 1, len(stream)} {
		d := c.pasv()
		c.cmd("REST "+strconv.Itoa(at), 350)
		c.cmd("RETR "+fNotes, 150)
		got := readAll(t, d)
		c.expect(226)
		checkBytes(t, "RETR in TYPE A from "+strconv.Itoa(at), got, stream[at:])
	}
	// past the end of the converted stream
	c.pasv()
	c.cmd("REST "+strconv.Itoa(len(stream)+1), 350)
	c.cmd("RETR "+fNotes, 554)
	// an upload may not resume in TYPE A
	w := dial(t, s.addr)
	w.login("writer", writerPass)
	w.cmd("TYPE A", 200)
	w.pasv()
	w.cmd("REST 5", 350)
	w.cmd("STOR x.txt", 504)
	c.cmd("TYPE I", 200)
	if r := c.cmd("SIZE "+fNotes, 213); r.text() != strconv.Itoa(len(stored)) {
		t.Errorf("SIZE in TYPE I: %s, want %d", r.text(), len(stored))
	}
}

func TestRawMLST(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	check := func(arg, typ, size, path string) {
		t.Helper()
		r := c.cmd(strings.TrimSpace("MLST "+arg), 250)
		if len(r.lines) != 3 {
			t.Errorf("MLST %s: want 3 lines, got %q", arg, r)
			return
		}
		entry := r.lines[1]
		if !strings.HasPrefix(entry, " ") {
			t.Errorf("MLST %s: entry line %q does not start with a space", arg, entry)
		}
		facts, name, ok := strings.Cut(entry[1:], " ")
		if !ok || name != path {
			t.Errorf("MLST %s: entry %q, want pathname %q", arg, entry, path)
		}
		fm := parseFacts(facts)
		if fm["type"] != typ {
			t.Errorf("MLST %s: type=%q, want %q (%q)", arg, fm["type"], typ, entry)
		}
		if size != "" && fm["size"] != size {
			t.Errorf("MLST %s: size=%q, want %s (%q)", arg, fm["size"], size, entry)
		}
		if fm["modify"] != fixtureTime.Format("20060102150405") {
			t.Errorf("MLST %s: modify=%q, want %s", arg, fm["modify"], fixtureTime.Format("20060102150405"))
		}
		if _, ok := fm["perm"]; !ok {
			t.Errorf("MLST %s: no perm fact (%q)", arg, entry)
		}
	}
	check(fMedium, "file", strconv.Itoa(len(fixtureFiles[fMedium])), "/"+fMedium)
	check(fSpaces, "file", strconv.Itoa(len(fixtureFiles[fSpaces])), "/"+fSpaces)
	check("sub", "dir", "", "/sub")
	c.cmd("CWD sub", 250)
	check("", "dir", "", "/sub")
	check("inner/deep/leaf.txt", "file", strconv.Itoa(len(fixtureFiles[fDeep])), "/"+fDeep)
	c.cmd("MLST nonexistent", 550)
}

// parseFacts splits "type=file;size=1;" into a map with lower-case names.
func parseFacts(s string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(f, "="); ok {
			m[strings.ToLower(k)] = v
		}
	}
	return m
}

func TestRawUnknownCommandsAndOrder(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.cmd("XYZZY", 500)
	c.cmd("FROB now", 500)
	// commands that need a login
	for _, cmd := range []string{"PWD", "CWD /", "LIST", "RETR " + fHello, "STOR x", "PASV", "EPSV", "SIZE " + fHello, "MLST", "DELE x", "MKD x"} {
		c.cmd(cmd, 530)
	}
	c.cmd("PASS x", 503) // PASS without USER
	c.login("anonymous", "x")
	c.cmd("XYZZY", 500)
	c.cmd("RNTO x", 550) // anonymous may not rename at all
	c.cmd("CWD", 501)
	c.cmd("RETR", 501)
	c.cmd("noop", 200) // verbs are case-insensitive
}

func TestRawOverlongLine(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.write([]byte("NOOP " + strings.Repeat("x", 5000) + "\r\n"))
	c.expect(500)
	c.cmd("NOOP", 200)
	c.cmd("PWD", 257)
	// an overlong line sent in pieces is one line too
	for i := 0; i < 10; i++ {
		c.write([]byte(strings.Repeat("y", 600)))
		time.Sleep(5 * time.Millisecond)
	}
	c.write([]byte("\r\nSYST\r\n"))
	c.expect(500)
	c.expect(215)
}

func TestRawPipelined(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.write([]byte("USER anonymous\r\nPASS x\r\nNOOP\r\nPWD\r\nSYST\r\n"))
	for _, code := range []int{331, 230, 200, 257, 215} {
		c.expect(code)
	}
	// worker-bound commands (stat) in between keep the order too
	c.write([]byte("SIZE " + fHello + "\r\nNOOP\r\nMDTM " + fOne + "\r\nCWD sub\r\nPWD\r\nSIZE nonexistent\r\nSYST\r\n"))
	for _, code := range []int{213, 200, 213, 250, 257, 550, 215} {
		c.expect(code)
	}
	// bare LF line endings are accepted
	c.write([]byte("NOOP\nPWD\n"))
	c.expect(200)
	if r := c.expect(257); !strings.HasPrefix(r.text(), `"/sub" `) {
		t.Errorf("PWD: %q", r)
	}
}

func TestRawQUIT(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("QUIT", 221)
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := c.r.ReadByte(); err != io.EOF {
		t.Errorf("after 221 the server should close: read %q, %v", b, err)
	}
	// QUIT before login too
	c2 := dial(t, s.addr)
	c2.cmd("QUIT", 221)
	c2.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := c2.r.ReadByte(); err != io.EOF {
		t.Errorf("after 221 the server should close: read %q, %v", b, err)
	}
}

func TestRawPORTRefused(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	for _, cmd := range []string{
		"PORT 10,0,0,1,4,1",      // another host
		"PORT 127,0,0,2,4,1",     // another loopback address
		"PORT 127,0,0,1,0,25",    // a privileged port
		"PORT 127,0,0,1,3,255",   // 1023
		"EPRT |1|10.0.0.1|5000|", // another host
		"EPRT |1|127.0.0.1|21|",  // a privileged port
	} {
		c.cmd(cmd, 501)
	}
	c.cmd("PORT 1,2,3", 501)
	c.cmd("PORT 127,0,0,1,300,1", 501)
	c.cmd("EPRT |3|127.0.0.1|5000|", 522)
	// a legitimate PORT to our own listener works
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	c.cmd(fmt.Sprintf("PORT 127,0,0,1,%d,%d", port/256, port%256), 200)
	c.cmd("TYPE I", 200)
	c.send("RETR " + fSmall)
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	d, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept active data connection: %v", err)
	}
	c.expect(150)
	checkBytes(t, "RETR over PORT", readAll(t, d), fixtureFiles[fSmall])
	c.expect(226)
	// and EPRT too
	c.cmd(fmt.Sprintf("EPRT |1|127.0.0.1|%d|", port), 200)
	c.send("RETR " + fOne)
	d, err = ln.Accept()
	if err != nil {
		t.Fatalf("accept active data connection: %v", err)
	}
	c.expect(150)
	checkBytes(t, "RETR over EPRT", readAll(t, d), fixtureFiles[fOne])
	c.expect(226)
}

func TestRawPassiveRETRByHand(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	for _, name := range []string{fHello, fEmpty, fOne, fSmall, fMedium, fBig, fSpaces} {
		checkBytes(t, "PASV RETR "+name, c.retr(name), fixtureFiles[name])
	}
	// EPSV, and REST before RETR
	d := c.epsv()
	c.cmd("REST 1000", 350)
	c.cmd("RETR "+fMedium, 150)
	checkBytes(t, "EPSV REST 1000 RETR", readAll(t, d), fixtureFiles[fMedium][1000:])
	c.expect(226)
	// RETR of a missing file and of a folder
	d = c.pasv()
	c.cmd("RETR nonexistent", 550)
	d.Close()
	d = c.pasv()
	c.cmd("RETR sub", 550)
	d.Close()
	// RETR without PASV/PORT first
	c.send("RETR " + fHello)
	if r := c.read(); r.code != 425 && r.code != 503 {
		t.Errorf("RETR with no data endpoint: got %q, want 425 or 503", r)
	}
	// LIST and NLST by hand
	d = c.pasv()
	c.cmd("NLST", 150)
	names := strings.Split(strings.TrimSuffix(string(readAll(t, d)), "\r\n"), "\r\n")
	c.expect(226)
	for _, want := range []string{fHello, fBig, "sub"} {
		if !contains(names, want) {
			t.Errorf("NLST lacks %q: %q", want, names)
		}
	}
	d = c.pasv()
	c.cmd("LIST sub", 150)
	list := string(readAll(t, d))
	c.expect(226)
	if !strings.Contains(list, "file with spaces.txt\r\n") || !strings.Contains(list, " inner\r\n") {
		t.Errorf("LIST sub:\n%s", list)
	}
	d = c.pasv()
	c.cmd("MLSD sub", 150)
	mlsd := string(readAll(t, d))
	c.expect(226)
	if !strings.Contains(mlsd, "type=dir;") || !strings.Contains(mlsd, "; file with spaces.txt\r\n") {
		t.Errorf("MLSD sub:\n%s", mlsd)
	}
}

func TestRawSTORByHand(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	c.cmd("TYPE I", 200)
	data := randomBytes(11, 3<<20+17)
	d := c.epsv()
	c.cmd("STOR up.bin", 150)
	writeAllClose(t, d, data)
	c.expect(226)
	checkFile(t, s.writer+"/up.bin", data)
	// REST + STOR rewrites from the offset
	d = c.pasv()
	c.cmd("REST 100", 350)
	c.cmd("STOR up.bin", 150)
	writeAllClose(t, d, []byte("PATCH"))
	c.expect(226)
	want := append(append([]byte{}, data[:100]...), []byte("PATCH")...)
	if got := getFile(t, s.writer+"/up.bin"); !bytes.Equal(got, want) && !bytes.Equal(got, append(append([]byte{}, want...), data[105:]...)) {
		t.Errorf("REST 100 STOR: got %d bytes (%s)", len(got), sha(got))
	}
	// APPE
	putFile(t, s.writer+"/log.txt", "one\n")
	d = c.pasv()
	c.cmd("APPE log.txt", 150)
	writeAllClose(t, d, []byte("two\n"))
	c.expect(226)
	checkFile(t, s.writer+"/log.txt", []byte("one\ntwo\n"))
	// TYPE A: CRLF on the wire becomes LF on disk
	c.cmd("TYPE A", 200)
	d = c.pasv()
	c.cmd("STOR text.txt", 150)
	writeAllClose(t, d, []byte("a\r\nb\r\n"))
	c.expect(226)
	checkFile(t, s.writer+"/text.txt", []byte("a\nb\n"))
	c.cmd("TYPE I", 200)
	// STOU makes a new file whose name is in the reply
	d = c.pasv()
	r := c.cmd("STOU", 150)
	writeAllClose(t, d, []byte("unique"))
	c.expect(226)
	if name, ok := strings.CutPrefix(r.text(), "FILE: "); !ok {
		t.Errorf("STOU: got %q, want 150 FILE: name (RFC 1123 4.1.2.9)", r)
	} else {
		checkFile(t, s.writer+"/"+name, []byte("unique"))
	}
	// the reader account may not write
	c2 := dial(t, s.addr)
	c2.login("reader", readerPass)
	c2.pasv()
	c2.cmd("STOR x", 550)
}

func TestRawABORWithTelnetIP(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	// ABOR with nothing in flight
	c.send("ABOR")
	if r := c.read(); r.code != 225 && r.code != 226 {
		t.Errorf("ABOR with no transfer: got %q, want 225 or 226", r)
	}
	// RETR the 20 MiB file without reading it, then IAC IP IAC DM ABOR
	d := c.pasv()
	c.cmd("RETR "+fBig, 150)
	buf := make([]byte, 64<<10)
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(d, buf); err != nil {
		t.Fatalf("read first data: %v", err)
	}
	c.write([]byte("\xff\xf4\xff\xf2ABOR\r\n"))
	r := c.read()
	switch r.code {
	case 426:
		c.expect(226)
	case 226: // the transfer finished first
	default:
		t.Fatalf("ABOR during RETR: got %q, want 426 then 226", r)
	}
	d.Close()
	// the session goes on
	c.cmd("NOOP", 200)
	checkBytes(t, "RETR after ABOR", c.retr(fSmall), fixtureFiles[fSmall])
	// IAC sequences inside a line are stripped
	c.write([]byte("NO\xff\xf1OP\r\n"))
	c.expect(200)
}

func TestRawSTATDuringTransfer(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	d := c.pasv()
	c.cmd("RETR "+fBig, 150)
	c.send("STAT")
	r := c.read()
	if r.code != 211 && r.code != 213 {
		t.Errorf("STAT during RETR: got %q, want 211 or 213", r)
	}
	b := readAll(t, d)
	c.expect(226)
	checkBytes(t, "RETR with STAT", b, fixtureFiles[fBig])
	c.cmd("STAT", 211)
	r = c.cmd("STAT sub", 213)
	if !strings.Contains(r.String(), "inner") {
		t.Errorf("STAT sub: %q", r)
	}
}

func TestRawRenameDeleteMkdir(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	putFile(t, s.writer+"/a.txt", "A")
	c.cmd("RNFR a.txt", 350)
	c.cmd("RNTO b.txt", 250)
	checkFile(t, s.writer+"/b.txt", []byte("A"))
	c.cmd("RNFR missing", 550)
	c.cmd("MKD d", 257)
	c.cmd("MKD d", 550)
	c.cmd("RNFR b.txt", 350)
	c.cmd("RNTO d/c.txt", 250)
	checkFile(t, s.writer+"/d/c.txt", []byte("A"))
	c.cmd("RMD d", 550) // not empty
	c.cmd("DELE d/c.txt", 250)
	c.cmd("DELE d/c.txt", 550)
	c.cmd("DELE d", 550) // a folder
	c.cmd("RMD d", 250)
	c.cmd("RNFR ../../etc/passwd", 550)
	c.cmd("MKD ../../escape", 257) // clamped to the root: /escape
	if _, err := readDirNames(s.writer + "/escape"); err != nil {
		t.Errorf("MKD ../../escape did not make /escape in the root: %v", err)
	}
}

// ---------------------------------------------------------------------------
// small helpers shared by the end-to-end tests

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeAllClose(t testing.TB, d net.Conn, data []byte) {
	t.Helper()
	d.SetWriteDeadline(time.Now().Add(clientTimeout))
	if _, err := d.Write(data); err != nil {
		t.Fatalf("write data: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("close data: %v", err)
	}
}

func TestRawSITEAndMFMT(t *testing.T) {
	s := startStd(t)
	putFile(t, s.writer+"/f", "x")
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	c.cmd("SITE CHMOD 600 f", 200)
	if fi, err := os.Stat(s.writer + "/f"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("after SITE CHMOD 600: %v, %v", fi.Mode(), err)
	}
	c.cmd("SITE CHMOD 999 f", 501)
	c.cmd("SITE CHMOD 644 missing", 550)
	c.cmd("SITE HELP", 214)
	c.cmd("SITE FROB", 504)
	r := c.cmd("MFMT 20200102030405 f", 213)
	if !strings.HasPrefix(r.text(), "Modify=20200102030405;") {
		t.Errorf("MFMT: %q", r)
	}
	if fi, err := os.Stat(s.writer + "/f"); err != nil || !fi.ModTime().Equal(time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("mtime after MFMT: %v, %v", fi.ModTime(), err)
	}
	c.cmd("MDTM f", 213)
	c.cmd("MFMT 2020 f", 501)
	c.cmd("HELP", 214)
	c.cmd("ALLO 100", 202)
	// anonymous may do neither
	c2 := dial(t, s.addr)
	c2.login("anonymous", "x")
	c2.cmd("SITE CHMOD 777 "+fHello, 550)
	c2.cmd("MFMT 20200102030405 "+fHello, 550)
}

func TestRawLISTOptionsAndHiddenFiles(t *testing.T) {
	s := startStd(t)
	putFile(t, s.writer+"/.hidden", "h")
	putFile(t, s.writer+"/visible", "v")
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	list := func(cmd string) string {
		t.Helper()
		d := c.epsv()
		c.cmd(cmd, 150)
		b := readAll(t, d)
		c.expect(226)
		return string(b)
	}
	for _, cmd := range []string{"LIST -a", "LIST -la", "LIST -al /", "NLST -a", "MLSD"} {
		if l := list(cmd); !strings.Contains(l, " .hidden\r\n") && !strings.HasPrefix(l, ".hidden\r\n") && !strings.Contains(l, "\r\n.hidden\r\n") {
			t.Errorf("%s does not show .hidden:\n%s", cmd, l)
		}
	}
	for _, cmd := range []string{"LIST", "LIST -l", "NLST"} {
		l := list(cmd)
		if strings.Contains(l, ".hidden") {
			t.Errorf("%s shows .hidden:\n%s", cmd, l)
		}
		if !strings.Contains(l, "visible") {
			t.Errorf("%s does not show visible:\n%s", cmd, l)
		}
	}
	// LIST of one file lists that file
	if l := list("LIST visible"); !strings.HasSuffix(l, " visible\r\n") || strings.Count(l, "\r\n") != 1 {
		t.Errorf("LIST visible:\n%s", l)
	}
	// every LIST line has the ls -l shape clients parse
	lsLine := regexp.MustCompile(`^[-dl][-rwxsStT]{9} +\d+ +\S+ +\S+ +\d+ +[A-Z][a-z]{2} [ 0-9]\d +(\d\d:\d\d|\d{4}) .+$`)
	for _, l := range strings.Split(strings.TrimSuffix(list("LIST -a"), "\r\n"), "\r\n") {
		if !lsLine.MatchString(l) {
			t.Errorf("LIST line %q is not in ls -l form", l)
		}
	}
	c.cmd("CWD /", 250)
	c2 := dial(t, s.addr)
	c2.login("anonymous", "x")
	d := c2.pasv()
	c2.cmd("LIST /", 150)
	root := string(readAll(t, d))
	c2.expect(226)
	for _, l := range strings.Split(strings.TrimSuffix(root, "\r\n"), "\r\n") {
		if !lsLine.MatchString(l) {
			t.Errorf("LIST / line %q is not in ls -l form", l)
		}
		if strings.HasSuffix(l, " "+fMedium) && !strings.Contains(l, fmt.Sprintf(" %d Jan ", len(fixtureFiles[fMedium]))) {
			t.Errorf("LIST / line %q: want size %d and date Jan 2 2024", l, len(fixtureFiles[fMedium]))
		}
	}
}

func TestRawPassiveEndpoints(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	// a second PASV replaces the first listener: a connection made to the
	// first one is closed without data (the listener may be reused, so the
	// port may even be the same), and the transfer uses the second
	r := c.cmd("PASV", 227)
	m := regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`).FindStringSubmatch(r.text())
	p1, _ := strconv.Atoi(m[5])
	p2, _ := strconv.Atoi(m[6])
	early, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p1*256+p2), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()
	d := c.pasv()
	_ = early.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := early.Read(make([]byte, 1)); n != 0 || err == nil || os.IsTimeout(err) {
		t.Errorf("a connection to the first PASV listener read %d bytes, %v after a second PASV; want it closed", n, err)
	}
	c.cmd("RETR "+fOne, 150)
	checkBytes(t, "RETR on the second PASV", readAll(t, d), fixtureFiles[fOne])
	c.expect(226)
	// a passive endpoint serves one transfer only
	c.send("RETR " + fOne)
	if r := c.read(); r.code != 425 && r.code != 503 {
		t.Errorf("second RETR on a used endpoint: got %q, want 425 or 503", r)
	}
	// EPSV ALL: from now on only EPSV
	c.cmd("EPSV ALL", 200)
	c.cmd("PASV", 501)
	c.cmd("PORT 127,0,0,1,100,100", 501)
	c.cmd("EPRT |1|127.0.0.1|25700|", 501)
	c.cmd("EPSV 2", 522)
	r = c.cmd("EPSV 1", 229)
	port := regexp.MustCompile(`\|\|\|(\d+)\|`).FindStringSubmatch(r.text())[1]
	d = c.dialData("127.0.0.1:" + port)
	c.cmd("RETR "+fSmall, 150)
	checkBytes(t, "RETR after EPSV ALL", readAll(t, d), fixtureFiles[fSmall])
	c.expect(226)
}

func TestRawActiveConnectFails(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nobody listens there any more
	c.cmd(fmt.Sprintf("EPRT |1|127.0.0.1|%d|", port), 200)
	c.send("RETR " + fHello)
	r := c.read()
	if r.code == 150 {
		r = c.read()
	}
	if r.code != 425 {
		t.Errorf("RETR to a closed active port: got %q, want 425", r)
	}
	c.cmd("NOOP", 200)
}

func TestRawClientDropsDataConnection(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	d := c.pasv()
	c.cmd("RETR "+fBig, 150)
	buf := make([]byte, 64<<10)
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(d, buf); err != nil {
		t.Fatal(err)
	}
	d.(*net.TCPConn).SetLinger(0) // reset, as a client killed mid-transfer does
	d.Close()
	r := c.read()
	if r.code != 426 && r.code != 451 {
		t.Errorf("RETR whose data connection was reset: got %q, want 426 (or 451)", r)
	}
	c.cmd("NOOP", 200)
	checkBytes(t, "RETR after a dropped transfer", c.retr(fSmall), fixtureFiles[fSmall])

	// a client that vanishes mid-transfer (control and data) leaves nothing behind:
	// the server still exits promptly at the end of the test
	c2 := dial(t, s.addr)
	c2.login("anonymous", "x")
	c2.cmd("TYPE I", 200)
	d2 := c2.pasv()
	c2.cmd("RETR "+fBig, 150)
	d2.(*net.TCPConn).SetLinger(0)
	d2.Close()
	c2.conn.Close()
	time.Sleep(200 * time.Millisecond)
	c3 := dial(t, s.addr)
	c3.login("anonymous", "x")
	c3.cmd("STAT", 211)
}

func TestRawManySessions(t *testing.T) {
	s := startStd(t)
	const n = 300
	conns := make([]*ctrl, 0, n)
	for i := 0; i < n; i++ {
		c := dial(t, s.addr)
		c.write([]byte("USER anonymous\r\nPASS x\r\nTYPE I\r\n")) // SIZE counts stored bytes in TYPE I
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.expect(331)
		c.expect(230)
		c.expect(200)
	}
	for i, c := range conns {
		c.send(fmt.Sprintf("SIZE %s", []string{fHello, fMedium, fBig}[i%3]))
	}
	for i, c := range conns {
		r := c.expect(213)
		if want := strconv.Itoa(len(fixtureFiles[[]string{fHello, fMedium, fBig}[i%3]])); r.text() != want {
			t.Errorf("session %d SIZE: %q, want %s", i, r, want)
		}
	}
	for _, c := range conns {
		c.send("QUIT")
	}
	for _, c := range conns {
		c.expect(221)
	}
}

func TestRawASCIIConversionAcrossBuffers(t *testing.T) {
	s := startStd(t)
	// a 3 MiB text with lines of every length, so line ends fall on every
	// buffer boundary; a lone CR must pass through untouched
	var b bytes.Buffer
	for i := 0; b.Len() < 3<<20; i++ {
		b.WriteString(strings.Repeat("t", i%300))
		if i%97 == 0 {
			b.WriteString("\rcr")
		}
		b.WriteByte('\n')
	}
	lf := b.Bytes()
	crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
	putFile(t, s.writer+"/text.txt", string(lf))
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	c.cmd("TYPE A", 200)
	checkBytes(t, "TYPE A RETR of 3 MiB", c.retr("text.txt"), crlf)

	// upload in writes of odd sizes, so that CR and LF arrive apart
	d := c.pasv()
	c.cmd("STOR up.txt", 150)
	d.SetWriteDeadline(time.Now().Add(clientTimeout))
	for off, i := 0, 0; off < len(crlf); i++ {
		n := min(1+(i*7919)%65521, len(crlf)-off)
		if _, err := d.Write(crlf[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
		if i%50 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	d.Close()
	c.expect(226)
	checkFile(t, s.writer+"/up.txt", lf)

	// a CR as the very last byte of a write, then its LF after a pause
	d = c.pasv()
	c.cmd("STOR split.txt", 150)
	d.Write([]byte("a\r"))
	time.Sleep(100 * time.Millisecond)
	d.Write([]byte("\nb\r"))
	time.Sleep(100 * time.Millisecond)
	d.Write([]byte("c\r\n"))
	d.Close()
	c.expect(226)
	checkFile(t, s.writer+"/split.txt", []byte("a\nb\rc\n"))

	// a CR at the very end of the upload is kept
	d = c.pasv()
	c.cmd("STOR end.txt", 150)
	writeAllClose(t, d, []byte("end\r"))
	c.expect(226)
	checkFile(t, s.writer+"/end.txt", []byte("end\r"))
}
