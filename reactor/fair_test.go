// Tests that a few hostile addresses cannot take sessions, passive listeners or descriptors from everyone, and that an unexpected end of the engine is reported.
package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
	gneterrors "github.com/panjf2000/gnet/v2/pkg/errors"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/dtp/fair"
)

// hostile opens sessions from 8 addresses (127.0.0.11-18), in turns, until
// each is refused; it returns the sessions that got in.
func hostile(t *testing.T, addr string) []*client {
	t.Helper()
	var in []*client
	for open := true; open; {
		open = false
		for i := range 8 {
			c := dialFrom(t, fmt.Sprintf("127.0.0.%d", 11+i), addr)
			if got := c.reply(); strings.HasPrefix(got, "220 ") {
				in = append(in, c)
				open = true
			} else if !strings.HasPrefix(got, "421 ") {
				t.Fatalf("hostile session: %q", got)
			} else {
				c.c.Close()
			}
		}
	}
	return in
}

// Eight addresses that open sessions until refused leave room for a ninth;
// one address alone may take all but the reserve.
func TestSessionsFairShare(t *testing.T) {
	ts := startServer(t, serverOpts{reactor: func(c *Config) { c.MaxSessions = 64 }})
	in := hostile(t, ts.addr)
	if len(in) >= 64 {
		t.Fatalf("8 addresses hold %d sessions of 64", len(in))
	}
	c := dialFrom(t, "127.0.0.30", ts.addr)
	if got := c.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("a 9th address beside %d hostile sessions: %q", len(in), got)
	}
	c.login()
	for _, h := range append(in, c) {
		h.c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for ts.srv.Sessions() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// Alone, an address may use 48 of the 64 (16 are the reserve).
	n := 0
	for range 64 {
		c := dialFrom(t, "127.0.0.40", ts.addr)
		if got := c.reply(); strings.HasPrefix(got, "220 ") {
			n++
		}
	}
	if n != 48 {
		t.Fatalf("one address alone got %d sessions of 64, want 48", n)
	}
}

// Eight addresses whose sessions each hold a passive listener cannot take
// the passive range from a ninth.
func TestPassiveFairShare(t *testing.T) {
	ts := startServer(t, serverOpts{reactor: func(c *Config) { c.PassiveCapacity = 64 }})
	held := 0
	for i := range 8 {
		for range 8 {
			c := dialFrom(t, fmt.Sprintf("127.0.0.%d", 11+i), ts.addr)
			c.reply()
			c.login()
			if got := c.cmd("EPSV"); strings.HasPrefix(got, "229 ") {
				held++
			} else if !strings.HasPrefix(got, "425 ") {
				t.Fatalf("EPSV: %q", got)
			}
		}
	}
	if held >= 64 {
		t.Fatalf("8 addresses hold %d passive listeners of 64", held)
	}
	c := dialFrom(t, "127.0.0.30", ts.addr)
	c.reply()
	c.login()
	c.expect("EPSV", "229 ")
	c.expect("PASV", "227 ")
}

// Sessions take their descriptors from the DTP's budget, and are refused
// with 421 before it runs out, leaving the reserves of passive listeners
// and transfers.
func TestSessionsTakeDescriptors(t *testing.T) {
	ts := startServer(t, serverOpts{
		dtp:     func(c *dtp.Config) { c.OpenFiles = 1 << 20 },
		reactor: func(c *Config) { c.MaxSessions = 1 << 20 }, // the budget is the limit
	})
	fds := ts.dtp.Descriptors()
	before := fds.Used()
	room := fds.Ceiling(fair.Session) - before
	// Take all but 5 of the sessions' descriptors for something else.
	if !fds.Take(fair.Session, netip.Addr{}, room-5) { // the server's own: no part
		t.Fatal("could not take the budget")
	}
	defer fds.Give(netip.Addr{}, room-5)
	for i := range 5 {
		c := dialFrom(t, fmt.Sprintf("127.0.0.%d", 50+i), ts.addr)
		if got := c.reply(); !strings.HasPrefix(got, "220 ") {
			t.Fatalf("session %d: %q", i, got)
		}
	}
	c := dialFrom(t, "127.0.0.60", ts.addr)
	if got := c.reply(); got != "421 Too many connections; try again later.\r\n" {
		t.Fatalf("past the budget: %q", got)
	}
	if fds.Used() != fds.Ceiling(fair.Session) {
		t.Fatalf("used %d, want the sessions' ceiling %d", fds.Used(), fds.Ceiling(fair.Session))
	}
}

// When the event loop ends without Shutdown, the next connection finds it
// gone and Serve says so, so that the process exits non-zero.
func TestServeReportsUnexpectedStop(t *testing.T) {
	ts := startServer(t, serverOpts{reactor: func(c *Config) { c.loopDeadline = 100 * time.Millisecond }})
	dial(t, ts.addr).login()
	// A task that returns this ends gnet's loop, as a failing epoll_wait would.
	if !ts.srv.executeErr(gneterrors.ErrEngineShutdown) {
		t.Fatal("could not reach the loop")
	}
	c, err := net.DialTimeout("tcp", ts.addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case err := <-ts.done:
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("Serve returned %v, want ErrStopped", err)
		}
		ts.done <- nil // for the clean-up's Shutdown
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the engine stopped")
	}
	if c, err := net.DialTimeout("tcp", ts.addr, time.Second); err == nil {
		c.Close()
		t.Error("the port still accepts connections after the engine ended")
	}
}

// executeErr runs a task on the loop that returns err.
func (s *Server) executeErr(err error) bool {
	l, _ := s.loop.Load().(gnet.EventLoop)
	return l != nil && l.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error { return err })) == nil
}
