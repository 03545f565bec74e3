// Accepting control connections off the loop, and handing each to it.
package reactor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// The listeners are rftpd's own, not gnet's: gnet ends its engine when
// accept fails with anything but EAGAIN, EINTR or an aborted connection
// (EMFILE, ENFILE, ENOBUFS, ENOMEM, EPERM), taking every session with it. Here each
// listener has a goroutine that accepts and enrolls the connection on the
// event loop (gnet.Client.EnrollContext, which waits until OnOpen has run
// there), one at a time: a flood holds at most two descriptors per
// listener beyond the budget (the accepted socket and gnet's copy), and an
// accept error pauses that listener with a back-off instead of ending
// anything.

// acceptor is one listener and the goroutine accepting from it.
type acceptor struct {
	srv  *Server
	ln   *net.TCPListener
	addr *net.TCPAddr
	cfg  Listener

	// The watchdog: an enrollment the loop has not taken within
	// srv.loopDeadline, twice in a row, means the loop is gone.
	wd      *time.Timer
	wdMu    sync.Mutex
	waiting bool // an enrollment is in progress
	strikes int
}

// Accept back-off: doubled from minPause up to maxPause while accept
// keeps failing.
const (
	minPause = 5 * time.Millisecond
	maxPause = time.Second
)

// listen binds and listens on lc.Address: an IPv4 address on an IPv4
// socket, an IPv6 one on an IPv6-only socket, and the IPv6 wildcard ([::])
// on a socket that serves both families where the system allows.
func (s *Server) listen(lc Listener) (*acceptor, error) {
	hostport := lc.Address
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		ta, err2 := net.ResolveTCPAddr("tcp", hostport)
		if err2 != nil {
			return nil, fmt.Errorf("listen address %q: %v", hostport, err)
		}
		ap = ta.AddrPort()
	}
	network := "tcp4"
	switch a := ap.Addr(); {
	case a.Is4() || a.Is4In6():
		ap = netip.AddrPortFrom(a.Unmap(), ap.Port())
	case a.IsUnspecified():
		network = "tcp" // Go leaves IPV6_V6ONLY off: IPv4 clients come as ::ffff:a.b.c.d
	default:
		network = "tcp6"
	}
	sndbuf := s.cfg.SendBuffer
	lcfg := net.ListenConfig{
		// No keep-alive probes, as before: idle sessions end by the
		// server's own timeouts.
		KeepAlive: -1,
		Control: func(_, _ string, rc syscall.RawConn) error {
			if sndbuf <= 0 {
				return nil
			}
			// Inherited by every accepted connection: a client that
			// pipelines commands and never reads the replies pins this
			// much kernel memory, not the autotuned maximum (4 MiB by
			// default), besides MaxOutbound in the process.
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, sndbuf)
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
	l, err := lcfg.Listen(context.Background(), network, ap.String())
	if err != nil {
		return nil, err
	}
	ln := l.(*net.TCPListener)
	a := &acceptor{srv: s, ln: ln, addr: ln.Addr().(*net.TCPAddr), cfg: lc}
	a.wd = time.AfterFunc(time.Hour, a.watch)
	a.wd.Stop()
	return a, nil
}

// run accepts until the listener is closed.
func (a *acceptor) run() {
	s := a.srv
	pause := time.Duration(0)
	var failed int       // accept errors in this episode
	var logged time.Time // when the episode was last logged
	for {
		c, err := a.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			failed++
			if pause == 0 {
				pause = minPause
			} else if pause *= 2; pause > maxPause {
				pause = maxPause
			}
			if now := time.Now(); now.Sub(logged) >= 10*time.Second {
				logged = now
				s.log.Warn("accept failed; pausing the listener", "listen", a.addr, "err", err, "pause", pause, "failures", failed)
			}
			if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				a.shed()
			}
			select {
			case <-time.After(pause):
			case <-s.quit:
				return
			}
			continue
		}
		if pause != 0 {
			s.log.Info("accepting again", "listen", a.addr, "failures", failed)
			pause, failed, logged = 0, 0, time.Time{}
		}
		a.enroll(c)
	}
}

