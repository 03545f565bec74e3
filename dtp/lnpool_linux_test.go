// Pooled passive listeners: reuse, draining, bounds, expiry and shutdown.
package dtp

import (
	"bytes"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// refused reports whether nothing listens on addr any more.
func refused(addr netip.AddrPort) bool {
	c, err := net.DialTimeout("tcp", addr.String(), wait)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// closedWithoutData reports whether c is closed by the server before any
// byte arrives.
func closedWithoutData(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetDeadline(time.Now().Add(wait))
	n, err := c.Read(make([]byte, 1))
	if n != 0 || err == nil || os.IsTimeout(err) {
		t.Fatalf("read %d bytes, %v; want the connection closed", n, err)
	}
}

// After a transfer, the next PASV takes the same listener: no new socket,
// the same port, and the data still reaches the right client.
func TestListenerReuse(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(100_000, 71)
	e.write("f", data)
	var first netip.AddrPort
	for i := range 5 {
		got, _, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})
		mustOK(t, done.Err)
		if !bytes.Equal(got, data) {
			t.Fatalf("round %d: the download differs", i)
		}
		if n := e.srv.lns.idleCount(); n != 1 {
			t.Fatalf("round %d: %d idle listeners, want 1", i, n)
		}
		// download asked for a PASV; ask for one more to see its port.
		a := e.pasv()
		if i == 0 {
			first = a
		} else if a != first {
			t.Fatalf("round %d: PASV announced %v, want the reused %v", i, a, first)
		}
		if n := e.srv.lns.idleCount(); n != 0 {
			t.Fatalf("round %d: %d idle listeners while one is pending", i, n)
		}
		e.do(protocol.ReqAbort{}) // gives the pending listener back
	}
}

// A connection made to a listener while it was idle, or to a pending one
// before the transfer that never used it, never becomes a data connection:
// it is closed when the listener is taken, and the right client still gets
// the file.
func TestListenerStrayConnections(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(5000, 72)
	e.write("f", data)

	// A transfer that fails before accepting (no such file) gives back a
	// listener a client already connected to: that client is closed now.
	addr := e.pasv()
	early := dialFrom(t, "127.0.0.1", addr)
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "missing"})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, fs.ErrNotExist)
	closedWithoutData(t, early)

	// Connections to the idle listener wait in its backlog ...
	var strays []*net.TCPConn
	for range 3 {
		strays = append(strays, dialFrom(t, "127.0.0.1", addr))
	}
	// ... and are closed when the next PASV takes it.
	if a := e.pasv(); a != addr {
		t.Fatalf("PASV announced %v, want the idle %v", a, addr)
	}
	for _, c := range strays {
		closedWithoutData(t, c)
	}
	c := dialFrom(t, "127.0.0.1", addr)
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})
	c.SetDeadline(time.Now().Add(wait))
	got := make([]byte, 0, len(data))
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	expect[protocol.EvTransferStart](t, e.ev)
	mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want the %d of the file", len(got), len(data))
	}
}

// The pool keeps at most IdleListeners; 0 turns it off, and then a
// listener given up is closed at once.
func TestListenerPoolBounds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdleListeners = 2
	e := newEnv(t, &cfg)
	var addrs []netip.AddrPort
	var sessions []*Session
	for range 4 {
		s := e.srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
		e.srv.Do(s, protocol.ReqLogin{User: "u", Pass: "secret"}, e.ev.post)
		expect[protocol.EvLogin](t, e.ev)
		e.srv.Do(s, protocol.ReqPassive{}, e.ev.post)
		ev := expect[protocol.EvPassive](t, e.ev)
		mustOK(t, ev.Err)
		addrs = append(addrs, ev.Addr)
		sessions = append(sessions, s)
	}
	for _, s := range sessions {
		e.srv.CloseSession(s)
	}
	if n := e.srv.lns.idleCount(); n != 2 {
		t.Fatalf("%d idle listeners, want 2", n)
	}
	// The first two given up were kept, the last two closed.
	for i, a := range addrs {
		if got, want := refused(a), i >= 2; got != want {
			t.Fatalf("listener %d (%v): refused %v, want %v", i, a, got, want)
		}
	}

	cfg.IdleListeners = 0
	off := newEnv(t, &cfg)
	a := off.pasv()
	off.do(protocol.ReqAbort{})
	if !refused(a) || off.srv.lns.idleCount() != 0 {
		t.Fatal("with IdleListeners 0 a listener given up stays open")
	}
}

