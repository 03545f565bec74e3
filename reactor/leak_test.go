package reactor

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rftpd/rftpd/dtp"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

// TestVanishingClientsLeakNothing: sessions that connect, log in, start a
// download or an upload and vanish (or just connect and vanish) leave no
// descriptor, goroutine, transfer or session behind.
func TestVanishingClientsLeakNothing(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	ts := startServer(t, serverOpts{writer: true})
	if err := os.WriteFile(filepath.Join(ts.root, "big.bin"), make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	// Warm up pools and buffers, then take the baseline.
	cl := dial(t, ts.addr)
	cl.login()
	cl.c.Close()
	settle := func() {
		deadline := time.Now().Add(20 * time.Second)
		for (ts.srv.Sessions() > 0 || ts.dtp.Transfers() > 0) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
	}
	settle()
	// Idle passive listeners are kept for reuse (bounded); they are not
	// counted as leaks.
	fds, gs := openFDs(t)-ts.dtp.IdleListeners(), runtime.NumGoroutine()-ts.dtp.IdleTransferGoroutines()

	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		switch i % 4 {
		case 0: // connect and vanish
		case 1: // log in and vanish
			_, _ = io.WriteString(c, "USER anonymous\r\nPASS x\r\n")
		case 2: // start a download and vanish mid-transfer
			_, _ = io.WriteString(c, "USER anonymous\r\nPASS x\r\nTYPE I\r\nEPSV\r\n")
			if d := dataConn(t, c); d != nil {
				_, _ = io.WriteString(c, "RETR big.bin\r\n")
				buf := make([]byte, 1024)
				_ = d.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.ReadFull(d, buf)
				d.Close()
			}
		case 3: // start an upload and vanish (every other time refused: anonymous)
			user := "USER writer\r\nPASS pw\r\n" // a bcrypt check: kept to half of these
			if i%8 == 7 {
				user = "USER anonymous\r\nPASS x\r\n"
			}
			_, _ = io.WriteString(c, user+"TYPE I\r\nEPSV\r\n")
			if d := dataConn(t, c); d != nil {
				_, _ = io.WriteString(c, "STOR up.bin\r\n")
				_, _ = d.Write(make([]byte, 4096))
				d.Close()
			}
		}
		c.Close()
	}
	settle()
	if s := ts.srv.Sessions(); s != 0 {
		t.Errorf("%d sessions left", s)
	}
	if x := ts.dtp.Transfers(); x != 0 {
		t.Errorf("%d transfers left", x)
	}
	idle := ts.dtp.IdleListeners()
	if max := dtp.DefaultConfig().IdleListeners; idle > max {
		t.Errorf("%d idle passive listeners, more than the %d allowed", idle, max)
	}
	if got := openFDs(t) - idle; got > fds {
		t.Errorf("open descriptors %d (besides %d idle passive listeners) after %d vanished sessions, %d before", got, idle, n, fds)
	}
	warm := ts.dtp.IdleTransferGoroutines()
	if warm > 64 {
		t.Errorf("%d idle transfer goroutines, more than the 64 allowed", warm)
	}
	if got := runtime.NumGoroutine() - warm; got > gs {
		t.Errorf("goroutines %d (besides %d idle transfer goroutines) after %d vanished sessions, %d before", got, warm, n, gs)
	}
	t.Logf("%d vanished sessions: descriptors %d → %d (and %d idle passive listeners), goroutines %d → %d (and %d idle transfer goroutines)",
		n, fds, openFDs(t)-idle, idle, gs, runtime.NumGoroutine()-warm, warm)
}

// dataConn reads replies on the control connection up to the 229 and opens
// the data connection it announces; nil when the session went another way.
func dataConn(t *testing.T, c net.Conn) net.Conn {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 512)
	for !strings.Contains(string(buf), "|)") {
		m, err := c.Read(tmp)
		if err != nil {
			return nil
		}
		buf = append(buf, tmp[:m]...)
	}
	s := string(buf)
	i := strings.Index(s, "(|||")
	j := strings.Index(s[i:], "|)")
	if i < 0 || j < 0 {
		return nil
	}
	host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
	d, err := net.DialTimeout("tcp", net.JoinHostPort(host, s[i+4:i+j]), 5*time.Second)
	if err != nil {
		return nil
	}
	return d
}
