// Per-connection context: line framing, feeding the session, writing its replies and handing its requests to the DTP.
package reactor

import (
	"bytes"
	"net/netip"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

// conn is one control connection's state. Loop-only, except post.
type conn struct {
	srv    *Server
	c      gnet.Conn
	ip     netip.Addr     // the client's address, for the per-address limits
	remote netip.AddrPort // the client (a PROXY header's source behind a balancer), for logs
	sess   *protocol.Session
	dsess  *dtp.Session

	closed      bool      // OnClose ran, or a close was requested: ignore late events
	discarding  bool      // inside an overlong line: drop input up to its LF
	sniff       bool      // its first bytes are yet to be checked for a PROXY header it may not send (proxy.go)
	passive     bool      // holds a passive slot (guard.takePassive) from PASV/EPSV until its listener is taken or dropped
	stalled     bool      // stopped reading because replies are not draining
	stallListed bool      // in Server.stalls (see stall.go)
	tls         *tlsState // nil: plain FTP
	wake        int64     // the timer tick at which the sweep looks at it (see timers.go)
	slot        int       // its index in the timer heap plus one; 0: not in it

	mailMu sync.Mutex
	mail   []protocol.Event // posted by the DTP, not yet delivered (post)
}

// peek returns the unframed input: plaintext after TLS, else gnet's buffer.
func (cn *conn) peek() []byte {
	if cn.tls != nil {
		return cn.tls.plain
	}
	buf, _ := cn.c.Peek(-1)
	return buf
}

// discard drops n bytes of unframed input.
func (cn *conn) discard(n int) {
	if t := cn.tls; t != nil {
		t.plain = t.plain[n:]
		if len(t.plain) == 0 {
			t.plain = nil // an idle session keeps no input buffer
		}
		return
	}
	_, _ = cn.c.Discard(n)
}

// buffered counts input not yet taken as commands.
func (cn *conn) buffered() int {
	if t := cn.tls; t != nil {
		return len(t.plain) + t.pipe.buffered()
	}
	return cn.c.InboundBuffered()
}

// write sends reply bytes, through TLS once it is up. Mid-handshake nothing
// can be sent: the bytes are dropped (only a timer's farewell can come then).
// While the connection is corked the bytes are collected and go out in one
// write when it is uncorked: the replies to pipelined commands, or a 150
// and 226 posted together, then cost one system call and one segment.
func (cn *conn) write(b []byte) {
	if t := cn.tls; t != nil && !t.ready {
		return
	}
	s := cn.srv
	if s.corked != cn {
		cn.send(b)
		return
	}
	if len(s.corkBuf)+len(b) > corkMax {
		cn.flush()
		if len(b) > corkMax {
			cn.send(b)
			return
		}
	}
	s.corkBuf = append(s.corkBuf, b...)
}

// corkMax bounds the bytes a corked connection collects before they are
// written anyway.
const corkMax = 4 << 10

// send writes b now.
func (cn *conn) send(b []byte) {
	if t := cn.tls; t != nil {
		_, _ = t.tc.Write(b)
		return
	}
	_, _ = cn.c.Write(b)
}

// cork starts collecting cn's replies; it reports false when a connection
// is already corked (a nested call), which then must not uncork.
func (cn *conn) cork() bool {
	if cn.srv.corked != nil {
		return false
	}
	cn.srv.corked = cn
	return true
}

// flush writes what the cork collected so far.
func (cn *conn) flush() {
	s := cn.srv
	if s.corked != cn || len(s.corkBuf) == 0 {
		return
	}
	if !cn.closed {
		cn.send(s.corkBuf)
	}
	s.corkBuf = s.corkBuf[:0]
}

// uncork writes what the cork collected and stops collecting.
func (cn *conn) uncork() {
	cn.flush()
	cn.srv.corked = nil
}

// flooded answers a client that sent more than MaxInbound unread bytes.
func (cn *conn) flooded(n int) {
	cn.srv.log.Info("closing flooding control connection", "remote", cn.remote, "buffered", n)
	cn.write([]byte("421 Too much input, closing control connection.\r\n"))
	cn.close()
}

// pump frames the buffered input into lines and feeds them to the session
// while it takes them. Incomplete lines stay in gnet's inbound buffer.
func (cn *conn) pump(now time.Time) {
	if cn.cork() {
		defer cn.uncork()
	}
	s := cn.srv
	cn.stalled = false
	defer cn.schedule()
	for !cn.closed {
		if cn.c.OutboundBuffered()+len(s.corkBuf) > s.cfg.MaxOutbound {
			cn.stall()
			break
		}
		if !cn.sess.Ready() {
			break
		}
		buf := cn.peek()
		if len(buf) == 0 {
			return
		}
		i := bytes.IndexByte(buf, '\n')
		if cn.discarding {
			if i < 0 {
				cn.discard(len(buf))
				return
			}
			cn.discard(i + 1)
			cn.discarding = false
			continue
		}
		if i < 0 {
			if len(buf) > s.cfg.MaxLine+1 { // +1: a CR may still come
				cn.discard(len(buf))
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
			cn.discard(i + 1)
			cn.sess.LineTooLong(now)
		} else {
			s.scratch = stripTelnet(s.scratch[:0], line)
			cn.discard(i + 1)
			cn.sess.Line(s.scratch, now)
		}
		cn.handle(cn.sess.TakeOutput())
	}
	if !cn.closed {
		if n := cn.buffered(); n > s.cfg.MaxInbound {
			cn.flooded(n)
		}
	}
}

// handle writes a session's output and hands its requests to the DTP. A
// request the DTP answers at once on the loop (PassiveNow, StatNow) has
// its event fed back here, and the output that follows handled in turn.
func (cn *conn) handle(out protocol.Output) {
	defer cn.schedule()
	for !cn.closed {
		if len(out.Reply) > 0 {
			cn.write(out.Reply)
		}
		var answered protocol.Event // by the DTP, on the loop
		for _, r := range out.Requests {
			if _, ok := r.(protocol.ReqStartTLS); ok {
				cn.flush()
				cn.startTLS() // after the reply above was written in the clear
				continue
			}
			switch r.(type) {
			case protocol.ReqTransfer, protocol.ReqActive, protocol.ReqAbort, protocol.ReqLogout:
				// The pending listener is taken by the transfer (which
				// gives it up once the client connects), or dropped.
				cn.givePassive()
			}
			if _, ok := r.(protocol.ReqPassive); ok {
				if !cn.passive {
					if !cn.srv.guard.takePassive(cn.ip, cn.srv.meter) {
						cn.post(protocol.EvPassive{Err: protocol.ErrBusy})
						continue
					}
					cn.passive = true
				}
				if ev, ok := cn.srv.dtp.PassiveNow(cn.dsess); ok {
					answered = ev
					continue
				}
			}
			if answered == nil {
				if ev, ok := cn.srv.dtp.StatNow(cn.dsess, r); ok {
					answered = ev
					continue
				}
			}
			cn.srv.dtp.Do(cn.dsess, r, cn.post)
		}
		if out.Close {
			cn.close()
		}
		if answered == nil || cn.closed {
			return
		}
		cn.sess.Event(answered, time.Now())
		out = cn.sess.TakeOutput()
	}
}

// givePassive gives back the session's passive slot, if it holds one.
func (cn *conn) givePassive() {
	if cn.passive {
		cn.passive = false
		cn.srv.guard.passive.Give(cn.ip)
	}
}

// close asks gnet to close the connection after its pending replies.
func (cn *conn) close() {
	if cn.closed {
		return
	}
	cn.flush()
	cn.closed = true
	if t := cn.tls; t != nil {
		if t.ready {
			_ = t.tc.CloseWrite() // close_notify, after the pending replies
		}
		t.pipe.Close()
	}
	_ = cn.c.Close()
}

// post delivers a DTP event to the session on the loop. Any goroutine.
// Events wait in the connection's mailbox; only the first of a batch asks
// the loop to run, and the loop delivers the whole batch with its replies
// corked, so a 150 and a 226 posted back to back leave in one write.
func (cn *conn) post(ev protocol.Event) {
	cn.mailMu.Lock()
	first := len(cn.mail) == 0
	cn.mail = append(cn.mail, ev)
	cn.mailMu.Unlock()
	if first && !cn.srv.execute(cn.deliverMail) {
		cn.mailMu.Lock() // the loop is gone: nothing will read the mailbox
		cn.mail = nil
		cn.mailMu.Unlock()
	}
}

// deliverMail delivers the events in the mailbox, in order. Loop-only.
func (cn *conn) deliverMail() {
	cn.mailMu.Lock()
	mail := cn.mail
	cn.mail = nil
	cn.mailMu.Unlock()
	outer := cn.cork()
	for i, ev := range mail {
		cn.deliver(ev)
		mail[i] = nil
	}
	if outer {
		cn.uncork()
	}
}

// deliver feeds ev to the session and resumes reading. Loop-only.
func (cn *conn) deliver(ev protocol.Event) {
	if cn.closed {
		return
	}
	now := time.Now()
	if l, ok := ev.(protocol.EvLogin); ok {
		cn.srv.meter.login(l)
		if !l.OK && l.Err == nil {
			if cn.srv.guard.failed(cn.ip, now) {
				cn.srv.log.Warn("banning an address after repeated failed logins", "remote", cn.ip, "for", cn.srv.cfg.BanDuration)
			}
			cn.srv.arm() // for the prune that forgets the record
		}
	}
	if p, ok := ev.(protocol.EvPassive); ok && p.Err != nil {
		cn.givePassive() // no listener came of it
	}
	cn.sess.Event(ev, now)
	cn.handle(cn.sess.TakeOutput())
	cn.pump(now)
}