// Idle listeners are closed after their idle time, and all of them by
// Close; the descriptors come back.
func TestListenerPoolExpiry(t *testing.T) {
	before := openFDs(t)
	p := &lnPool{max: 8, ttl: 100 * time.Millisecond}
	var addrs []netip.AddrPort
	for range 3 {
		ln, err := listenTCP(netip.MustParseAddr("127.0.0.1"), 0)
		mustOK(t, err)
		addrs = append(addrs, ln.Addr().(*net.TCPAddr).AddrPort())
		p.put(ln)
	}
	deadline := time.Now().Add(wait)
	for p.idleCount() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := p.idleCount(); n != 0 {
		t.Fatalf("%d listeners still idle after their idle time", n)
	}
	for _, a := range addrs {
		if !refused(a) {
			t.Fatalf("%v still listens after expiry", a)
		}
	}

	// A listener that went idle just now outlives one idle for longer.
	p.ttl = time.Second
	old, err := listenTCP(netip.MustParseAddr("127.0.0.1"), 0)
	mustOK(t, err)
	p.put(old)
	time.Sleep(600 * time.Millisecond)
	young, err := listenTCP(netip.MustParseAddr("127.0.0.1"), 0)
	mustOK(t, err)
	p.put(young)
	for p.idleCount() > 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.get(netip.MustParseAddr("127.0.0.1")); got != young {
		t.Fatalf("after the first expiry the pool holds %v, want the younger listener", got)
	}
	young.Close()

	// close closes what is idle and keeps nothing afterwards.
	ln, err := listenTCP(netip.MustParseAddr("127.0.0.1"), 0)
	mustOK(t, err)
	p.put(ln)
	p.close()
	ln2, err := listenTCP(netip.MustParseAddr("127.0.0.1"), 0)
	mustOK(t, err)
	p.put(ln2)
	if p.idleCount() != 0 || !refused(ln.Addr().(*net.TCPAddr).AddrPort()) || !refused(ln2.Addr().(*net.TCPAddr).AddrPort()) {
		t.Fatal("a closed pool holds listeners")
	}
	runtime.GC()
	if after := openFDs(t); after > before {
		t.Fatalf("descriptors: %d before, %d after", before, after)
	}
}

// Server.Close closes the idle listeners.
func TestCloseFlushesListeners(t *testing.T) {
	acc := NewAccounts()
	srv, err := New(DefaultConfig(), acc)
	mustOK(t, err)
	ln, err := listenTCP(netip.MustParseAddr("127.0.0.1"), 0)
	mustOK(t, err)
	srv.lns.put(ln)
	srv.Close()
	if !refused(ln.Addr().(*net.TCPAddr).AddrPort()) {
		t.Fatal("an idle listener outlived Server.Close")
	}
}

// quiet sees a connection waiting in a listener's accept queue without
// accepting it.
func TestQuiet(t *testing.T) {
	ln, err := listenTCP(netip.MustParseAddr("127.0.0.1"), 0)
	mustOK(t, err)
	defer ln.Close()
	if !quiet(ln) {
		t.Fatal("a new listener is not quiet")
	}
	c := dialFrom(t, "127.0.0.1", ln.Addr().(*net.TCPAddr).AddrPort())
	if quiet(ln) {
		t.Fatal("a listener with a connection waiting is quiet")
	}
	if quiet(ln) {
		t.Fatal("asked twice, quiet no longer sees the waiting connection")
	}
	ac, err := ln.AcceptTCP()
	mustOK(t, err)
	ac.Close()
	c.Close()
	if !quiet(ln) {
		t.Fatal("the listener is not quiet after its connection was accepted")
	}
	ln.Close()
	if quiet(ln) {
		t.Fatal("a closed listener is quiet")
	}
}

// PassiveNow, the event loop's path, takes an idle listener only when no
// connection waits on it; otherwise it leaves the listener to Do, whose
// worker drains it. Either way the right client gets the file.
func TestPassiveNow(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(20_000, 73)
	e.write("f", data)

	if _, ok := e.srv.PassiveNow(e.sess); ok {
		t.Fatal("PassiveNow answered with no idle listener")
	}
	addr := e.pasv()
	e.do(protocol.ReqAbort{}) // the listener goes idle

	ev, ok := e.srv.PassiveNow(e.sess)
	if !ok || ev.Err != nil || ev.Addr != addr {
		t.Fatalf("PassiveNow = %+v, %v; want the idle %v", ev, ok, addr)
	}
	if n := e.srv.lns.idleCount(); n != 0 {
		t.Fatalf("%d idle listeners while one is pending", n)
	}
	// Asked again, it gives back the pending listener and takes it anew.
	if ev, ok := e.srv.PassiveNow(e.sess); !ok || ev.Addr != addr {
		t.Fatalf("second PassiveNow = %+v, %v; want %v again", ev, ok, addr)
	}
	if got := e.retrOver(dialFrom(t, "127.0.0.1", addr), "f"); !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want the %d of the file", len(got), len(data))
	}

	// A stray connection waits on the idle listener: PassiveNow leaves it,
	stray := dialFrom(t, "127.0.0.1", addr)
	if ev, ok := e.srv.PassiveNow(e.sess); ok {
		t.Fatalf("PassiveNow took a listener with a connection waiting: %+v", ev)
	}
	if n := e.srv.lns.idleCount(); n != 1 {
		t.Fatalf("%d idle listeners after PassiveNow declined, want 1", n)
	}
	// and the worker's path drains it and announces the same port.
	if a := e.pasv(); a != addr {
		t.Fatalf("PASV announced %v, want the idle %v", a, addr)
	}
	closedWithoutData(t, stray)

	// A closed session gets an error, and the listener stays in the pool.
	e.do(protocol.ReqAbort{})
	e.srv.CloseSession(e.sess)
	if ev, ok := e.srv.PassiveNow(e.sess); ok && ev.Err == nil {
		t.Fatalf("PassiveNow on a closed session = %+v", ev)
	}
	if n := e.srv.lns.idleCount(); n != 1 {
		t.Fatalf("%d idle listeners after a closed session asked, want 1", n)
	}
}
