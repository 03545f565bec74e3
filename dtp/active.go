// Active mode: dial the client's PORT/EPRT address at transfer time, from the port RFC 959 names.
package dtp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// dial connects to the transfer's active address from the control
// connection's local address. The source port is Config.ActivePort's: by
// default L-1, where L is the control connection's local port (RFC 959
// §3.2, §5.2: the server-DTP's default data port, port 20 beside a
// listener on 21), which some client-side firewalls expect. Every active
// transfer binds that port with SO_REUSEADDR, so transfers to different
// clients (or client ports) run at once. When it cannot be bound (below
// 1024 without root or CAP_NET_BIND_SERVICE, or a listener holds it), the
// transfer dials from any port and Config.OnActiveFallback is told.
// ReqAbort cancels the dial through the transfer's context.
func (s *Server) dial(sess *Session, t *transfer) (*net.TCPConn, error) {
	to := netip.AddrPortFrom(t.active.Addr().Unmap(), t.active.Port())
	if port := s.activePort(sess); port != 0 {
		c, err := dialSource(t.ctx, sess.bind(), port, to)
		if err == nil {
			return c, nil
		}
		if !bindFailed(err) || t.ctx.Err() != nil {
			return nil, connErr("dial", err)
		}
		if f := s.cfg.OnActiveFallback; f != nil {
			f(port, err)
		}
	}
	c, err := dialSource(t.ctx, sess.bind(), 0, to)
	if err != nil {
		return nil, connErr("dial", err)
	}
	return c, nil
}

// activePort is the source port of sess's active connections; 0: any.
func (s *Server) activePort(sess *Session) uint16 {
	switch p := s.cfg.ActivePort; {
	case p < 0:
		return 0
	case p > 0:
		return uint16(p)
	}
	if l := sess.info.Local.Port(); l > 1 {
		return l - 1
	}
	return 0
}

// dialSource connects to to from the address from and port (0: any).
func dialSource(ctx context.Context, from netip.Addr, port uint16, to netip.AddrPort) (*net.TCPConn, error) {
	d := net.Dialer{
		KeepAlive: -1, // one transfer, watched by the stall timer
		LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(from, port)),
	}
	if port != 0 {
		d.Control = reuseAddr
	}
	c, err := d.DialContext(ctx, "tcp", to.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// reuseAddr sets SO_REUSEADDR, so that connections to different peers
// share one source port.
func reuseAddr(_, _ string, rc syscall.RawConn) error {
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	}); err != nil {
		return err
	}
	return serr
}

// bindFailed reports whether a dial failed at binding its source port,
// not at reaching the peer.
func bindFailed(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) ||
		errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EADDRNOTAVAIL)
}
