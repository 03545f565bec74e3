// FTPS on the control connection: crypto/tls over a gnet connection, with the handshake off the loop and records decrypted on it.
package reactor

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

// How a control connection turns into TLS (AUTH TLS, or at connect on the
// implicit listener):
//
//  1. startTLS (loop) wraps the connection in a pipe and a tls.Conn and
//     starts the handshake on its own goroutine, bounded by
//     Config.HandshakeTimeout and Config.MaxHandshakes. Bytes the client sent
//     after the AUTH line are fed to TLS, never read as commands.
//  2. While it runs, OnTraffic appends ciphertext to the pipe and wakes the
//     handshake's blocked Read; the handshake's writes are posted to the loop
//     in order. Nothing else is written: the session reads no command until
//     EvTLS.
//  3. tlsDone (loop) flips the pipe to non-blocking: from then on OnTraffic
//     appends ciphertext and calls tls.Conn.Read on the loop until the pipe
//     reports errWouldBlock, a temporary net.Error. crypto/tls keeps a
//     partial record across such an error and reads on next time
//     (TestTLSPartialRecords pins this); a handshake cannot resume that way,
//     which is why it runs on a goroutine.
//
// No goroutine is left per idle TLS session, only the tls.Conn, the pipe and
// a per-connection tls.Config (see dtp.TLS.ControlConfig).

// tlsState is a control connection's TLS layer. Loop-only, except pipe.
type tlsState struct {
	tc    *tls.Conn
	pipe  *pipe
	tag   []byte // binds data connections to this session (dtp.NewTag)
	ready bool   // the handshake completed
	plain []byte // decrypted input not yet framed into lines
}

// errWouldBlock tells crypto/tls that no more ciphertext is buffered now.
var errWouldBlock = &wouldBlock{}

type wouldBlock struct{}

func (*wouldBlock) Error() string   { return "reactor: no buffered TLS input" }
func (*wouldBlock) Timeout() bool   { return true }
func (*wouldBlock) Temporary() bool { return true }

// pipe is the net.Conn crypto/tls reads and writes: ciphertext from gnet's
// inbound buffer, written back through gnet.
type pipe struct {
	cn  *conn
	max int // ciphertext it may hold; more ends the session

	mu       sync.Mutex
	in       []byte
	blocking bool // handshake phase: Read waits for input
	closed   bool
	wake     chan struct{} // capacity 1
}

func newPipe(cn *conn, max int) *pipe {
	return &pipe{cn: cn, max: max, blocking: true, wake: make(chan struct{}, 1)}
}

// feed appends ciphertext (loop). It reports false when the pipe would hold
// more than its limit.
func (p *pipe) feed(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return true
	}
	if len(p.in)+len(b) > p.max {
		return false
	}
	p.in = append(p.in, b...)
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

func (p *pipe) buffered() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.in)
}

// setNonBlocking ends the handshake phase (loop).
func (p *pipe) setNonBlocking() {
	p.mu.Lock()
	p.blocking = false
	p.mu.Unlock()
}

func (p *pipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	for len(p.in) == 0 {
		if p.closed {
			p.mu.Unlock()
			return 0, net.ErrClosed
		}
		if !p.blocking {
			p.mu.Unlock()
			return 0, errWouldBlock
		}
		p.mu.Unlock()
		<-p.wake
		p.mu.Lock()
	}
	n := copy(b, p.in)
	p.in = p.in[n:]
	if len(p.in) == 0 {
		p.in = nil // an idle session keeps no input buffer
	}
	p.mu.Unlock()
	return n, nil
}

// Write sends ciphertext. During the handshake (its goroutine) the bytes are
// copied and posted to the loop, in order; afterwards it runs on the loop
// and writes directly.
func (p *pipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	blocking, closed := p.blocking, p.closed
	p.mu.Unlock()
	if closed {
		return 0, net.ErrClosed
	}
	cn := p.cn
	if !blocking {
		return cn.c.Write(b)
	}
	out := append([]byte(nil), b...)
	if !cn.srv.execute(func() {
		if !cn.closed {
			_, _ = cn.c.Write(out)
		}
	}) {
		return 0, net.ErrClosed
	}
	return len(b), nil
}

