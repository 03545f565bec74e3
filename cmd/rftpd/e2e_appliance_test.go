// End-to-end replay of an embedded appliance's session: lower-case verbs and types, ALLO, STOU, LIST -al, PORT only.
package main

import (
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// activeListener is the test's end of active-mode data connections: it
// listens on 127.0.0.1 and hands out the PORT argument that names it.
type activeListener struct {
	t  testing.TB
	ln *net.TCPListener
}

func listenActive(t testing.TB) *activeListener {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &activeListener{t: t, ln: ln}
}

// portArg is the h1,h2,h3,h4,p1,p2 form of the listener's address (RFC 959 §4.1.2).
func (a *activeListener) portArg() string {
	p := a.ln.Addr().(*net.TCPAddr).Port
	return fmt.Sprintf("127,0,0,1,%d,%d", p/256, p%256)
}

// accept waits for the server's data connection and checks it comes from the loopback address.
func (a *activeListener) accept() net.Conn {
	a.t.Helper()
	a.ln.SetDeadline(time.Now().Add(clientTimeout))
	d, err := a.ln.Accept()
	if err != nil {
		a.t.Fatalf("accept the server's data connection: %v", err)
	}
	a.t.Cleanup(func() { d.Close() })
	if ip := d.RemoteAddr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		a.t.Errorf("data connection from %v, want the loopback address", ip)
	}
	return d
}

// TestApplianceReplay replays, line by line, the session of a camera or
// printer pushing a picture: everything lower case, ALLO before STOR, STOU
// for a name of the server's choosing, LIST -al, and active mode only (no
// PASV, EPSV, FEAT or MLSD). Every reply code and every byte is checked.
func TestApplianceReplay(t *testing.T) {
	s := startStd(t)
	picture := randomBytes(61, 1234)
	spool := randomBytes(62, 70001)
	ln := listenActive(t)

	c := dial(t, s.addr)
	c.cmd("user writer", 331)
	c.cmd("pass "+writerPass, 230)
	c.cmd("TYPE i", 200) // the verb upper case, its argument not, as some firmware sends it
	c.cmd("type i", 200)
	c.cmd("mode s", 200)
	c.cmd("stru f", 200)
	if r := c.cmd("syst", 215); !strings.HasPrefix(r.text(), "UNIX") {
		t.Errorf("syst: got %q, want 215 UNIX ... (clients choose their LIST parser by it)", r)
	}
	if r := c.cmd("pwd", 257); !strings.HasPrefix(r.text(), `"/"`) {
		t.Errorf("pwd: got %q, want 257 \"/\" ...", r)
	}

	// allo, then stor over PORT
	c.cmd("port "+ln.portArg(), 200)
	c.send("allo 1234")
	if r := c.read(); r.code != 200 && r.code != 202 {
		t.Fatalf("allo 1234: got %q, want 200 or 202 (RFC 959 §4.2 ALLO replies)", r)
	}
	c.cmd("stor picture.jpg", 150)
	writeAllClose(t, ln.accept(), picture)
	c.expect(226)
	checkFile(t, s.writer+"/picture.jpg", picture)

	// stou: the server picks the name and says it in the 150 reply
	c.cmd("port "+ln.portArg(), 200)
	r := c.cmd("stou", 150)
	writeAllClose(t, ln.accept(), spool)
	c.expect(226)
	unique, ok := strings.CutPrefix(r.text(), "FILE: ")
	if !ok || unique == "" || strings.ContainsAny(unique, "/ ") {
		t.Fatalf("stou: got %q, want 150 FILE: name (RFC 1123 §4.1.2.9)", r)
	}
	checkFile(t, s.writer+"/"+unique, spool)

	// list -al shows both, with their sizes, in ls -l form
	c.cmd("port "+ln.portArg(), 200)
	c.cmd("list -al", 150)
	list := string(readAll(t, ln.accept()))
	c.expect(226)
	lsLine := regexp.MustCompile(`^[-d][-rwx]{9} +\d+ +\S+ +\S+ +(\d+) +[A-Z][a-z]{2} [ 0-9]\d +(\d\d:\d\d|\d{4}) (.+)$`)
	sizes := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(list, "\r\n"), "\r\n") {
		m := lsLine.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("list -al line %q is not in ls -l form", l)
			continue
		}
		sizes[m[3]] = m[1]
	}
	for name, want := range map[string]int{"picture.jpg": len(picture), unique: len(spool)} {
		if sizes[name] != fmt.Sprint(want) {
			t.Errorf("list -al: %s has size %q, want %d\n%s", name, sizes[name], want, list)
		}
	}

	// retr over PORT brings the picture back
	c.cmd("port "+ln.portArg(), 200)
	c.cmd("retr picture.jpg", 150)
	checkBytes(t, "retr picture.jpg", readAll(t, ln.accept()), picture)
	c.expect(226)

	c.cmd("quit", 221)
	checkTree(t, s.writer, map[string][]byte{"picture.jpg": picture, unique: spool}, nil)
}

// RFC 959 §3.2, §5.2: active data connections come from the port below
// the control port (L-1, port 20 beside 21), what client-side firewalls
// that allow "from port 20" expect; active_port = -1 lets any port serve.
func TestActiveFromControlPortMinusOne(t *testing.T) {
	for _, c := range []struct {
		name  string
		extra string
		l1    bool
	}{{"default", "", true}, {"any port", "active_port = -1\n", false}} {
		t.Run(c.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "rftpd.toml")
			putFile(t, cfg, c.extra)
			s := startStd(t, "-config", cfg)
			ctl, _ := strconv.Atoi(s.port)
			conn := dial(t, s.addr)
			conn.login("anonymous", "x")
			conn.cmd("TYPE I", 200)
			for range 2 { // one after the other from the same port
				ln := listenActive(t)
				conn.cmd("PORT "+ln.portArg(), 200)
				conn.cmd("RETR "+fHello, 150)
				d := ln.accept()
				from := d.RemoteAddr().(*net.TCPAddr).Port
				checkBytes(t, "active RETR", readAll(t, d), fixtureFiles[fHello])
				conn.expect(226)
				// Another socket may hold ctl-1 (the control port was
				// picked by the kernel): rftpd then says so and uses any.
				// Its log lines reach stderr from a queue, so the line
				// may follow the 226: waitLog gives it time, and fails
				// the test if it never comes.
				if c.l1 && from != ctl-1 {
					s.proc.waitLog(t, "port="+strconv.Itoa(ctl-1)+" ")
				}
			}
		})
	}
}
