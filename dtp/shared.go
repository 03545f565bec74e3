// Shared passive ports: one listener per port of the range serves every session at once.
package dtp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/rftpd/rftpd/dtp/fair"
	"github.com/rftpd/rftpd/dtp/proxy"
	"github.com/rftpd/rftpd/protocol"
)

// With Config.PassiveShared, a passive request does not get a listener of
// its own: it claims a port of the range on which no other session of the
// same client address waits, and that port's one listener (a portMux)
// hands the next connection from that address (or, through a load
// balancer relaying data connections, from the address its PROXY header
// names) to the session. A range of N ports then carries N pending
// passive sessions per client address, and any number of clients: a
// firewall that opens 10 ports no longer caps the server at 10 transfers.
// A connection from an address with no session waiting on that port is
// closed, as with listeners of their own.

// portMux is one shared passive port.
type portMux struct {
	srv  *Server
	ln   *net.TCPListener
	addr net.Addr

	mu      sync.Mutex
	waiting map[netip.Addr]*slot // by client address (unmapped, no zone)
}

// maxHeaderReads bounds the data connections from balancers whose PROXY
// headers are awaited at once, over every shared port.
const maxHeaderReads = 1024

// muxKey names a shared port: the local address and the port.
type muxKey struct {
	ip   netip.Addr
	port uint16
}

// slot is a session's claim on a shared port, until its data connection
// is handed over or it is given up.
type slot struct {
	mux       *portMux
	client    netip.Addr
	proxyData bool // the session takes data connections through a balancer too

	mu     sync.Mutex
	conn   *net.TCPConn  // handed over, not yet taken
	ready  chan struct{} // closed when conn is set or the slot is closed
	closed bool
}

// sharedMux returns the mux of (ip, port), opening its listener when open
// is set (a system call: workers only); nil when it is not open, or
// cannot be.
func (s *Server) sharedMux(ip netip.Addr, port uint16, open bool) *portMux {
	k := muxKey{ip, port}
	s.muxMu.Lock()
	m := s.muxes[k]
	s.muxMu.Unlock()
	if m != nil || !open {
		return m
	}
	if !s.fds.Take(fair.Passive, netip.Addr{}, 1) {
		return nil
	}
	ln, err := dataListen.Listen(context.Background(), "tcp", netip.AddrPortFrom(ip, port).String())
	if err != nil {
		s.fds.Give(netip.Addr{}, 1)
		return nil
	}
	tl := ln.(*net.TCPListener)
	m = &portMux{srv: s, ln: tl, addr: tl.Addr(), waiting: make(map[netip.Addr]*slot)}
	s.muxMu.Lock()
	if old := s.muxes[k]; old != nil || s.muxClosed {
		s.muxMu.Unlock()
		tl.Close()
		s.fds.Give(netip.Addr{}, 1)
		return old
	}
	if s.muxes == nil {
		s.muxes = make(map[muxKey]*portMux)
	}
	s.muxes[k] = m
	s.muxMu.Unlock()
	go m.run()
	return m
}

// claimShared claims a shared port for sess; open: ports not open yet may
// be opened (workers only). It returns nil and no error when open is not
// set and no open port is free for the client.
func (s *Server) claimShared(sess *Session, open bool) (*listener, error) {
	client := sess.info.Remote.Addr()
	if !s.fds.Take(fair.Passive, client, 1) {
		return nil, fmt.Errorf("dtp: passive: out of descriptors: %w", protocol.ErrBusy)
	}
	ip, key := sess.bind(), client.Unmap().WithZone("")
	lo, hi := s.cfg.PassiveLow, s.cfg.PassiveHigh
	n := uint32(hi-lo) + 1
	start := s.cursor.Add(1) - 1
	for i := range n {
		m := s.sharedMux(ip, lo+uint16((start+i)%n), open)
		if m == nil && !open && i == 0 {
			break // the port in turn is not open yet: a worker opens it, so that claims spread over the range
		}
		if m == nil {
			continue
		}
		if sl := m.claim(key, sess.via.ProxyData); sl != nil {
			return &listener{slot: sl, fds: s.fds, client: client}, nil
		}
	}
	s.fds.Give(client, 1)
	if !open {
		return nil, nil
	}
	return nil, fmt.Errorf("dtp: passive: every port of %d-%d has a connection pending for %v: %w", lo, hi, key, protocol.ErrBusy)
}

