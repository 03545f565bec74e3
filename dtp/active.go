// Active mode: dial the client's PORT/EPRT address at transfer time.
package dtp

import (
	"net"
	"net/netip"
)

// dial connects to the transfer's active address from the control
// connection's local address (any port). ReqAbort cancels it through the
// transfer's context.
func (s *Server) dial(sess *Session, t *transfer) (*net.TCPConn, error) {
	d := net.Dialer{
		KeepAlive: -1, // one transfer, watched by the stall timer
		LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(sess.bind(), 0)),
	}
	to := netip.AddrPortFrom(t.active.Addr().Unmap(), t.active.Port())
	c, err := d.DialContext(t.ctx, "tcp", to.String())
	if err != nil {
		return nil, connErr("dial", err)
	}
	return c.(*net.TCPConn), nil
}
