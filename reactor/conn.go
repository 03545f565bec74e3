// Per-connection context: line framing, feeding the session, writing its replies and handing its requests to the DTP.
package reactor

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

// conn is one control connection's state. Loop-only, except post.
type conn struct {
	srv   *Server
	c     gnet.Conn
	ip    netip.Addr // the client's address, for the per-address limits
	sess  *protocol.Session
	dsess *dtp.Session

	closed     bool // OnClose ran, or a close was requested: ignore late events
	discarding bool // inside an overlong line: drop input up to its LF
	passive    bool // holds one of its address's passive slots (see guard.takePassive)
	stalled    bool // stopped reading because replies are not draining
}

// pump frames the buffered input into lines and feeds them to the session
// while it takes them. Incomplete lines stay in gnet's inbound buffer.
func (cn *conn) pump(now time.Time) {
	s := cn.srv
	cn.stalled = false
	for !cn.closed {
		if cn.c.OutboundBuffered() > s.cfg.MaxOutbound {
			cn.stalled = true
			break
		}
		if !cn.sess.Ready() {
			break
		}
		buf, _ := cn.c.Peek(-1)
		if len(buf) == 0 {
			return
		}
		i := bytes.IndexByte(buf, '\n')
		if cn.discarding {
			if i < 0 {
				_, _ = cn.c.Discard(len(buf))
				return
			}
			_, _ = cn.c.Discard(i + 1)
			cn.discarding = false
			continue
		}
		if i < 0 {
			if len(buf) > s.cfg.MaxLine+1 { // +1: a CR may still come
				_, _ = cn.c.Discard(len(buf))
				cn.discarding = true
				cn.sess.LineTooLong(now)
				cn.handle(cn.sess.TakeOutput())
				continue
			}
			return
		}
		line := buf[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) > s.cfg.MaxLine {
			_, _ = cn.c.Discard(i + 1)
			cn.sess.LineTooLong(now)
		} else {
			s.scratch = stripTelnet(s.scratch[:0], line)
			_, _ = cn.c.Discard(i + 1)
			cn.sess.Line(s.scratch, now)
		}
		cn.handle(cn.sess.TakeOutput())
	}
	if !cn.closed && cn.c.InboundBuffered() > s.cfg.MaxInbound {
		s.log.Info("closing flooding control connection", "remote", cn.c.RemoteAddr(), "buffered", cn.c.InboundBuffered())
		_, _ = cn.c.Write([]byte("421 Too much input, closing control connection.\r\n"))
		cn.close()
	}
}

// handle writes a session's output and hands its requests to the DTP.
func (cn *conn) handle(out protocol.Output) {
	if cn.closed {
		return
	}
	if len(out.Reply) > 0 {
		_, _ = cn.c.Write(out.Reply)
	}
	for _, r := range out.Requests {
		if _, ok := r.(protocol.ReqPassive); ok && !cn.passive {
			if !cn.srv.guard.takePassive(cn.ip) {
				cn.post(protocol.EvPassive{Err: protocol.ErrBusy})
				continue
			}
			cn.passive = true
		}
		cn.srv.dtp.Do(cn.dsess, r, cn.post)
	}
	if out.Close {
		cn.close()
	}
}

// close asks gnet to close the connection after its pending replies.
func (cn *conn) close() {
	if cn.closed {
		return
	}
	cn.closed = true
	_ = cn.c.Close()
}

// post delivers a DTP event to the session on the loop. Any goroutine.
func (cn *conn) post(ev protocol.Event) {
	cn.srv.execute(func() { cn.deliver(ev) })
}

// deliver feeds ev to the session and resumes reading. Loop-only.
func (cn *conn) deliver(ev protocol.Event) {
	if cn.closed {
		return
	}
	now := time.Now()
	if l, ok := ev.(protocol.EvLogin); ok && !l.OK && l.Err == nil {
		if cn.srv.guard.failed(cn.ip, now) {
			cn.srv.log.Warn("banning an address after repeated failed logins", "remote", cn.ip, "for", cn.srv.cfg.BanDuration)
		}
	}
	cn.sess.Event(ev, now)
	cn.handle(cn.sess.TakeOutput())
	cn.pump(now)
}
