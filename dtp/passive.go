// Passive mode: one listener per session on a port from the configured range.
package dtp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/rftpd/rftpd/dtp/fair"
	"github.com/rftpd/rftpd/dtp/proxy"
	"github.com/rftpd/rftpd/protocol"
)

// errSessionClosed answers requests that arrive after CloseSession.
var errSessionClosed = fmt.Errorf("dtp: session closed: %w", protocol.ErrAborted)

// passive queues a ReqPassive on the storage pool (listen is a syscall).
func (s *Server) passive(sess *Session, post func(protocol.Event)) {
	if !s.fs.submit(sess.info.Remote.Addr(), func() { post(s.openPassive(sess)) }) {
		post(protocol.EvPassive{Err: protocol.ErrBusy})
	}
}

// openPassive gives up the session's previous listener (its port may be
// the only one free), takes an idle listener on the control connection's
// local address or opens a new one, and installs it as the session's
// pending endpoint.
func (s *Server) openPassive(sess *Session) protocol.EvPassive {
	sess.mu.Lock()
	old, _ := sess.takeEndpoint()
	sess.mu.Unlock()
	s.lns.put(old) // newest in the pool: get below drains it and takes it back

	if s.shared() {
		ln, err := s.claimShared(sess, true)
		if err != nil {
			return protocol.EvPassive{Err: err}
		}
		old, ev := s.install(sess, ln)
		s.lns.put(old)
		return ev
	}
	local := sess.bind()
	ln := s.lns.get(local)
	if ln == nil {
		var err error
		if ln, err = s.listen(local, sess.info.Remote.Addr()); err != nil {
			return protocol.EvPassive{Err: err}
		}
	}
	old, ev := s.install(sess, ln)
	s.lns.recycle(old)
	return ev
}

// PassiveNow is the fast path of a ReqPassive, for the event loop: when an
// idle listener on the control connection's address has no connection
// waiting (lnPool.take), it becomes the session's endpoint at once and the
// event is returned, with no blocking system call and no trip through a
// worker. Otherwise it reports false, and the request goes to Do.
func (s *Server) PassiveNow(sess *Session) (protocol.EvPassive, bool) {
	sess.mu.Lock()
	old, _ := sess.takeEndpoint()
	sess.mu.Unlock()
	s.lns.put(old) // newest in the pool: take below takes it back if quiet

	var ln *listener
	if s.shared() {
		ln, _ = s.claimShared(sess, false) // only ports open already: no system call
	} else {
		ln = s.lns.take(sess.bind())
	}
	if ln == nil {
		return protocol.EvPassive{}, false
	}
	old, ev := s.install(sess, ln)
	s.lns.put(old)
	return ev, true
}

// install makes ln sess's pending endpoint and returns the endpoint it
// replaced, if any, and the reply's event; for a closed session, ln goes
// back to the pool and the event carries the error.
func (s *Server) install(sess *Session, ln *listener) (*listener, protocol.EvPassive) {
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		s.lns.put(ln)
		return nil, protocol.EvPassive{Err: errSessionClosed}
	}
	old, _ := sess.takeEndpoint()
	sess.ln = ln
	sess.mu.Unlock()

	ip := sess.info.Local.Addr().Unmap()
	switch {
	case sess.via.Announce.IsValid():
		ip = sess.via.Announce.Unmap()
	case s.cfg.PublicHost.IsValid():
		ip = s.cfg.PublicHost.Unmap()
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	return old, protocol.EvPassive{Addr: netip.AddrPortFrom(ip, port)}
}

// ephemeralTries bounds the probes for a free port of the ephemeral range
// before the kernel is asked for one (port 0).
const ephemeralTries = 32

// listen opens a TCP listener on ip on the first free port of the
// configured range, starting from a cursor that moves on with every call so
// that consecutive sessions do not all probe the same busy ports first.
//
// Without a configured range it probes the system's ephemeral range the same
// way: asking the kernel for port 0 instead makes it search past every port
// held in TIME_WAIT, and under a load of short transfers that search took
// most of the server's CPU (small-get rose about fivefold with explicit
// ports). After ephemeralTries busy ports it falls back to port 0.
//
// The listener's descriptor counts in the budget as client's until it is
// closed, whoever uses it from the idle pool meanwhile.
func (s *Server) listen(ip, client netip.Addr) (*listener, error) {
	if !s.fds.Take(fair.Passive, client, 1) {
		return nil, fmt.Errorf("dtp: passive listen: out of descriptors: %w", protocol.ErrBusy)
	}
	ln, err := s.listenPort(ip)
	if err != nil {
		s.fds.Give(client, 1)
		return nil, err
	}
	ln.fds, ln.client = s.fds, client
	return ln, nil
}

// listenPort is listen's search for a port.
func (s *Server) listenPort(ip netip.Addr) (*listener, error) {
	lo, hi := s.cfg.PassiveLow, s.cfg.PassiveHigh
	tries := uint32(hi-lo) + 1
	if lo == 0 && hi == 0 {
		lo, hi = s.eph[0], s.eph[1]
		tries = ephemeralTries
		if lo == 0 || hi < lo {
			return listenOn(ip, 0)
		}
		if ln, err := s.probe(ip, lo, hi, tries); err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			return ln, err
		}
		return listenOn(ip, 0)
	}
	return s.probe(ip, lo, hi, tries)
}

