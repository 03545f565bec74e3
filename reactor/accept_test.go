// Tests of the acceptors: an accept that fails for want of descriptors pauses the listener, refuses with 421, and never ends the server.
package reactor

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAcceptEMFILE: with every descriptor of the process taken (the soft
// RLIMIT_NOFILE lowered, the rest filled), accept fails with EMFILE. The
// server gives up its reserve descriptor to refuse the waiting client with
// 421, pauses that listener, keeps serving the sessions it has, and accepts
// again once descriptors are free: Serve never returns.
func TestAcceptEMFILE(t *testing.T) {
	logs := &lockedBuffer{}
	ts := startServer(t, serverOpts{reactor: func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}})
	old := dial(t, ts.addr)
	old.login()

	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = uint64(openFDs(t) + 32)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var filler []*os.File
	release := func() {
		for _, f := range filler {
			f.Close()
		}
		filler = nil
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			t.Error(err)
		}
	}
	defer release()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, unix.EMFILE) {
				t.Fatalf("filling the descriptor table: %v", err)
			}
			break
		}
		filler = append(filler, f)
	}
	// One free descriptor, for the client's socket: the server has none
	// for its end but its reserve.
	filler[len(filler)-1].Close()
	filler = filler[:len(filler)-1]
	c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(replyWait))
	got, _ := readAll(c)
	c.Close()
	if got != "421 Too many open files; try again later.\r\n" {
		t.Errorf("a client with no descriptor left for it got %q, want the 421", got)
	}
	// The client's descriptor is free again: take it back, so that the
	// session below is served with none to spare.
	if f, err := os.Open(os.DevNull); err == nil {
		filler = append(filler, f)
	}
	old.expect("NOOP", "200 ") // existing sessions go on
	select {
	case err := <-ts.done:
		t.Fatalf("Serve returned %v", err)
	default:
	}
	if !strings.Contains(logs.String(), "accept failed; pausing the listener") {
		t.Errorf("no log line for the failed accept; logs:\n%s", logs.String())
	}

	release()
	fresh := dial(t, ts.addr)
	fresh.login()
	fresh.expect("NOOP", "200 ")
}

// readAll reads until EOF or the deadline.
func readAll(c net.Conn) (string, error) {
	var b bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String(), err
		}
	}
}

// TestWildcardListen: on a wildcard listener, PASV names the address the
// client reached (the accepted socket's own, not 0.0.0.0), and the IPv6
// wildcard serves IPv4 clients too where the system allows both.
func TestWildcardListen(t *testing.T) {
	for _, tt := range []struct {
		listen string
		dials  []string
	}{
		{"0.0.0.0:0", []string{"127.0.0.1", "127.0.0.7"}},
		{"[::]:0", []string{"127.0.0.1", "127.0.0.7", "::1"}},
	} {
		t.Run(tt.listen, func(t *testing.T) {
			if strings.HasPrefix(tt.listen, "[") {
				if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
					t.Skipf("no IPv6: %v", err)
				} else {
					ln.Close()
				}
			}
			ts := startServer(t, serverOpts{reactor: func(c *Config) { c.Listen = tt.listen }})
			_, port, _ := net.SplitHostPort(ts.addr)
			for _, host := range tt.dials {
				cl := dial(t, net.JoinHostPort(host, port))
				cl.login()
				if ip := net.ParseIP(host); ip.To4() != nil {
					want := "227 Entering Passive Mode (" + strings.ReplaceAll(host, ".", ",") + ","
					if got := cl.cmd("PASV"); !strings.HasPrefix(got, want) {
						t.Errorf("PASV over %s: %q, want prefix %q", host, got, want)
					}
				} else {
					d := cl.pasv() // EPSV, and a data connection to the same address
					d.Close()
				}
			}
		})
	}
}
