// End-to-end tests of the server's own behaviour: shutdown, timeouts, limits, data-connection checks, roots, concurrency.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// configFile writes a TOML config file and returns the -config arguments.
func configFile(t *testing.T, body string) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rftpd.toml")
	putFile(t, p, body)
	return []string{"-config", p}
}

// expectClosed fails unless the server closes c within d, with nothing more to read.
func expectClosed(t *testing.T, c *ctrl, d time.Duration) {
	t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(d))
	rest, err := io.ReadAll(c.r)
	if len(rest) > 0 {
		fmt.Fprintf(&c.log, "S: %q\n", rest)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the server did not close the control connection within %v (read %q)", d, rest)
	} else if len(rest) > 0 {
		t.Errorf("after the last reply the server sent %q", rest)
	}
}

func TestShutdownIdleSessions(t *testing.T) {
	tree := fixtureTree(t)
	p := startProc(t, "-anonymous", tree)
	a := dial(t, p.addr)
	a.login("anonymous", "x")
	b := dial(t, p.addr) // not logged in
	if err := p.signal(); err != nil {
		t.Fatal(err)
	}
	a.expect(421)
	expectClosed(t, a, 10*time.Second)
	b.expect(421)
	expectClosed(t, b, 10*time.Second)
	if err := p.wait(stopTimeout); err != nil {
		t.Error(err)
	}
}

