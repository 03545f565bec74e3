package reactor

import (
	"bufio"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rftpd/rftpd/protocol"
)

func TestGuard(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSessions, cfg.MaxPerIP = 3, 2
	cfg.BanAfter, cfg.BanWindow, cfg.BanDuration = 3, time.Minute, 10*time.Minute
	g := newGuard(cfg)
	m := &meter{}
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	t0 := time.Unix(1_000_000, 0)

	if r := g.admit(a, t0, m); r != "" {
		t.Fatalf("first session refused: %q", r)
	}
	if r := g.admit(a, t0, m); r != "" {
		t.Fatalf("second session refused: %q", r)
	}
	if r := g.admit(a, t0, m); !strings.Contains(r, "from your address") {
		t.Fatalf("third session from one address: %q", r)
	}
	if r := g.admit(b, t0, m); r != "" {
		t.Fatalf("another address refused: %q", r)
	}
	if r := g.admit(b, t0, m); !strings.Contains(r, "Too many sessions;") {
		t.Fatalf("past MaxSessions: %q", r)
	}
	g.closed(a, false)
	if r := g.admit(a, t0, m); r != "" {
		t.Fatalf("after a close: %q", r)
	}
	g.closed(a, false)
	g.closed(a, false)
	g.closed(b, false)
	if n := g.sessions.Used(); n != 0 {
		t.Fatalf("%d sessions left after every close", n)
	}

	// Failures outside the window do not add up.
	g.failed(a, t0)
	g.failed(a, t0.Add(30*time.Second))
	if g.failed(a, t0.Add(2*time.Minute)) {
		t.Fatal("banned although the first failures left the window")
	}
	if g.failed(a, t0.Add(2*time.Minute+time.Second)) {
		t.Fatal("banned after two failures in the window")
	}
	t1 := t0.Add(2*time.Minute + 2*time.Second)
	if !g.failed(a, t1) {
		t.Fatal("not banned after three failures in the window")
	}
	if r := g.admit(a, t1.Add(time.Minute), m); !strings.Contains(r, "failed logins") {
		t.Fatalf("banned address admitted: %q", r)
	}
	if r := g.admit(b, t1.Add(time.Minute), m); r != "" {
		t.Fatalf("ban spilled to another address: %q", r)
	}
	if r := g.admit(a, t1.Add(10*time.Minute), m); r != "" {
		t.Fatalf("ban did not expire: %q", r)
	}
	if ban, perIP, share := m.refused[refuseBan].Load(), m.refused[refuseSessionsPerIP].Load(), g.sessions.Refused(); ban != 1 || perIP != 1 || share != 1 {
		t.Fatalf("refusals counted: ban %d, per IP %d, share %d; want 1 each", ban, perIP, share)
	}
	g.prune(t1.Add(time.Hour))
	if len(g.fails) != 0 {
		t.Fatalf("records left after prune: %d", len(g.fails))
	}

	// The failure map is bounded.
	for i := 0; i < maxTracked+100; i++ {
		g.failed(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t1)
	}
	if len(g.fails) > maxTracked {
		t.Fatalf("%d records, limit %d", len(g.fails), maxTracked)
	}
}

// dialFrom opens a control connection from the given local loopback address.
func dialFrom(t *testing.T, from, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

func TestSessionLimits(t *testing.T) {
	ts := startServer(t, serverOpts{reactor: func(c *Config) {
		c.MaxSessions, c.MaxPerIP = 3, 2
	}})
	a1, a2 := dialFrom(t, "127.0.0.1", ts.addr), dialFrom(t, "127.0.0.1", ts.addr)
	for _, c := range []*client{a1, a2} {
		if got := c.reply(); !strings.HasPrefix(got, "220 ") {
			t.Fatalf("greeting %q", got)
		}
	}
	a3 := dialFrom(t, "127.0.0.1", ts.addr)
	if got := a3.reply(); !strings.HasPrefix(got, "421 Too many sessions from your address") {
		t.Fatalf("third session from 127.0.0.1: %q", got)
	}
	b1 := dialFrom(t, "127.0.0.2", ts.addr)
	if got := b1.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("session from 127.0.0.2: %q", got)
	}
	b2 := dialFrom(t, "127.0.0.2", ts.addr)
	if got := b2.reply(); !strings.HasPrefix(got, "421 Too many sessions;") {
		t.Fatalf("fourth session: %q", got)
	}
	a1.expect("QUIT", "221 ")
	deadline := time.Now().Add(5 * time.Second)
	for ts.srv.Sessions() > 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	a4 := dialFrom(t, "127.0.0.1", ts.addr)
	if got := a4.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("after a QUIT: %q", got)
	}
}

