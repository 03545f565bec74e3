// Tests of shared passive ports: one listener per port serves many sessions, each given the connection from its own client.
package reactor

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rftpd/rftpd/dtp"
)

// freeRange finds n consecutive ports free on 127.0.0.1.
func freeRange(t *testing.T, n int) (uint16, uint16) {
	t.Helper()
	for base := 41000 + (time.Now().Nanosecond()/1000)%10000; base < 60000; base += n {
		ok := true
		var held []net.Listener
		for p := base; p < base+n; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			held = append(held, ln)
		}
		for _, ln := range held {
			ln.Close()
		}
		if ok {
			return uint16(base), uint16(base + n - 1)
		}
	}
	t.Fatal("no free port range")
	return 0, 0
}

// epsvPort sends EPSV and returns the port.
func (cl *client) epsvPort() int {
	cl.t.Helper()
	got := cl.expect("EPSV", "229 ")
	p, err := strconv.Atoi(got[strings.Index(got, "(|||")+4 : strings.LastIndex(got, "|)")])
	if err != nil {
		cl.t.Fatalf("EPSV %q", got)
	}
	return p
}

// dataFrom opens a data connection from a source address.
func dataFrom(t *testing.T, from string, port int) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSharedPassivePorts: 12 clients of distinct addresses hold passive
// connections at once on a range of 2 ports and each gets its own data; a
// connection from an address with no session waiting is refused; one
// address gets as many pending ports as the range has.
func TestSharedPassivePorts(t *testing.T) {
	lo, hi := freeRange(t, 2)
	ts := startServer(t, serverOpts{dtp: func(c *dtp.Config) {
		c.PassiveLow, c.PassiveHigh, c.PassiveShared = lo, hi, true
	}})
	const n = 12
	type sess struct {
		cl   *client
		data net.Conn
		from string
	}
	all := make([]sess, n)
	for i := range all {
		from := fmt.Sprintf("127.0.0.%d", 11+i)
		cl := dialFrom(t, from, ts.addr)
		if got := cl.reply(); !strings.HasPrefix(got, "220 ") {
			t.Fatalf("greeting %q", got)
		}
		cl.login()
		cl.expect("TYPE I", "200 ")
		port := cl.epsvPort()
		if port < int(lo) || port > int(hi) {
			t.Fatalf("EPSV port %d outside %d-%d", port, lo, hi)
		}
		if i == 0 {
			// A thief from an address with no session waiting is refused.
			thief := dataFrom(t, "127.0.0.99", port)
			_ = thief.SetReadDeadline(time.Now().Add(replyWait))
			if b, err := io.ReadAll(thief); len(b) != 0 || err != nil {
				t.Fatalf("thief got %q, %v", b, err)
			}
		}
		all[i] = sess{cl: cl, data: dataFrom(t, from, port), from: from}
	}
	// Every session has its data connection at once; now all transfer.
	var wg sync.WaitGroup
	for _, s := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.cl.send("RETR hello.txt")
		}()
	}
	wg.Wait()
	for i, s := range all {
		if got := s.cl.reply(); !strings.HasPrefix(got, "150 ") {
			t.Fatalf("session %d RETR: %q", i, got)
		}
		_ = s.data.SetReadDeadline(time.Now().Add(replyWait))
		b, _ := io.ReadAll(s.data)
		if string(b) != "hello\n" {
			t.Fatalf("session %d data %q", i, b)
		}
		if got := s.cl.reply(); !strings.HasPrefix(got, "226 ") {
			t.Fatalf("session %d after data: %q", i, got)
		}
	}
	if ts.dtp.ForeignData() != 1 {
		t.Errorf("foreign connections %d, want the thief's 1", ts.dtp.ForeignData())
	}

	// One address: as many pending passive sessions as ports, then 425.
	a := dialFrom(t, "127.0.0.50", ts.addr)
	a.reply()
	a.login()
	b := dialFrom(t, "127.0.0.50", ts.addr)
	b.reply()
	b.login()
	c := dialFrom(t, "127.0.0.50", ts.addr)
	c.reply()
	c.login()
	if pa, pb := a.epsvPort(), b.epsvPort(); pa == pb {
		t.Fatalf("two pending sessions of one address on one port %d", pa)
	}
	c.expect("EPSV", "425 ")
	a.expect("EPRT |1|127.0.0.50|9999|", "200 ") // an active address replaces a's passive claim
	c.epsvPort()
	if w := ts.dtp.SharedWaiting(); w != 2 {
		t.Errorf("waiting claims %d, want 2 (b and c)", w)
	}
}