func TestShutdownLetsTransferFinish(t *testing.T) {
	p := startProc(t, "-anonymous", fixtureTree(t))
	c := dial(t, p.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	d := c.pasv()
	c.cmd("RETR "+fBig, 150)
	head := make([]byte, 1<<20)
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(d, head); err != nil {
		t.Fatalf("first MiB: %v", err)
	}
	if err := p.signal(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	// new connections are turned away while the transfer drains
	if conn, err := net.DialTimeout("tcp", p.addr, 2*time.Second); err == nil {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		l, _ := io.ReadAll(conn)
		conn.Close()
		if len(l) > 0 && !bytes.HasPrefix(l, []byte("421")) {
			t.Errorf("a connection during shutdown got %q, want 421 or nothing", l)
		}
	}
	rest := readAll(t, d)
	checkBytes(t, "RETR across SIGTERM", append(head, rest...), fixtureFiles[fBig])
	c.expect(226)
	c.expect(421)
	expectClosed(t, c, 10*time.Second)
	if err := p.wait(stopTimeout); err != nil {
		t.Error(err)
	}
}

func TestShutdownGraceExpires(t *testing.T) {
	args := append(configFile(t, "[timeouts]\nshutdown = \"1s\"\n"), "-anonymous", fixtureTree(t))
	p := startProc(t, args...)
	c := dial(t, p.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	d := c.pasv()
	c.cmd("RETR "+fBig, 150) // never read: the transfer stalls
	start := time.Now()
	if err := p.signal(); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(10 * time.Second); err != nil {
		t.Error(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("rftpd exited after %v, before the 1s grace", el)
	}
	d.Close()
}

func TestTimeouts(t *testing.T) {
	args := append(configFile(t, "[timeouts]\nlogin = \"1s\"\nidle = \"1500ms\"\ndata = \"1s\"\n"), "-anonymous", fixtureTree(t))
	addr := startServer(t, args...)

	t.Run("login", func(t *testing.T) {
		c := dial(t, addr)
		c.cmd("USER anonymous", 331)
		start := time.Now()
		c.expect(421)
		expectClosed(t, c, 5*time.Second)
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("login timeout after %v", el)
		}
	})
	t.Run("idle", func(t *testing.T) {
		// NOOPs keep the session open past the idle timeout; then it gets
		// 421 and is closed, no sooner than the timeout after the last one.
		const idle = 1500 * time.Millisecond // timeouts.idle above
		var c *ctrl
		var last time.Time // when the last command was sent
		for try := 1; c == nil; try++ {
			c, last = keepAlive(t, addr, idle)
			if c == nil && try == 3 {
				t.Fatalf("three sessions timed out while the test sent NOOPs every %v: a machine this slow cannot run the test", idle/6)
			}
		}
		c.expect(421)
		if d := time.Since(last); d < idle {
			t.Errorf("421 %v after the last command, before the %v idle timeout", d, idle)
		}
		expectClosed(t, c, 5*time.Second)
	})
	t.Run("data", func(t *testing.T) {
		c := dial(t, addr)
		c.login("anonymous", "x")
		c.cmd("PASV", 227) // and never connect
		c.send("RETR " + fHello)
		r := c.read()
		if r.code == 150 {
			r = c.read()
		}
		if r.code != 425 {
			t.Errorf("RETR with no data connection: got %q, want 425", r)
		}
		c.cmd("NOOP", 200)
	})
	t.Run("slow transfer outlives idle", func(t *testing.T) {
		c := dial(t, addr)
		c.login("anonymous", "x")
		c.cmd("TYPE I", 200)
		d := c.pasv()
		d.(*net.TCPConn).SetReadBuffer(64 << 10)
		c.cmd("RETR "+fBig, 150)
		// The NOOP waits behind the transfer and is answered right after
		// its 226, before the idle timer (which the 226 restarts) can run
		// out, however long the client then takes to read the last bytes:
		// the server sends the 226 once the kernel has them, and its send
		// buffer may hold 4 MiB.
		c.send("NOOP")
		// About 4 MiB/s for the first 16 MiB: some 4 s, far past the idle
		// timeout, with the server still sending, since it cannot have
		// handed the kernel the last byte before the client has read nearly
		// 16 MiB (20 MiB less its send buffer and our receive buffer).
		var got []byte
		buf := make([]byte, 256<<10)
		d.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			n, err := io.ReadFull(d, buf)
			got = append(got, buf[:n]...)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(got) < 16<<20 {
				time.Sleep(60 * time.Millisecond)
			}
		}
		checkBytes(t, "slow RETR", got, fixtureFiles[fBig])
		c.expect(226)
		c.expect(200)
	})
}

// keepAlive logs in at addr and sends a NOOP every idle/6 until one sent
// more than idle after the login has been answered: the idle timer restarts
// with every command. It returns the session and when it sent that NOOP.
//
// A 421 is due no sooner than idle after the command before it was sent. One
// that comes sooner fails the test; one that does not means the test itself
// was held up (a busy machine) and proves nothing: keepAlive then returns
// nil, for the caller to try again.
func keepAlive(t *testing.T, addr string, idle time.Duration) (*ctrl, time.Time) {
	t.Helper()
	c := dial(t, addr)
	last := time.Now()
	c.login("anonymous", "x")
	loggedIn := time.Now()
	for {
		time.Sleep(idle / 6)
		at := time.Now()
		c.send("NOOP")
		r := c.read()
		if r.code == 421 {
			if d := time.Since(last); d < idle {
				t.Fatalf("421 %v after the last command, before the %v idle timeout", d, idle)
			}
			t.Logf("the test was held up for more than the idle timeout; again")
			c.conn.Close()
			return nil, time.Time{}
		}
		if r.code != 200 {
			t.Fatalf("NOOP: got %q", r)
		}
		last = at
		if at.Sub(loggedIn) > idle {
			return c, last
		}
	}
}

func TestLimitsFromConfig(t *testing.T) {
	args := append(configFile(t, "[limits]\nmax_line = 512\n"), "-anonymous", fixtureTree(t))
	addr := startServer(t, args...)
	c := dial(t, addr)
	c.login("anonymous", "x")
	c.cmd("CWD "+strings.Repeat("a/", 200), 550) // 404 bytes: under the limit
	c.cmd("CWD "+strings.Repeat("a/", 300), 500) // 604 bytes: over it
	c.cmd("NOOP", 200)
}

func TestPassivePortsAndPublicHost(t *testing.T) {
	lo, hi := freePortPair(t)
	addr := startServer(t, "-anonymous", fixtureTree(t), "-passive-ports", fmt.Sprintf("%d-%d", lo, hi))
	var conns []*ctrl
	for i := 0; i < 2; i++ {
		c := dial(t, addr)
		c.login("anonymous", "x")
		r := c.cmd("EPSV", 229)
		m := regexp.MustCompile(`\|\|\|(\d+)\|`).FindStringSubmatch(r.text())
		if m == nil {
			t.Fatalf("EPSV %q", r)
		}
		if port, _ := strconv.Atoi(m[1]); port < lo || port > hi {
			t.Errorf("EPSV port %d outside %d-%d", port, lo, hi)
		}
		conns = append(conns, c)
	}
	// the range is used up: a third session is told so and goes on
	c := dial(t, addr)
	c.login("anonymous", "x")
	c.send("PASV")
	if r := c.read(); r.code/100 != 4 {
		t.Errorf("PASV with every passive port taken: got %q, want a 4xx reply", r)
	}
	c.cmd("NOOP", 200)
	// a transfer on a range port works, and frees it
	conns[0].cmd("TYPE I", 200)
	checkBytes(t, "RETR in a port range", conns[0].retr(fSmall), fixtureFiles[fSmall])
	conns[0].cmd("QUIT", 221)
	conns[1].cmd("QUIT", 221)
	// The ports come back when the server has closed those sessions, a
	// moment after their 221: until then PASV is refused.
	var d net.Conn
	for deadline := time.Now().Add(10 * time.Second); d == nil; {
		c.send("PASV")
		switch r := c.read(); {
		case r.code == 227:
			d = c.dialPASV(r)
		case r.code/100 == 4 && time.Now().Before(deadline):
			time.Sleep(10 * time.Millisecond)
		default:
			t.Fatalf("PASV after the other sessions quit: got %q", r)
		}
	}
	c.cmd("RETR "+fOne, 150)
	checkBytes(t, "RETR after ports were freed", readAll(t, d), fixtureFiles[fOne])
	c.expect(226)

	// -public-host changes what PASV announces
	addr2 := startServer(t, "-anonymous", fixtureTree(t), "-public-host", "192.0.2.7")
	c2 := dial(t, addr2)
	c2.login("anonymous", "x")
	if r := c2.cmd("PASV", 227); !strings.Contains(r.text(), "(192,0,2,7,") {
		t.Errorf("PASV with -public-host 192.0.2.7: %q", r)
	}
}

func TestDataConnectionFromAnotherAddress(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("anonymous", "x")
	c.cmd("TYPE I", 200)
	r := c.cmd("EPSV", 229)
	port := regexp.MustCompile(`\|\|\|(\d+)\|`).FindStringSubmatch(r.text())[1]
	// an intruder from 127.0.0.2 connects first
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	bad, err := dialer.Dial("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Skipf("cannot dial from 127.0.0.2: %v", err)
	}
	defer bad.Close()
	time.Sleep(100 * time.Millisecond)
	good := c.dialData("127.0.0.1:" + port)
	c.send("RETR " + fSmall)
	got := readAll(t, good)
	r = c.read()
	if r.code == 150 {
		r = c.read()
	}
	if r.code != 226 {
		t.Errorf("RETR: got %q, want 150 then 226", r)
	}
	checkBytes(t, "RETR to the client's own address", got, fixtureFiles[fSmall])
	bad.SetReadDeadline(time.Now().Add(5 * time.Second))
	if leaked, _ := io.ReadAll(bad); len(leaked) > 0 {
		t.Errorf("the data connection from 127.0.0.2 received %d bytes", len(leaked))
	}
}

func TestRootConfinement(t *testing.T) {
	s := startStd(t)
	putFile(t, filepath.Join(s.writer, "real.txt"), "real\n")
	for name, target := range map[string]string{"etc": "/etc", "passwd": "/etc/passwd", "up": "..", "inside": "real.txt"} {
		if err := os.Symlink(target, filepath.Join(s.writer, name)); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	c.cmd("TYPE I", 200)
	c.cmd("CWD etc", 550)
	c.cmd("CWD up", 550)
	c.cmd("SIZE passwd", 550)
	c.cmd("SIZE /../../../etc/passwd", 550)
	c.cmd("MLST up", 550)
	d := c.pasv()
	c.cmd("RETR passwd", 550)
	d.Close()
	d = c.pasv()
	c.cmd("STOR etc/evil", 550)
	d.Close()
	d = c.pasv()
	c.send("LIST etc")
	if r := c.read(); r.code == 150 {
		listing := readAll(t, d)
		c.expect(226)
		if bytes.Contains(listing, []byte("passwd")) || bytes.Contains(listing, []byte("hosts")) {
			t.Errorf("LIST etc shows /etc:\n%s", listing)
		}
	} else if r.code != 550 && r.code != 450 {
		t.Errorf("LIST etc: %q", r)
	}
	d.Close()
	c.cmd("RNFR real.txt", 350)
	c.cmd("RNTO up/escaped.txt", 550)
	c.cmd("DELE etc/hostname", 550)
	// a link inside the root works
	checkBytes(t, "RETR through an inner link", c.retr("inside"), []byte("real\n"))
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.writer), "escaped.txt")); err == nil {
		t.Errorf("RNTO escaped the root")
	}
	checkFile(t, filepath.Join(s.writer, "real.txt"), []byte("real\n"))
}