// Close unblocks a waiting Read for good; the gnet connection is closed by
// its owner. crypto/tls calls it when the handshake's context ends.
func (p *pipe) Close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.in = nil
		close(p.wake)
	}
	p.mu.Unlock()
	return nil
}

func (p *pipe) LocalAddr() net.Addr              { return p.cn.c.LocalAddr() }
func (p *pipe) RemoteAddr() net.Addr             { return p.cn.c.RemoteAddr() }
func (p *pipe) SetDeadline(time.Time) error      { return nil }
func (p *pipe) SetReadDeadline(time.Time) error  { return nil }
func (p *pipe) SetWriteDeadline(time.Time) error { return nil }

// startTLS begins the handshake after the reply before it was written (loop).
func (cn *conn) startTLS() {
	s := cn.srv
	if s.cfg.TLS == nil || cn.tls != nil {
		cn.close()
		return
	}
	if !s.guard.handshakes.Take(cn.ip) {
		s.log.Warn("closing control connection: too many TLS handshakes in progress", "remote", cn.remote, "limit", s.cfg.MaxHandshakes, "held_by_address", s.guard.handshakes.Held(cn.ip))
		cn.close()
		return
	}
	s.meter.tlsStart.Add(1)
	p := newPipe(cn, s.cfg.MaxInbound)
	if buf, _ := cn.c.Peek(-1); len(buf) > 0 {
		p.feed(buf)
		_, _ = cn.c.Discard(len(buf))
	}
	tag := dtp.NewTag()
	tc := tls.Server(p, s.cfg.TLS.ControlConfig(tag))
	cn.tls = &tlsState{tc: tc, pipe: p, tag: tag}
	timeout := s.cfg.HandshakeTimeout
	go func() {
		defer s.trim.handshakeEnded()
		defer s.guard.handshakes.Give(cn.ip)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			s.meter.tlsFailed.Add(1)
		} else {
			s.meter.tlsOK.Add(1)
		}
		if !s.execute(func() { cn.tlsDone(err) }) {
			p.Close()
		}
	}()
}

// tlsDone finishes startTLS on the loop.
func (cn *conn) tlsDone(err error) {
	if cn.closed {
		return
	}
	now := time.Now()
	if err != nil {
		cn.srv.log.Debug("TLS handshake failed", "remote", cn.remote, "err", err)
		cn.sess.Event(protocol.EvTLS{Err: err}, now)
		cn.handle(cn.sess.TakeOutput())
		cn.close()
		return
	}
	t := cn.tls
	t.pipe.setNonBlocking()
	t.ready = true
	cn.dsess.SetControlTLS(t.tag)
	cn.sess.Event(protocol.EvTLS{}, now)
	cn.handle(cn.sess.TakeOutput())
	if cn.decrypt() {
		cn.pump(now)
	}
}

// decrypt moves every complete record's plaintext into t.plain (loop). It
// reports false when the session was closed: the client ended TLS, sent a
// bad record, or more input than MaxInbound.
func (cn *conn) decrypt() bool {
	t, s := cn.tls, cn.srv
	for !cn.closed {
		if len(t.plain) > s.cfg.MaxInbound {
			cn.flooded(len(t.plain))
			return false
		}
		n, err := t.tc.Read(s.tlsScratch)
		t.plain = append(t.plain, s.tlsScratch[:n]...)
		if err != nil {
			var wb *wouldBlock
			if errors.As(err, &wb) {
				return true
			}
			s.log.Debug("closing TLS control connection", "remote", cn.remote, "err", err)
			cn.close()
			return false
		}
	}
	return false
}

// tlsTraffic takes the ciphertext gnet read and decrypts what it can
// (loop). It reports whether the session may go on to pump.
func (cn *conn) tlsTraffic() bool {
	t := cn.tls
	buf, _ := cn.c.Peek(-1)
	if !t.pipe.feed(buf) {
		cn.flooded(len(buf) + t.pipe.buffered())
		return false
	}
	_, _ = cn.c.Discard(len(buf))
	if !t.ready {
		return false
	}
	return cn.decrypt()
}
