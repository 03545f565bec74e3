// PROXY protocol on control listeners: waiting for a balancer's header before the session starts.
package reactor

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/rftpd/rftpd/dtp/fair"
	"github.com/rftpd/rftpd/dtp/proxy"
	"github.com/rftpd/rftpd/protocol"
)

// ProxyMode says whether a listener's connections start with a PROXY
// protocol header (v1 or v2) naming the client a load balancer relays.
type ProxyMode int

const (
	// ProxyOff: no headers; the socket's peer is the client.
	ProxyOff ProxyMode = iota
	// ProxyOptional: a connection from a trusted network (the balancer)
	// is greeted once its header has come, or, if none comes within the
	// header timeout, as a client of its own; any other address is served
	// directly, and closed if it sends a header.
	ProxyOptional
	// ProxyRequired: only trusted networks may connect, and each
	// connection must start with a header within the header timeout.
	ProxyRequired
)

// ParseProxyMode reads "off", "optional" or "required".
func ParseProxyMode(s string) (ProxyMode, error) {
	switch strings.ToLower(s) {
	case "", "off":
		return ProxyOff, nil
	case "optional":
		return ProxyOptional, nil
	case "required":
		return ProxyRequired, nil
	}
	return ProxyOff, fmt.Errorf("proxy mode %q: want off, optional or required", s)
}

func (m ProxyMode) String() string {
	return [...]string{"off", "optional", "required"}[m]
}

// headerWait is a balancer's connection whose header has not come yet: it
// has no session, and holds one descriptor of the budget as the server's
// own until the header names the client it counts for. Loop-only.
type headerWait struct {
	srv      *Server
	c        gnet.Conn
	from     *acceptor
	deadline time.Time
	done     bool // the header came, or the wait ended: its descriptor is accounted elsewhere or given back
}

// awaitHeader files a trusted peer's connection to wait for its header.
func (s *Server) awaitHeader(c gnet.Conn, from *acceptor) ([]byte, gnet.Action) {
	if s.draining {
		return []byte("421 Server shutting down.\r\n"), gnet.Close
	}
	if !s.dtp.Descriptors().Take(fair.Session, netip.Addr{}, 1) {
		s.log.Debug("refused balancer connection: descriptors are short", "remote", c.RemoteAddr())
		return []byte("421 Too many connections; try again later.\r\n"), gnet.Close
	}
	h := &headerWait{srv: s, c: c, from: from, deadline: time.Now().Add(s.headerTimeout())}
	c.SetContext(h)
	s.headerQ = append(s.headerQ, h)
	if len(s.headerQ)-s.headerHead == 1 {
		s.headerTimer.Reset(time.Until(h.deadline))
	}
	return nil, gnet.None
}

func (s *Server) headerTimeout() time.Duration {
	if s.cfg.ProxyHeaderTimeout > 0 {
		return s.cfg.ProxyHeaderTimeout
	}
	return 5 * time.Second
}

// release gives the wait's descriptor back, once.
func (h *headerWait) release() {
	if !h.done {
		h.done = true
		h.srv.dtp.Descriptors().Give(netip.Addr{}, 1)
	}
}

// headerTraffic reads the header once it is whole and starts the session
// of the client it names; a malformed one closes the connection.
func (s *Server) headerTraffic(h *headerWait) gnet.Action {
	c := h.c
	buf, _ := c.Peek(-1)
	n, err := proxy.Frame(buf)
	if err == nil && n == 0 {
		return gnet.None // more to come
	}
	var hdr proxy.Header
	if err == nil {
		hdr, err = proxy.Parse(buf[:n])
	}
	if err != nil {
		s.log.Warn("PROXY: bad header; connection closed", "remote", c.RemoteAddr(), "listen", h.from.addr, "err", err)
		return gnet.Close
	}
	_, _ = c.Discard(n)
	h.release()
	sock := protocol.ConnInfo{Local: addrPort(c.LocalAddr()), Remote: addrPort(c.RemoteAddr())}
	info := sock
	if !hdr.Local {
		info = protocol.ConnInfo{Local: hdr.Dest, Remote: hdr.Source}
	}
	out, action := s.open(c, h.from, info, sock.Local.Addr(), false)
	if len(out) > 0 {
		_, _ = c.Write(out)
	}
	if action != gnet.None || c.InboundBuffered() == 0 {
		return action
	}
	return s.OnTraffic(c) // what came behind the header (a ClientHello, a command)
}

// sweepHeaders ends the waits that are over: required, the connection is
// closed; optional, the peer is served as a client of its own. Loop-only.
func (s *Server) sweepHeaders() {
	now := time.Now()
	for s.headerHead < len(s.headerQ) {
		h := s.headerQ[s.headerHead]
		if !h.done && now.Before(h.deadline) {
			s.headerTimer.Reset(h.deadline.Sub(now))
			break
		}
		s.headerQ[s.headerHead] = nil
		s.headerHead++
		if h.done {
			continue
		}
		h.release()
		c := h.c
		if h.from.cfg.Proxy == ProxyRequired || s.draining {
			s.log.Warn("PROXY: no header in time; connection closed", "remote", c.RemoteAddr(), "listen", h.from.addr, "timeout", s.headerTimeout())
			_ = c.Close()
			continue
		}
		sock := protocol.ConnInfo{Local: addrPort(c.LocalAddr()), Remote: addrPort(c.RemoteAddr())}
		out, action := s.open(c, h.from, sock, sock.Local.Addr(), false)
		if len(out) > 0 {
			_, _ = c.Write(out)
		}
		if action != gnet.None {
			_ = c.Close()
		}
	}
	if s.headerHead == len(s.headerQ) {
		s.headerQ, s.headerHead = s.headerQ[:0], 0
	} else if s.headerHead > len(s.headerQ)/2 {
		n := copy(s.headerQ, s.headerQ[s.headerHead:])
		clear(s.headerQ[n:])
		s.headerQ, s.headerHead = s.headerQ[:n], 0
	}
}

// sniffed checks the first bytes of a session whose address may not send
// PROXY headers. closeIt: it sent one. wait: they could still be the start
// of one, so nothing is read until more come.
func (cn *conn) sniffed() (closeIt, wait bool) {
	buf, _ := cn.c.Peek(-1) // the bytes as sent: on an implicit-TLS listener, a ClientHello
	n, err := proxy.Frame(buf)
	switch {
	case err != nil:
		cn.sniff = false // not a header: ordinary input
	case n > 0:
		cn.srv.log.Warn("PROXY: header from an address not trusted to send one; connection closed", "remote", cn.remote)
		return true, false
	case bytes.IndexByte(buf, '\n') >= 0 && len(buf) < 12:
		// An empty line, as far as a v2 signature's first bytes go: a
		// balancer sends its 12 at once, a client's line ends here.
		cn.sniff = false
	default:
		return false, true
	}
	return false, false
}