// enroll hands c to the loop, where OnOpen admits or refuses it, and
// waits until it has; c itself is closed (the loop holds a copy).
func (a *acceptor) enroll(c *net.TCPConn) {
	a.wdMu.Lock()
	a.waiting, a.strikes = true, 0
	a.wdMu.Unlock()
	a.wd.Reset(a.srv.loopDeadline)
	_, err := a.srv.cli.EnrollContext(c, a)
	a.wd.Stop()
	a.wdMu.Lock()
	a.waiting = false
	a.wdMu.Unlock()
	if err != nil {
		// No copy of the socket (EMFILE on dup) or the loop is stopping:
		// the client sees the connection close.
		a.srv.log.Debug("could not hand a connection to the loop", "remote", c.RemoteAddr(), "err", err)
		if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
			select {
			case <-time.After(minPause):
			case <-a.srv.quit:
			}
		}
	}
}

// watch runs when an enrollment has waited loopDeadline: once is a
// strike, twice in a row (the same enrollment) the loop is taken for
// dead. Two windows keep a process stopped for a while (SIGSTOP, a
// debugger) from being declared dead the moment it resumes.
func (a *acceptor) watch() {
	a.wdMu.Lock()
	defer a.wdMu.Unlock()
	if !a.waiting {
		return
	}
	a.strikes++
	if a.strikes < 2 {
		a.wd.Reset(a.srv.loopDeadline)
		return
	}
	a.srv.die(fmt.Errorf("the event loop took no new connection for %v", 2*a.srv.loopDeadline))
}

// reserve is a spare descriptor, given up to accept (and refuse) one
// connection when the process or the system has none left: the client
// gets 421 instead of waiting in the backlog.
type reserve struct {
	mu sync.Mutex
	f  *os.File
}

func (r *reserve) open() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		r.f, _ = os.Open(os.DevNull)
	}
}

func (r *reserve) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// shed frees the reserve and accepts one connection with it. If the
// reserve cannot be taken back at once, descriptors are still short: the
// connection is refused with 421 and closed, and the reserve taken back;
// otherwise it is served. (accept4 takes a descriptor before it looks for
// a connection, so EMFILE comes even with none waiting: one may come in
// while the reserve is free, maybe once the shortage is over.)
func (a *acceptor) shed() {
	r := &a.srv.reserve
	r.mu.Lock()
	if r.f == nil {
		r.f, _ = os.Open(os.DevNull) // a descriptor may have come free since
		r.mu.Unlock()
		return
	}
	r.f.Close()
	r.f = nil
	// A connection that failed is still queued, unless its client gave
	// up: do not wait long for another.
	_ = a.ln.SetDeadline(time.Now().Add(10 * time.Millisecond))
	c, err := a.ln.AcceptTCP()
	_ = a.ln.SetDeadline(time.Time{})
	r.f, _ = os.Open(os.DevNull)
	spare := r.f != nil
	r.mu.Unlock()
	if err != nil {
		return
	}
	if spare {
		a.enroll(c)
		return
	}
	if !a.cfg.ImplicitTLS { // a TLS client could not read it
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Write([]byte("421 Too many open files; try again later.\r\n"))
	}
	c.Close()
	a.srv.reserve.open()
	a.srv.log.Debug("refused control connection: out of descriptors", "remote", c.RemoteAddr())
}

// ErrStopped is what Serve returns when the event loop ended without
// Shutdown: every session is gone, and the process should exit with a
// failure so that its supervisor restarts it.
var ErrStopped = errors.New("reactor: the event loop stopped unexpectedly")

// die ends Serve with ErrStopped.
func (s *Server) die(why error) {
	s.deadOnce.Do(func() {
		s.log.Error("the event loop is gone; stopping", "why", why)
		close(s.dead)
	})
}

// listenerOf is the listener a connection came in on (its context until
// OnOpen replaces it).
func listenerOf(c gnet.Conn) *acceptor {
	a, _ := c.Context().(*acceptor)
	return a
}