// TestBanAfterFailedLogins: the third refused password from one address
// within the window bans it; other addresses are served. The accounts file
// has one hash of the lowest cost, which unknown users are checked at too
// (without one, the default cost: seconds for each under the race detector
// on a busy machine).
func TestBanAfterFailedLogins(t *testing.T) {
	ts := startServer(t, serverOpts{
		writer:   true,
		reactor:  func(c *Config) { c.BanAfter = 3 },
		protocol: func(c *protocol.Config) { c.LoginFailDelay = 10 * time.Millisecond },
	})
	for i := 0; i < 3; i++ {
		c := dialFrom(t, "127.0.0.1", ts.addr)
		if got := c.reply(); !strings.HasPrefix(got, "220 ") {
			t.Fatalf("session %d: %q", i, got)
		}
		c.expect("USER mallory", "331 ")
		c.expect("PASS guess", "530 ")
		c.c.Close()
	}
	banned := dialFrom(t, "127.0.0.1", ts.addr)
	if got := banned.reply(); !strings.HasPrefix(got, "421 Too many failed logins") {
		t.Fatalf("after 3 failures: %q", got)
	}
	other := dialFrom(t, "127.0.0.2", ts.addr)
	if got := other.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("another address: %q", got)
	}
	other.login()
}

// TestFailedLoginDelayDoesNotBlock: a session waiting out its refusal delay
// holds nothing up for others, and its refusal comes once the delay is over.
// The account's bcrypt hash has the lowest cost, so the check itself takes
// no time worth speaking of, even with the race detector on a busy machine.
func TestFailedLoginDelayDoesNotBlock(t *testing.T) {
	t.Run("others are served during the delay", func(t *testing.T) {
		// A loop held by the delay would read the other session's NOOPs
		// only after it had sent the 530: so the NOOPs must be answered
		// while the 530 is still to come. The delay is twice as long as
		// the test waits for any reply or loop task, so a loop held for it
		// fails the test whenever the hold begins, and a busy machine does
		// not; the test does not wait for the delay to end.
		const delay = 20 * time.Second
		ts := startServer(t, serverOpts{writer: true, protocol: func(c *protocol.Config) {
			c.LoginFailDelay = delay
			c.LoginTimeout, c.IdleTimeout = time.Hour, time.Hour
		}})
		slow, quick := dial(t, ts.addr), dial(t, ts.addr)
		slow.expect("USER writer", "331 ")
		slow.send("PASS guess")
		// Until the refusal, NOOPs keep the loop busy; then three more.
		deadline := time.Now().Add(replyWait)
		for !refusing(t, ts.srv, slow, delay) {
			if time.Now().After(deadline) {
				t.Fatalf("the password check did not answer within %v", replyWait)
			}
			quick.expect("NOOP", "200 ")
		}
		for range 3 {
			quick.expect("NOOP", "200 ")
		}
		if n := unread(t, slow); n > 0 {
			t.Fatalf("the refused session got %d bytes before the NOOPs were answered; its delay is %v", n, delay)
		}
	})
	t.Run("the refusal comes after the delay", func(t *testing.T) {
		const delay = 200 * time.Millisecond
		ts := startServer(t, serverOpts{writer: true, protocol: func(c *protocol.Config) { c.LoginFailDelay = delay }})
		c := dial(t, ts.addr)
		c.expect("USER writer", "331 ")
		start := time.Now()
		c.expect("PASS guess", "530 ")
		if d := time.Since(start); d < delay {
			t.Fatalf("refusal after %v, want at least the %v delay", d, delay)
		}
	})
}

