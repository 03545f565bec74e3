// Idle passive listeners, kept open for the next PASV/EPSV.
package dtp

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// listenerIdle is how long an unused listener stays in the pool.
const listenerIdle = 10 * time.Second

// lnPool keeps the passive listeners of finished transfers open so that
// the next passive request can take one instead of opening a new socket.
// Under a load of small transfers, opening cost a fifth of the server's
// CPU: socket, bind (whose conflict check walks every TIME_WAIT socket on
// the port), listen, getsockname and epoll registration, then close.
//
// A listener taken from the pool is drained first: any connection that
// reached it while it was idle is closed, so a late or stray client cannot
// become the next session's data connection. The event loop may not
// accept, so it takes a listener only when its accept queue is empty
// (take) and otherwise leaves the drain to a worker (get). Listeners are
// reused newest first, and one idle for listenerIdle is closed by a timer.
type lnPool struct {
	max int           // idle listeners kept at most; 0: none
	ttl time.Duration // how long one stays idle; 0: listenerIdle

	mu     sync.Mutex
	idle   map[netip.Addr][]idleLn // by local address, newest last
	n      int                     // listeners in idle
	timer  *time.Timer             // runs prune while n > 0
	closed bool
}

// idleLn is a pooled listener and when it went idle.
type idleLn struct {
	ln    *listener
	since time.Time
}

// get returns an idle listener on ip, drained, or nil.
func (p *lnPool) get(ip netip.Addr) *listener {
	for {
		p.mu.Lock()
		list := p.idle[ip]
		if len(list) == 0 {
			p.mu.Unlock()
			return nil
		}
		ln := list[len(list)-1].ln
		list[len(list)-1] = idleLn{}
		p.idle[ip] = list[:len(list)-1]
		p.n--
		p.mu.Unlock()
		if drain(ln) {
			return ln
		}
		ln.Close()
	}
}

// take returns the newest idle listener on ip if no connection waits on
// it, else nil (get, on a worker, drains it then). It makes one
// getsockopt and no other system call, so the event loop may call it.
func (p *lnPool) take(ip netip.Addr) *listener {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[ip]
	if len(list) == 0 {
		return nil
	}
	ln := list[len(list)-1].ln
	if !quiet(ln) {
		return nil
	}
	list[len(list)-1] = idleLn{}
	p.idle[ip] = list[:len(list)-1]
	p.n--
	return ln
}

// put returns a listener that is no longer wanted: it is kept for reuse
// while the pool has room, else closed. It makes no system call when kept.
func (p *lnPool) put(ln *listener) {
	if ln == nil {
		return
	}
	if ln.slot != nil { // a claim on a shared port: given up
		ln.Close()
		return
	}
	ap, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		ln.Close()
		return
	}
	ip := ap.AddrPort().Addr().Unmap()
	p.mu.Lock()
	if p.closed || p.n >= p.max {
		p.mu.Unlock()
		ln.Close()
		return
	}
	if p.idle == nil {
		p.idle = make(map[netip.Addr][]idleLn)
	}
	p.idle[ip] = append(p.idle[ip], idleLn{ln: ln, since: time.Now()})
	p.n++
	if p.timer == nil {
		p.timer = time.AfterFunc(p.idleTime(), p.prune)
	} else if p.n == 1 {
		p.timer.Reset(p.idleTime())
	}
	p.mu.Unlock()
}

// recycle drains ln, then puts it back: for a worker giving up a listener
// a client may have connected to, which should see its connection closed
// now rather than at the listener's next use.
func (p *lnPool) recycle(ln *listener) {
	if ln == nil || ln.slot != nil {
		p.put(ln)
		return
	}
	if !drain(ln) {
		ln.Close()
		return
	}
	p.put(ln)
}

// idleTime is how long a listener may stay idle.
func (p *lnPool) idleTime() time.Duration {
	if p.ttl > 0 {
		return p.ttl
	}
	return listenerIdle
}

// prune closes the listeners idle for idleTime or more and runs again
// while any are left.
func (p *lnPool) prune() {
	ttl := p.idleTime()
	cutoff := time.Now().Add(-ttl)
	var old []*listener
	p.mu.Lock()
	next := ttl
	for ip, list := range p.idle {
		k := 0
		for k < len(list) && !list[k].since.After(cutoff) {
			old = append(old, list[k].ln)
			k++
		}
		if k > 0 {
			p.n -= k
			list = append(list[:0], list[k:]...)
			clear(list[len(list) : len(list)+k])
		}
		if len(list) == 0 {
			delete(p.idle, ip)
			continue
		}
		p.idle[ip] = list
		next = min(next, list[0].since.Sub(cutoff))
	}
	if p.n > 0 && !p.closed {
		p.timer.Reset(max(next, ttl/10))
	}
	p.mu.Unlock()
	for _, ln := range old {
		ln.Close()
	}
}

// idleCount reports the listeners in the pool.
func (p *lnPool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// close closes every idle listener; from now on the pool keeps none.
func (p *lnPool) close() {
	p.mu.Lock()
	var all []*listener
	for _, list := range p.idle {
		for _, e := range list {
			all = append(all, e.ln)
		}
	}
	p.idle, p.n = nil, 0
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
	for _, ln := range all {
		ln.Close()
	}
}
