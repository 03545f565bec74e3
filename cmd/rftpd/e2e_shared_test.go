// End-to-end test of shared passive ports: 300 clients of distinct addresses download at once through 10 ports.
package main

import (
	"bufio"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// freePorts finds n consecutive ports free on 127.0.0.1 and returns the
// range as "LOW-HIGH".
func freePorts(t *testing.T, n int) (int, int) {
	t.Helper()
	for base := 42000 + (time.Now().Nanosecond()/1000)%8000; base+n < 60000; base += n {
		var held []net.Listener
		for p := base; p < base+n; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				break
			}
			held = append(held, ln)
		}
		ok := len(held) == n
		for _, ln := range held {
			ln.Close()
		}
		if ok {
			return base, base + n - 1
		}
	}
	t.Fatal("no free port range")
	return 0, 0
}

// TestShared300 runs 300 clients, each from its own loopback address,
// through a range of 10 passive ports: every one holds its data connection
// before any transfer starts, then all download at once and each gets its
// own file whole.
func TestShared300(t *testing.T) {
	const clients = 300
	lo, hi := freePorts(t, 10)
	cfg := filepath.Join(t.TempDir(), "rftpd.toml")
	if err := os.WriteFile(cfg, []byte("passive_shared = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startStd(t, "-config", cfg, "-passive-ports", fmt.Sprintf("%d-%d", lo, hi))
	want := sha256.Sum256(fixtureFiles[fMedium])

	type client struct {
		ctrl net.Conn
		r    *bufio.Reader
		data net.Conn
	}
	expect := func(c *client, code string) (string, error) {
		_ = c.ctrl.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			line, err := c.r.ReadString('\n')
			if err != nil {
				return line, err
			}
			if len(line) >= 4 && line[3] == ' ' {
				if !strings.HasPrefix(line, code) {
					return line, fmt.Errorf("got %q, want %s", line, code)
				}
				return line, nil
			}
		}
	}
	send := func(c *client, line string) error {
		_, err := io.WriteString(c.ctrl, line+"\r\n")
		return err
	}
	all := make([]*client, clients)
	errs := make(chan error, clients)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ports := make([]int, clients)
	for i := range clients {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			readyDone := false
			defer func() {
				if !readyDone {
					ready.Done()
				}
			}()
			from := net.IPv4(127, 0, byte(1+i/250), byte(1+i%250))
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 10 * time.Second}
			conn, err := d.Dial("tcp", s.addr)
			if err != nil {
				errs <- err
				return
			}
			c := &client{ctrl: conn, r: bufio.NewReader(conn)}
			all[i] = c
			steps := []struct{ cmd, code string }{{"", "220"}, {"USER anonymous", "331"}, {"PASS x", "230"}, {"TYPE I", "200"}, {"EPSV", "229"}}
			var line string
			for _, st := range steps {
				if st.cmd != "" {
					if err := send(c, st.cmd); err != nil {
						errs <- err
						return
					}
				}
				if line, err = expect(c, st.code); err != nil {
					errs <- fmt.Errorf("client %d %s: %v", i, st.cmd, err)
					return
				}
			}
			port, _ := strconv.Atoi(line[strings.Index(line, "(|||")+4 : strings.LastIndex(line, "|)")])
			ports[i] = port
			if c.data, err = d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
				errs <- fmt.Errorf("client %d data: %v", i, err)
				return
			}
			readyDone = true
			ready.Done()
			<-start
			if err := send(c, "RETR "+fMedium); err != nil {
				errs <- err
				return
			}
			if _, err := expect(c, "150"); err != nil {
				errs <- fmt.Errorf("client %d RETR: %v", i, err)
				return
			}
			_ = c.data.SetReadDeadline(time.Now().Add(60 * time.Second))
			h := sha256.New()
			if _, err := io.Copy(h, c.data); err != nil {
				errs <- fmt.Errorf("client %d data: %v", i, err)
				return
			}
			if [32]byte(h.Sum(nil)) != want {
				errs <- fmt.Errorf("client %d: wrong data", i)
				return
			}
			if _, err := expect(c, "226"); err != nil {
				errs <- fmt.Errorf("client %d after data: %v", i, err)
			}
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	used := map[int]int{}
	for _, p := range ports {
		if p < lo || p > hi {
			t.Errorf("port %d outside %d-%d", p, lo, hi)
		}
		used[p]++
	}
	t.Logf("%d clients over %d ports: %v", clients, len(used), used)
	for _, c := range all {
		if c != nil {
			c.ctrl.Close()
			if c.data != nil {
				c.data.Close()
			}
		}
	}
}