// refusing reports whether the session of cl has had its password refused
// and waits out a refusal delay of d: its deadline is then at most d away
// (the test's login and idle timeouts are far longer). It fails the test if
// the loop does not run the check within replyWait.
func refusing(t *testing.T, s *Server, cl *client, d time.Duration) bool {
	t.Helper()
	me := cl.c.LocalAddr().String()
	ch := make(chan bool, 1)
	ok := s.execute(func() {
		for cn := range s.conns {
			if cn.c.RemoteAddr().String() == me {
				dl := cn.sess.Deadline()
				ch <- !dl.IsZero() && !dl.After(time.Now().Add(d))
				return
			}
		}
		ch <- false
	})
	if !ok {
		t.Fatal("the loop is gone")
	}
	select {
	case r := <-ch:
		return r
	case <-time.After(replyWait):
		t.Fatalf("the loop did not run a task within %v", replyWait)
		return false
	}
}

// unread returns the bytes that reached cl and are not read yet.
func unread(t *testing.T, cl *client) int {
	t.Helper()
	rc, err := cl.c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var ierr error
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), ioctlInq) }); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatalf("bytes unread (ioctl): %v", ierr)
	}
	return n + cl.r.Buffered()
}

// TestPassivePerIP: one address's sessions hold at most PassivePerIP passive
// ports, so one client cannot take the whole range; others are not affected.
func TestPassivePerIP(t *testing.T) {
	ts := startServer(t, serverOpts{reactor: func(c *Config) { c.PassivePerIP = 2 }})
	login := func(from string) *client {
		c := dialFrom(t, from, ts.addr)
		if got := c.reply(); !strings.HasPrefix(got, "220 ") {
			t.Fatalf("greeting %q", got)
		}
		c.login()
		return c
	}
	a1, a2, a3 := login("127.0.0.1"), login("127.0.0.1"), login("127.0.0.1")
	a1.expect("EPSV", "229 ")
	a1.expect("EPSV", "229 ") // a new PASV replaces the session's own listener
	a2.expect("PASV", "227 ")
	a3.expect("EPSV", "425 ")
	a3.expect("NOOP", "200 ")
	b := login("127.0.0.2")
	b.expect("EPSV", "229 ")
	a1.expect("QUIT", "221 ")
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := a3.cmd("EPSV")
		if strings.HasPrefix(got, "229 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("passive slot not given back after QUIT: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGuardNextPrune: the timer is asked to prune once the earliest record
// can go, not within a second of the last prune, and never when none is kept.
func TestGuardNextPrune(t *testing.T) {
	cfg := DefaultConfig()
	cfg.BanAfter, cfg.BanWindow, cfg.BanDuration = 2, time.Minute, 10*time.Minute
	g := newGuard(cfg)
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	t0 := time.Unix(1_000_000, 0)
	if p := g.nextPrune(); !p.IsZero() {
		t.Fatalf("nothing kept, next prune %v", p)
	}
	g.failed(a, t0)
	g.failed(b, t0.Add(10*time.Second))
	if p := g.nextPrune(); !p.Equal(t0.Add(time.Minute)) {
		t.Fatalf("next prune %v, want the end of a's window %v", p, t0.Add(time.Minute))
	}
	g.failed(a, t0.Add(20*time.Second)) // banned for 10 minutes
	g.prune(t0.Add(71 * time.Second))   // b's window is over, a's ban is not
	if _, ok := g.fails[b]; ok || len(g.fails) != 1 {
		t.Fatalf("after the prune: %v", g.fails)
	}
	if p, want := g.nextPrune(), t0.Add(20*time.Second+10*time.Minute); !p.Equal(want) {
		t.Fatalf("next prune %v, want the end of a's ban %v", p, want)
	}
	g.prune(t0.Add(time.Hour))
	if p := g.nextPrune(); !p.IsZero() || len(g.fails) != 0 {
		t.Fatalf("all records gone, next prune %v, records %v", p, g.fails)
	}
	// A record that expires at once is pruned a second after the last prune.
	last := t0.Add(time.Hour)
	g.failed(a, last.Add(-2*time.Minute))
	if p := g.nextPrune(); !p.Equal(last.Add(time.Second)) {
		t.Fatalf("next prune %v, want a second after the last one", p)
	}
}
