// Tests of active data connections' source port: L-1 by default (RFC 959 §3.2), shared by concurrent transfers, any port when it cannot be bound.
package dtp

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// freePort returns a loopback port nothing listens on now.
func freePort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustOK(t, err)
	defer ln.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port)
}

// activeRetr runs an active RETR of name for a session whose control
// connection is local:2121-ish (port ctl) and whose client listens on
// client, and returns the data connection's source port and the bytes.
func activeRetr(t *testing.T, e *env, sess *Session, ev *collector, client string, name string) (uint16, []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", client+":0")
	mustOK(t, err)
	defer ln.Close()
	e.srv.Do(sess, protocol.ReqActive{Addr: ln.Addr().(*net.TCPAddr).AddrPort()}, ev.post)
	e.srv.Do(sess, protocol.ReqTransfer{Kind: protocol.XferRetr, Path: name}, ev.post)
	c, err := ln.Accept()
	mustOK(t, err)
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	got, err := io.ReadAll(c)
	mustOK(t, err)
	expect[protocol.EvTransferStart](t, ev)
	mustOK(t, expect[protocol.EvTransferDone](t, ev).Err)
	return uint16(c.RemoteAddr().(*net.TCPAddr).Port), got
}

// session logs a new session in, with its control connection on ctl's
// port of 127.0.0.1 and its client at client.
func (e *env) sessionAt(t *testing.T, ctl uint16, client string) (*Session, *collector) {
	t.Helper()
	ev := newCollector()
	sess := e.srv.NewSession(protocol.ConnInfo{
		Local:  netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ctl),
		Remote: netip.AddrPortFrom(netip.MustParseAddr(client), 40000),
	})
	t.Cleanup(func() { e.srv.CloseSession(sess) })
	e.srv.Do(sess, protocol.ReqLogin{User: "u", Pass: "secret"}, ev.post)
	if l := expect[protocol.EvLogin](t, ev); !l.OK {
		t.Fatal("login refused")
	}
	return sess, ev
}

// RFC 959 §3.2, §5.2: the server-DTP's default data port is L-1. Two
// transfers to different clients at once both come from it.
func TestActiveFromControlPortMinusOne(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(4<<20, 9)
	e.write("f", data)
	l1 := freePort(t)
	ctl := l1 + 1
	var wg sync.WaitGroup
	for _, client := range []string{"127.0.0.2", "127.0.0.3"} {
		sess, ev := e.sessionAt(t, ctl, client)
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, got := activeRetr(t, e, sess, ev, client, "f")
			if from != l1 {
				t.Errorf("transfer to %s came from port %d, want %d (the control port %d minus one)", client, from, l1, ctl)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("transfer to %s differs", client)
			}
		}()
	}
	wg.Wait()
}

// When L-1 cannot be bound (a listener holds it), the transfer comes from
// another port and OnActiveFallback hears of it; -1 asks for any port.
func TestActiveFallback(t *testing.T) {
	var mu sync.Mutex
	var told []uint16
	cfg := DefaultConfig()
	cfg.OnActiveFallback = func(port uint16, err error) {
		mu.Lock()
		told = append(told, port)
		mu.Unlock()
	}
	e := newEnv(t, &cfg)
	e.write("f", []byte("hello"))
	held, err := net.Listen("tcp", "127.0.0.1:0")
	mustOK(t, err)
	defer held.Close()
	l1 := uint16(held.Addr().(*net.TCPAddr).Port)
	sess, ev := e.sessionAt(t, l1+1, "127.0.0.1")
	from, got := activeRetr(t, e, sess, ev, "127.0.0.1", "f")
	if from == l1 || string(got) != "hello" {
		t.Fatalf("from port %d (held: %d), got %q", from, l1, got)
	}
	mu.Lock()
	if len(told) != 1 || told[0] != l1 {
		t.Errorf("OnActiveFallback told %v, want [%d]", told, l1)
	}
	mu.Unlock()

	// With -1 no port is tried first: L-1 is held, and no fallback is told.
	cfg.ActivePort = -1
	e2 := newEnv(t, &cfg)
	e2.write("f", []byte("hello"))
	sess, ev = e2.sessionAt(t, l1+1, "127.0.0.1")
	if _, got := activeRetr(t, e2, sess, ev, "127.0.0.1", "f"); string(got) != "hello" {
		t.Errorf("got %q", got)
	}
	mu.Lock()
	if len(told) != 1 {
		t.Errorf("ActivePort -1 tried a port first: fallbacks %v", told)
	}
	mu.Unlock()
}