func TestUnicodeAndManyFiles(t *testing.T) {
	s := startStd(t)
	c := goftpDial(t, s.addr, "writer", writerPass)
	names := []string{"naïve café.txt", "日本語ファイル.bin", "emoji-🙂.dat", "quote'and\"double.txt", "percent%20sign", "#hash;semi.txt"}
	for i, n := range names {
		data := randomBytes(uint64(70+i), 1000+i)
		if err := c.Stor(n, bytes.NewReader(data)); err != nil {
			t.Errorf("Stor %q: %v", n, err)
			continue
		}
		checkFile(t, filepath.Join(s.writer, n), data)
		checkBytes(t, "Retr "+n, goftpRetr(t, c, n, 0), data)
	}
	if err := c.MakeDir("ünïcödé dir"); err != nil {
		t.Fatalf("MakeDir: %v", err)
	}
	if err := c.ChangeDir("ünïcödé dir"); err != nil {
		t.Fatalf("ChangeDir: %v", err)
	}
	if dir, _ := c.CurrentDir(); dir != "/ünïcödé dir" {
		t.Errorf("CurrentDir %q", dir)
	}
	// a folder of 3000 files, listed every way
	const many = 3000
	want := make([]string, many)
	for i := range want {
		want[i] = fmt.Sprintf("file-%04d-%s.txt", i, strings.Repeat("x", i%40))
		putFile(t, filepath.Join(s.writer, "ünïcödé dir", want[i]), strconv.Itoa(i))
	}
	slices.Sort(want)
	entries, err := c.List("")
	if err != nil {
		t.Fatalf("List (MLSD) of %d files: %v", many, err)
	}
	if got := entryNames(entries); !slices.Equal(got, want) {
		t.Errorf("MLSD of %d files: got %d names", many, len(got))
	}
	nl, err := c.NameList("")
	if err != nil {
		t.Fatalf("NameList: %v", err)
	}
	slices.Sort(nl)
	if !slices.Equal(nl, want) {
		t.Errorf("NLST of %d files: got %d names", many, len(nl))
	}
	c2 := goftpDial(t, s.addr, "writer", writerPass, ftp.DialWithDisabledMLSD(true))
	entries, err = c2.List("/ünïcödé dir")
	if err != nil {
		t.Fatalf("List (LIST): %v", err)
	}
	if got := entryNames(entries); !slices.Equal(got, want) {
		t.Errorf("LIST of %d files: got %d names", many, len(got))
	}
	// and the root listing shows the unicode names exactly
	entries, err = c2.List("/")
	if err != nil {
		t.Fatal(err)
	}
	got := entryNames(entries)
	for _, n := range append(names, "ünïcödé dir") {
		if !slices.Contains(got, n) {
			t.Errorf("LIST / lacks %q: %q", n, got)
		}
	}
}