// listenOn listens on one port of ip (0: one the kernel picks).
func listenOn(ip netip.Addr, port uint16) (*listener, error) {
	ln, err := listenTCP(ip, port)
	if err != nil {
		return nil, fmt.Errorf("dtp: passive listen: %w", err)
	}
	return ln, nil
}

// dataListen is how passive listeners are opened: a data connection lives
// for one transfer, which the stall timer watches, so TCP keepalive is off.
// That saves four setsockopt calls per accepted connection, which show up in
// loads of small files.
var dataListen = net.ListenConfig{KeepAlive: -1}

// listener is a passive listener of its own, or a claim on a shared port
// (slot set, TCPListener nil). Its descriptor counts in the server's
// budget (fair.Passive) from listen or claim until Close.
type listener struct {
	*net.TCPListener
	slot   *slot
	fds    *fair.Budget // nil: not counted
	client netip.Addr   // whose part of the budget it counts in
	once   sync.Once
}

// Close closes the listener (gives the claim up) and gives its descriptor
// back to the budget.
func (l *listener) Close() error {
	var err error
	if l.slot != nil {
		l.slot.close()
	} else {
		err = l.TCPListener.Close()
	}
	l.once.Do(func() { l.fds.Give(l.client, 1) })
	return err
}

// Addr is the address the client connects to.
func (l *listener) Addr() net.Addr {
	if l.slot != nil {
		return l.slot.mux.addr
	}
	return l.TCPListener.Addr()
}

// shared reports whether passive requests claim shared ports.
func (s *Server) shared() bool {
	return s.cfg.PassiveShared && s.cfg.PassiveLow != 0
}

// listenTCP opens a passive listener on one port of ip, not yet counted in
// the budget.
func listenTCP(ip netip.Addr, port uint16) (*listener, error) {
	ln, err := dataListen.Listen(context.Background(), "tcp", netip.AddrPortFrom(ip, port).String())
	if err != nil {
		return nil, err
	}
	return &listener{TCPListener: ln.(*net.TCPListener)}, nil
}

// probe tries up to tries ports of lo-hi from the cursor on; the error wraps
// EADDRINUSE when every port tried was taken.
func (s *Server) probe(ip netip.Addr, lo, hi uint16, tries uint32) (*listener, error) {
	n := uint32(hi-lo) + 1
	tries = min(tries, n)
	start := s.cursor.Add(1) - 1
	for i := range tries {
		port := lo + uint16((start+i)%n)
		ln, err := listenTCP(ip, port)
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("dtp: passive listen: %w", err)
		}
	}
	return nil, fmt.Errorf("dtp: passive listen: all %d ports tried of %d-%d are in use: %w", tries, lo, hi, syscall.EADDRINUSE)
}

// accept waits on the transfer's passive listener for the client. A
// connection from any address other than the control connection's is
// closed at once and accept goes on waiting: the right client still
// succeeds. For a session behind a load balancer that relays data
// connections too (Via.ProxyData), the address that counts is the one in
// the PROXY header each must start with, from a trusted balancer. The
// listener goes back to the pool once a connection is accepted; an abort
// closes it instead.
func (s *Server) accept(sess *Session, t *transfer, ln *listener) (*net.TCPConn, error) {
	if ln.slot != nil { // the shared port's mux has checked where it comes from
		c, err := ln.slot.accept()
		if ln := t.takeListener(); ln != nil {
			ln.Close()
		}
		if err != nil {
			return nil, connErr("accept", err)
		}
		return c, nil
	}
	want := sess.info.Remote.Addr().Unmap().WithZone("")
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			if ln := t.takeListener(); ln != nil {
				ln.Close()
			}
			return nil, connErr("accept", err)
		}
		from := c.RemoteAddr().(*net.TCPAddr).AddrPort()
		if sess.via.ProxyData {
			from = s.proxied(c, from)
		}
		if from.Addr().Unmap().WithZone("") == want {
			s.lns.put(t.takeListener())
			return c, nil
		}
		s.foreign.Add(1) // before the close: whoever sees it closed sees it counted
		c.Close()
		if s.cfg.OnForeignData != nil {
			s.cfg.OnForeignData(sess.info.Remote, from)
		}
	}
}

// proxied reads the PROXY header of a data connection from peer and
// returns the client it names; a peer that is not a trusted balancer, or a
// header that is missing, malformed or LOCAL, leaves peer (so the
// connection is refused unless the client itself is the peer).
func (s *Server) proxied(c *net.TCPConn, peer netip.AddrPort) netip.AddrPort {
	if !proxy.Trusted(*s.trusted.Load(), peer.Addr()) {
		return peer
	}
	wait := s.cfg.ProxyTimeout
	if wait <= 0 {
		wait = 5 * time.Second
	}
	h, err := proxy.Read(c, time.Now().Add(wait))
	if err != nil || h.Local {
		return peer
	}
	return h.Source
}