// claim registers a slot for client unless one waits already.
func (m *portMux) claim(client netip.Addr, proxyData bool) *slot {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.waiting[client] != nil {
		return nil
	}
	sl := &slot{mux: m, client: client, proxyData: proxyData, ready: make(chan struct{})}
	m.waiting[client] = sl
	return sl
}

// run accepts until the listener is closed, pausing on errors (EMFILE).
func (m *portMux) run() {
	var pause time.Duration
	for {
		c, err := m.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			time.Sleep(pause)
			continue
		}
		pause = 0
		peer := c.RemoteAddr().(*net.TCPAddr).AddrPort()
		if proxy.Trusted(*m.srv.trusted.Load(), peer.Addr()) {
			select {
			case m.srv.headerReads <- struct{}{}:
				go func() { // reading the header may wait
					defer func() { <-m.srv.headerReads }()
					m.route(c, peer, true)
				}()
			default: // too many headers awaited at once
				c.Close()
			}
			continue
		}
		m.route(c, peer, false)
	}
}

// route hands c to the slot waiting for its client, or closes it.
func (m *portMux) route(c *net.TCPConn, peer netip.AddrPort, fromBalancer bool) {
	from := peer
	if fromBalancer {
		from = m.srv.proxied(c, peer)
	}
	key := from.Addr().Unmap().WithZone("")
	m.mu.Lock()
	sl := m.waiting[key]
	if sl != nil && (from == peer || sl.proxyData) {
		delete(m.waiting, key)
	} else {
		sl = nil
	}
	m.mu.Unlock()
	if sl != nil && sl.deliver(c) {
		return
	}
	m.srv.foreign.Add(1) // before the close: whoever sees it closed sees it counted
	c.Close()
	if m.srv.cfg.OnForeignData != nil {
		m.srv.cfg.OnForeignData(netip.AddrPortFrom(key, 0), from)
	}
}

// deliver hands c over; false when the slot is closed or has one.
func (sl *slot) deliver(c *net.TCPConn) bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.closed || sl.conn != nil {
		return false
	}
	sl.conn = c
	close(sl.ready)
	return true
}

// accept waits for the connection handed over; net.ErrClosed once the
// slot is closed (an abort) without one.
func (sl *slot) accept() (*net.TCPConn, error) {
	<-sl.ready
	sl.mu.Lock()
	defer sl.mu.Unlock()
	c := sl.conn
	sl.conn = nil
	if c == nil {
		return nil, net.ErrClosed
	}
	sl.closed = true // one connection per claim
	return c, nil
}

// close gives the claim up: a connection handed over and not taken is
// closed, and the port is free for the client again.
func (sl *slot) close() {
	sl.mu.Lock()
	c := sl.conn
	sl.conn = nil
	if !sl.closed {
		sl.closed = true
		if c == nil {
			close(sl.ready)
		}
	}
	sl.mu.Unlock()
	if c != nil {
		c.Close()
	}
	m := sl.mux
	m.mu.Lock()
	if m.waiting[sl.client] == sl {
		delete(m.waiting, sl.client)
	}
	m.mu.Unlock()
}

// closeMuxes closes every shared port.
func (s *Server) closeMuxes() {
	s.muxMu.Lock()
	muxes := s.muxes
	s.muxes, s.muxClosed = nil, true
	s.muxMu.Unlock()
	for _, m := range muxes {
		m.ln.Close()
		s.fds.Give(netip.Addr{}, 1)
	}
}

// SharedWaiting reports the sessions waiting on shared passive ports.
func (s *Server) SharedWaiting() int {
	s.muxMu.Lock()
	defer s.muxMu.Unlock()
	n := 0
	for _, m := range s.muxes {
		m.mu.Lock()
		n += len(m.waiting)
		m.mu.Unlock()
	}
	return n
}