func TestConcurrentClients(t *testing.T) {
	s := startStd(t)
	const readers, writers = 8, 4
	var wg sync.WaitGroup
	errs := make(chan error, readers+writers)
	for i := 0; i < readers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- func() error {
				c, err := ftp.Dial(s.addr, ftp.DialWithTimeout(clientTimeout), ftp.DialWithDisabledEPSV(i%2 == 0))
				if err != nil {
					return err
				}
				defer c.Quit()
				if err := c.Login("anonymous", "x"); err != nil {
					return err
				}
				for _, name := range []string{fBig, fMedium, fSmall} {
					r, err := c.Retr(name)
					if err != nil {
						return fmt.Errorf("reader %d Retr %s: %v", i, name, err)
					}
					b, err := io.ReadAll(r)
					r.Close()
					if err != nil {
						return fmt.Errorf("reader %d read %s: %v", i, name, err)
					}
					if !bytes.Equal(b, fixtureFiles[name]) {
						return fmt.Errorf("reader %d %s: got %d bytes (%s), want %d (%s)", i, name, len(b), sha(b), len(fixtureFiles[name]), sha(fixtureFiles[name]))
					}
				}
				return nil
			}()
		}(i)
	}
	uploads := make([][]byte, writers)
	for i := 0; i < writers; i++ {
		uploads[i] = randomBytes(uint64(90+i), 4<<20+i)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- func() error {
				c, err := ftp.Dial(s.addr, ftp.DialWithTimeout(clientTimeout))
				if err != nil {
					return err
				}
				defer c.Quit()
				if err := c.Login("writer", writerPass); err != nil {
					return err
				}
				return c.Stor(fmt.Sprintf("up-%d.bin", i), bytes.NewReader(uploads[i]))
			}()
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i, data := range uploads {
		checkFile(t, filepath.Join(s.writer, fmt.Sprintf("up-%d.bin", i)), data)
	}
}

