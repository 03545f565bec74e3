// The EMFILE test of the acceptors, Linux's: accept4 fails with EMFILE before it looks for a connection.
package reactor

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/dtp"
)

// TestAcceptEMFILE: with every descriptor of the process taken (the soft
// RLIMIT_NOFILE lowered, the rest filled), accept fails with EMFILE. The
// server gives up its reserve descriptor to refuse the waiting client with
// 421, pauses that listener, keeps serving the sessions it has, and accepts
// again once descriptors are free: Serve never returns.
func TestAcceptEMFILE(t *testing.T) {
	logs := &lockedBuffer{}
	ts := startServer(t, serverOpts{
		reactor: func(c *Config) {
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		},
		// Nothing in the background that opens files meanwhile.
		dtp: func(c *dtp.Config) { c.CleanStaleUploads = false },
	})
	old := dial(t, ts.addr)
	old.login()
	srvAddr := netip.MustParseAddrPort(ts.addr)

	// The client's socket is made first: connecting it takes no descriptor.
	cfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(cfd)
	tv := unix.NsecToTimeval(int64(replyWait))
	if err := unix.SetsockoptTimeval(cfd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}

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
	fill := func() {
		for {
			f, err := os.Open(os.DevNull)
			if err != nil {
				if !errors.Is(err, unix.EMFILE) {
					t.Fatalf("filling the descriptor table: %v", err)
				}
				return
			}
			filler = append(filler, f)
		}
	}
	fill()
	// Had the listener failed an accept meanwhile (accept4 fails with
	// EMFILE before it looks for a connection), the fill may have taken
	// its reserve while it was free: give it back.
	r := &ts.srv.reserve
	r.mu.Lock()
	if r.f == nil {
		filler[len(filler)-1].Close()
		filler = filler[:len(filler)-1]
		if r.f, err = os.Open(os.DevNull); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Unlock()
	if err := unix.Connect(cfd, &unix.SockaddrInet4{Port: int(srvAddr.Port()), Addr: srvAddr.Addr().As4()}); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 512)
	for {
		n, err := unix.Read(cfd, buf)
		if err == unix.EINTR {
			continue // with SO_RCVTIMEO set, signals interrupt the read
		}
		if n <= 0 || err != nil {
			break
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "421 Too many open files; try again later.\r\n" {
		t.Errorf("a client with no descriptor left for it got %q, want the 421; logs:\n%s", got, logs.String())
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

	// Descriptors free again: the next client is served (after the
	// listener's pause, at most a second).
	release()
	fresh := dialFrom(t, "127.0.0.1", ts.addr)
	if got := fresh.reply(); !strings.HasPrefix(got, "220 ") {
		var now unix.Rlimit
		_ = unix.Getrlimit(unix.RLIMIT_NOFILE, &now)
		t.Fatalf("once descriptors were free again: %q (open %d, limit %d, was %d, filler %d); logs:\n%s", got, openFDs(t), now.Cur, lim.Cur, len(filler), logs.String())
	}
	fresh.login()
	fresh.expect("NOOP", "200 ")
}
