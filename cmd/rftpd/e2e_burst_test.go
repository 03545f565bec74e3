// End-to-end: a burst of password logins at once, as load generators open them.
package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoginBurst: 300 sessions from 16 addresses send their PASS at the
// same moment, each a bcrypt check for the two password workers. Every
// one is queued and answered 230, none refused with 421 for a full queue,
// and each session then works.
func TestLoginBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const n = 300
	s := startStd(t)
	conns := make([]*hostileConn, n)
	defer func() {
		for _, h := range conns {
			if h != nil {
				h.ctrl.Close()
			}
		}
	}()
	for i := range conns {
		from := fmt.Sprintf("127.0.0.%d", 1+i%16)
		c, err := dialFromAddr(from, s.addr, 0)
		if err != nil {
			t.Fatalf("connect %d from %s: %v", i, from, err)
		}
		h := &hostileConn{ctrl: c, r: bufio.NewReader(c)}
		conns[i] = h
		if g, err := h.exchange(""); err != nil || !strings.HasPrefix(g, "220 ") {
			t.Fatalf("session %d greeting %q: %v", i, g, err)
		}
		if r, err := h.exchange("USER writer"); err != nil || !strings.HasPrefix(r, "331 ") {
			t.Fatalf("session %d USER: %q %v", i, r, err)
		}
	}
	// Every PASS is written before any reply is read: the checks queue.
	for i, h := range conns {
		if _, err := io.WriteString(h.ctrl, "PASS "+writerPass+"\r\n"); err != nil {
			t.Fatalf("session %d PASS: %v", i, err)
		}
	}
	// Two workers check 300 bcrypt hashes of the default cost one after
	// another; the bound is the test's own, far above that on a busy machine.
	deadline := time.Now().Add(3 * clientTimeout)
	var wg sync.WaitGroup
	var mu sync.Mutex
	replies := map[string]int{}
	for _, h := range conns {
		wg.Go(func() {
			h.ctrl.SetDeadline(deadline)
			r, err := h.read()
			if err == nil && strings.HasPrefix(r, "230 ") {
				r, err = h.exchange("PWD")
				if err == nil && strings.HasPrefix(r, "257 ") {
					r = "230 then 257"
				}
			}
			if err != nil {
				r = err.Error()
			}
			mu.Lock()
			replies[r]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if replies["230 then 257"] != n {
		t.Fatalf("replies to %d logins at once: %v", n, replies)
	}
}