func TestABORDuringSTORAndREIN(t *testing.T) {
	s := startStd(t)
	c := dial(t, s.addr)
	c.login("writer", writerPass)
	c.cmd("TYPE I", 200)
	d := c.pasv()
	c.cmd("STOR partial.bin", 150)
	d.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := d.Write(randomBytes(99, 1<<20)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	c.write([]byte("\xff\xf4\xff\xf2ABOR\r\n"))
	r := c.read()
	switch r.code {
	case 426:
		c.expect(226)
	case 226:
	default:
		t.Fatalf("ABOR during STOR: got %q, want 426 then 226", r)
	}
	d.Close()
	c.cmd("NOOP", 200)
	// Atomic uploads (the default): the aborted STOR leaves nothing behind.
	if _, err := os.Stat(filepath.Join(s.writer, "partial.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial.bin after ABOR: %v, want no such file", err)
	}
	// REIN logs out but keeps the connection
	c.send("REIN")
	if r := c.read(); r.code != 220 {
		t.Errorf("REIN: got %q, want 220", r)
	}
	c.cmd("PWD", 530)
	c.cmd("HOST 127.0.0.1", 220)
	c.login("reader", readerPass)
	c.cmd("MKD nope", 550) // the new identity's permissions
	c.cmd("TYPE I", 200)   // REIN reset TYPE to A
	checkBytes(t, "RETR after REIN", c.retr(fHello), fixtureFiles[fHello])
}

func TestPermissionSubsets(t *testing.T) {
	dropbox, mkdirOnly, renamer := t.TempDir(), t.TempDir(), t.TempDir()
	putFile(t, filepath.Join(dropbox, "secret.txt"), "secret")
	putFile(t, filepath.Join(renamer, "a.txt"), "a")
	putFile(t, filepath.Join(renamer, "d/b.txt"), "b")
	users := writeAccounts(t, []account{
		{name: "drop", pass: "drop-pw", root: dropbox, perms: []string{"write"}},
		{name: "mk", pass: "mk-pw", root: mkdirOnly, perms: []string{"read", "mkdir"}},
		{name: "ren", pass: "ren-pw", root: renamer, perms: []string{"read", "rename"}},
		{name: "del", pass: "del-pw", root: renamer, perms: []string{"read", "delete"}},
	})
	addr := startServer(t, "-users", users)

	// write only: an upload drop box that cannot be read back
	c := dial(t, addr)
	c.login("drop", "drop-pw")
	c.cmd("TYPE I", 200)
	d := c.pasv()
	c.cmd("STOR in.bin", 150)
	writeAllClose(t, d, []byte("dropped"))
	c.expect(226)
	checkFile(t, filepath.Join(dropbox, "in.bin"), []byte("dropped"))
	for _, cmd := range []string{"SIZE secret.txt", "MDTM secret.txt", "MLST secret.txt", "DELE secret.txt", "MKD x", "RNFR secret.txt"} {
		c.cmd(cmd, 550)
	}
	for _, cmd := range []string{"RETR secret.txt", "LIST", "NLST", "MLSD"} {
		d := c.pasv()
		c.cmd(cmd, 550)
		d.Close()
	}

	// read + mkdir
	c = dial(t, addr)
	c.login("mk", "mk-pw")
	c.cmd("MKD new", 257)
	c.cmd("RMD new", 550)
	d = c.pasv()
	c.cmd("STOR f", 550)
	d.Close()
	c.cmd("SITE CHMOD 777 new", 550)

	// read + rename, read + delete
	c = dial(t, addr)
	c.login("ren", "ren-pw")
	c.cmd("RNFR a.txt", 350)
	c.cmd("RNTO d/a.txt", 250)
	c.cmd("DELE d/a.txt", 550)
	c.cmd("MKD x", 550)
	c = dial(t, addr)
	c.login("del", "del-pw")
	c.cmd("DELE d/a.txt", 250)
	c.cmd("RNFR d/b.txt", 550)
	c.cmd("DELE d/b.txt", 250)
	c.cmd("RMD d", 250)
	if names, _ := readDirNames(renamer); len(names) != 0 {
		t.Errorf("renamer root holds %q", names)
	}
}

// freePortPair finds two consecutive free ports below the ephemeral range
// (32768-60999), so that no outgoing connection of a parallel test takes
// one of them between this check and the server's listen.
func freePortPair(t *testing.T) (int, int) {
	t.Helper()
	start := 20000 + int(time.Now().UnixNano()%5000)
	for p := start; p < start+2000; p += 2 {
		a, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return p, p + 1
	}
	t.Fatal("no two consecutive free ports in 20000-27000")
	return 0, 0
}

// TestSeveralListeners: the binary serves on every -listen address, says
// so, and PASV names the address each client reached.
func TestSeveralListeners(t *testing.T) {
	p := startProc(t, "-listen", "127.0.0.1:0", "-listen", "0.0.0.0:0", "-anonymous", fixtureTree(t))
	var addrs []string
	for range 100 {
		addrs = addrs[:0]
		for _, line := range strings.Split(p.lines.String(), "\n") {
			if a, ok := strings.CutPrefix(line, "rftpd: listening on ftp://"); ok {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(addrs) != 2 || !strings.HasPrefix(addrs[0], "127.0.0.1:") || !strings.HasPrefix(addrs[1], "0.0.0.0:") {
		t.Fatalf("listening lines:\n%s", p.lines.String())
	}
	_, port, _ := net.SplitHostPort(addrs[1])
	for _, addr := range []string{addrs[0], "127.0.0.9:" + port} {
		c := dial(t, addr)
		c.login("anonymous", "x")
		host, _, _ := net.SplitHostPort(addr)
		want := "227 Entering Passive Mode (" + strings.ReplaceAll(host, ".", ",") + ","
		if got := c.cmd("PASV", 227).String(); !strings.HasPrefix(got, want) {
			t.Errorf("PASV over %s: %q, want prefix %q", addr, got, want)
		}
	}
}

// TestStalledLogDoesNotStall: rftpd's stderr is a pipe nobody reads, and
// it logs a line for each of 3,000 refused connections (far more than the
// pipe holds): sessions are still served, because log lines queue (and
// drop) on a goroutine of their own instead of blocking the event loop.
func TestStalledLogDoesNotStall(t *testing.T) {
	tree := fixtureTree(t)
	cfg := filepath.Join(t.TempDir(), "rftpd.toml")
	if err := os.WriteFile(cfg, []byte("log_level = \"debug\"\n[limits]\nmax_per_ip = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // never read until the end
	cmd := exec.Command(rftpdBin, "-listen", "127.0.0.1:0", "-anonymous", tree, "-config", cfg)
	cmd.Stderr = w
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(out)
	var addr string
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "rftpd: listening on ftp://"); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("no listening line")
	}
	go io.Copy(io.Discard, out)
	held := dial(t, addr)
	held.login("anonymous", "x")
	for i := range 3000 {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		c.Close()
		if !strings.HasPrefix(string(buf[:n]), "421 ") {
			t.Fatalf("connection %d over max_per_ip: %q", i, buf[:n])
		}
	}
	held.cmd("NOOP", 200)
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	greeting, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(greeting, "220 ") {
		t.Fatalf("a new client while the log is stalled: %q, %v", greeting, err)
	}
}
