package reactor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

// testServer is a real server on 127.0.0.1:0 serving a temp dir anonymously.
type testServer struct {
	srv  *Server
	dtp  *dtp.Server
	addr string
	root string
	done chan error
}

type serverOpts struct {
	reactor  func(*Config)
	protocol func(*protocol.Config)
	dtp      func(*dtp.Config)
	writer   bool // an account "writer" (password "pw", every permission) rooted at the same folder
}

func startServer(t *testing.T, o serverOpts) *testServer {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "hello.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	acc := dtp.NewAccounts()
	if o.writer {
		hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		users := filepath.Join(t.TempDir(), "users.toml")
		body := fmt.Sprintf("[[user]]\nname = \"writer\"\npassword = %q\nroot = %q\npermissions = [\"read\", \"write\", \"delete\", \"rename\", \"mkdir\"]\n", hash, root)
		if err := os.WriteFile(users, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if acc, err = dtp.LoadAccounts(users); err != nil {
			t.Fatal(err)
		}
	}
	if err := acc.SetAnonymous(root); err != nil {
		t.Fatal(err)
	}
	dcfg := dtp.DefaultConfig()
	if o.dtp != nil {
		o.dtp(&dcfg)
	}
	d, err := dtp.New(dcfg, acc)
	if err != nil {
		t.Fatal(err)
	}
	rcfg := DefaultConfig()
	rcfg.Listen = "127.0.0.1:0"
	rcfg.Tick = 20 * time.Millisecond
	rcfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if o.reactor != nil {
		o.reactor(&rcfg)
	}
	pcfg := protocol.DefaultConfig()
	pcfg.AnonymousEnabled = true
	if o.protocol != nil {
		o.protocol(&pcfg)
	}
	ts := &testServer{srv: New(rcfg, pcfg, d), dtp: d, root: root, done: make(chan error, 1)}
	go func() { ts.done <- ts.srv.Serve() }()
	select {
	case <-ts.srv.Ready():
	case err := <-ts.done:
		t.Fatalf("serve: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	ts.addr = ts.srv.Addr().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		select {
		case err := <-ts.done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("server did not stop")
		}
		d.Close()
		acc.Close()
	})
	return ts
}

// client is a raw control connection.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cl := &client{t: t, c: c, r: bufio.NewReader(c)}
	if got := cl.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting %q", got)
	}
	return cl
}

// replyWait is how long a test waits for a reply, or for the loop to run a
// task: long enough for a busy machine, short enough to end a hung test.
const replyWait = 10 * time.Second

// reply reads one complete reply (all lines of a multi-line one).
func (cl *client) reply() string {
	cl.t.Helper()
	_ = cl.c.SetReadDeadline(time.Now().Add(replyWait))
	var all strings.Builder
	first := ""
	for {
		line, err := cl.r.ReadString('\n')
		if err != nil {
			cl.t.Fatalf("read reply: %v (so far %q)", err, all.String()+line)
		}
		all.WriteString(line)
		if first == "" {
			first = line
			if len(line) >= 4 && line[3] == '-' {
				continue
			}
			return all.String()
		}
		if len(line) >= 4 && line[:3] == first[:3] && line[3] == ' ' {
			return all.String()
		}
	}
}

func (cl *client) send(line string) {
	cl.t.Helper()
	if _, err := io.WriteString(cl.c, line+"\r\n"); err != nil {
		cl.t.Fatal(err)
	}
}

func (cl *client) cmd(line string) string {
	cl.t.Helper()
	cl.send(line)
	return cl.reply()
}

func (cl *client) expect(line, prefix string) string {
	cl.t.Helper()
	got := cl.cmd(line)
	if !strings.HasPrefix(got, prefix) {
		cl.t.Fatalf("%s: got %q, want prefix %q", line, got, prefix)
	}
	return got
}

func (cl *client) login() {
	cl.t.Helper()
	cl.expect("USER anonymous", "331 ")
	cl.expect("PASS guest@", "230 ")
}

// TestLoopNeverBlocks holds one session's storage operation on a worker
// and checks that another session's NOOPs are answered meanwhile. The hold
// lasts until the test lets go, after the NOOPs: a loop held with the
// operation would leave them unanswered, and no load can make it so.
func TestLoopNeverBlocks(t *testing.T) {
	var hold atomic.Bool
	held, release := make(chan struct{}, 1), make(chan struct{})
	ts := startServer(t, serverOpts{dtp: func(c *dtp.Config) {
		c.OpHook = func(op string) error {
			if hold.Load() {
				held <- struct{}{}
				<-release
			}
			return nil
		}
	}})
	slow, quick := dial(t, ts.addr), dial(t, ts.addr)
	slow.login()
	quick.login()

	hold.Store(true)
	var once sync.Once
	letGo := func() { once.Do(func() { hold.Store(false); close(release) }) }
	t.Cleanup(letGo) // before the server's own clean-up: it waits for the worker
	slow.send("SIZE hello.txt")
	select {
	case <-held:
	case <-time.After(replyWait):
		t.Fatalf("the SIZE did not reach a worker within %v", replyWait)
	}
	for range 5 {
		quick.expect("NOOP", "200 ")
	}
	letGo()
	if got := slow.reply(); got != "213 7\r\n" { // TYPE A: hello.txt's LF goes as CRLF (RFC 3659 §4)
		t.Fatalf("SIZE: %q", got)
	}
}

// TestOverlongLine sends a line past MaxLine: 500, and the session goes on.
func TestOverlongLine(t *testing.T) {
	ts := startServer(t, serverOpts{})
	cl := dial(t, ts.addr)
	long := "NOOP " + strings.Repeat("x", 10000)
	if got := cl.cmd(long); !strings.HasPrefix(got, "500 ") {
		t.Fatalf("overlong line: %q", got)
	}
	cl.login()
	// One exactly at the limit is a normal line (anonymous may not MFMT: 550).
	if got := cl.cmd("MFMT " + strings.Repeat("y", 4096-5)); !strings.HasPrefix(got, "550 ") {
		t.Fatalf("line at the limit: %q", got)
	}
	cl.expect("PWD", `257 "/"`)
}

// TestPipelinedInOrder sends commands in one write, one of them waiting on a
// worker: replies come strictly in order.
func TestPipelinedInOrder(t *testing.T) {
	ts := startServer(t, serverOpts{})
	cl := dial(t, ts.addr)
	if _, err := io.WriteString(cl.c, "USER anonymous\r\nPASS x\r\nSIZE hello.txt\r\nNOOP\r\nMDTM hello.txt\r\nPWD\r\nSYST\r\n"); err != nil {
		t.Fatal(err)
	}
	// SIZE in TYPE A counts hello.txt's LF as CRLF: 7.
	for _, want := range []string{"331 ", "230 ", "213 7\r\n", "200 ", "213 ", "257 ", "215 "} {
		if got := cl.reply(); !strings.HasPrefix(got, want) {
			t.Fatalf("got %q, want prefix %q", got, want)
		}
	}
}

// TestPipelinedRepliesCorked: the replies to commands that arrive together
// leave in one write, so one read gets them all; past corkMax they are
// written in pieces, all in order; a QUIT among them is answered before
// the connection closes.
func TestPipelinedRepliesCorked(t *testing.T) {
	ts := startServer(t, serverOpts{})
	cl := dial(t, ts.addr)
	cl.login()
	if _, err := io.WriteString(cl.c, "NOOP\r\nPWD\r\nSYST\r\nNOOP\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := cl.c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	got := string(buf[:n])
	if strings.Count(got, "\r\n") != 4 || !strings.HasPrefix(got, "200 ") || !strings.Contains(got, "\r\n257 ") || !strings.Contains(got, "\r\n215 ") {
		t.Fatalf("one read got %q; want the four replies together", got)
	}

	const many = 3000 // 14-byte replies: about ten times corkMax
	if _, err := io.WriteString(cl.c, strings.Repeat("NOOP\r\n", many)+"QUIT\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, err := io.ReadAll(cl.c)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(all), "\r\n"), "\r\n")
	if len(lines) != many+1 || !strings.HasPrefix(lines[many], "221 ") {
		t.Fatalf("%d replies, the last %q; want %d NOOP replies and then 221", len(lines), lines[len(lines)-1], many)
	}
	for i, l := range lines[:many] {
		if !strings.HasPrefix(l, "200 ") {
			t.Fatalf("reply %d is %q", i, l)
		}
	}
}

// TestTelnetAbort: "IAC IP IAC DM ABOR" is read as ABOR.
func TestTelnetAbort(t *testing.T) {
	ts := startServer(t, serverOpts{})
	cl := dial(t, ts.addr)
	cl.login()
	if got := cl.cmd("\xff\xf4\xff\xf2ABOR"); !strings.HasPrefix(got, "225 ") {
		t.Fatalf("ABOR: %q", got)
	}
}

// TestFloodClosed: a client that sends commands without reading replies is
// cut off once its unread input passes MaxInbound; others are served.
func TestFloodClosed(t *testing.T) {
	ts := startServer(t, serverOpts{reactor: func(c *Config) {
		c.MaxInbound = 16 << 10
		c.MaxOutbound = 16 << 10
	}})
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	// HELP has a long reply: the replies back up quickly.
	chunk := []byte(strings.Repeat("HELP\r\n", 10000))
	deadline := time.Now().Add(20 * time.Second)
	_ = c.SetWriteDeadline(deadline)
	var werr error
	for sent := 0; sent < 1<<30 && time.Now().Before(deadline); sent += len(chunk) {
		if _, werr = c.Write(chunk); werr != nil {
			break
		}
	}
	if werr == nil || errors.Is(werr, os.ErrDeadlineExceeded) {
		t.Fatalf("the flooding connection was not closed (write error %v)", werr)
	}
	cl := dial(t, ts.addr)
	cl.login()
	cl.expect("NOOP", "200 ")
}

// TestIdleTimeout: 421 and close after the idle timeout.
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, serverOpts{protocol: func(c *protocol.Config) {
		c.IdleTimeout = 300 * time.Millisecond
		c.LoginTimeout = 300 * time.Millisecond
	}})
	for _, login := range []bool{false, true} {
		t.Run(fmt.Sprintf("login=%v", login), func(t *testing.T) {
			cl := dial(t, ts.addr)
			if login {
				cl.login()
			}
			start := time.Now()
			if got := cl.reply(); !strings.HasPrefix(got, "421 ") {
				t.Fatalf("got %q, want 421", got)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("timeout fired after %v", d)
			}
			_ = cl.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := cl.r.ReadByte(); err != io.EOF {
				t.Fatalf("connection not closed after 421: %v", err)
			}
		})
	}
}

// TestShutdown: idle sessions get 421 and close; new connections get 421.
func TestShutdown(t *testing.T) {
	ts := startServer(t, serverOpts{})
	cl := dial(t, ts.addr)
	cl.login()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = ts.srv.Shutdown(ctx) }()
	if got := cl.reply(); !strings.HasPrefix(got, "421 ") {
		t.Fatalf("idle session on shutdown: %q", got)
	}
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatal(err)
		}
		ts.done <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop after its last session closed")
	}
}

// pasv sends PASV and opens the data connection it announces.
func (cl *client) pasv() net.Conn {
	cl.t.Helper()
	got := cl.expect("EPSV", "229 ")
	i, j := strings.Index(got, "(|||"), strings.LastIndex(got, "|)")
	if i < 0 || j < i {
		cl.t.Fatalf("EPSV reply %q", got)
	}
	host, _, _ := net.SplitHostPort(cl.c.RemoteAddr().String())
	d, err := net.DialTimeout("tcp", net.JoinHostPort(host, got[i+4:j]), 5*time.Second)
	if err != nil {
		cl.t.Fatal(err)
	}
	cl.t.Cleanup(func() { d.Close() })
	return d
}

// TestShutdownLetsTransfersFinish: a transfer in flight when shutdown starts
// completes (226), then its session gets 421; an idle one gets 421 at once.
func TestShutdownLetsTransfersFinish(t *testing.T) {
	ts := startServer(t, serverOpts{})
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(filepath.Join(ts.root, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	busy, idle := dial(t, ts.addr), dial(t, ts.addr)
	busy.login()
	idle.login()
	busy.expect("TYPE I", "200 ")
	d := busy.pasv()
	busy.expect("RETR big.bin", "150 ")
	first := make([]byte, 1<<20)
	if _, err := io.ReadFull(d, first); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stopped := make(chan error, 1)
	go func() { stopped <- ts.srv.Shutdown(ctx) }()
	if got := idle.reply(); !strings.HasPrefix(got, "421 ") {
		t.Fatalf("idle session: %q", got)
	}
	if c, err := net.DialTimeout("tcp", ts.addr, 5*time.Second); err == nil {
		r := bufio.NewReader(c)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := r.ReadString('\n')
		c.Close()
		if !strings.HasPrefix(line, "421 ") {
			t.Fatalf("new connection during shutdown: %q", line)
		}
	}
	rest, err := io.ReadAll(d)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(first, rest...); string(got) != string(data) {
		t.Fatalf("download during shutdown: %d bytes, want %d identical", len(got), len(data))
	}
	if got := busy.reply(); !strings.HasPrefix(got, "226 ") {
		t.Fatalf("transfer reply: %q", got)
	}
	if got := busy.reply(); !strings.HasPrefix(got, "421 ") {
		t.Fatalf("after the transfer: %q", got)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// TestSlowDripClosed: a client dripping a byte at a time never completes a
// command, so neither the login nor the idle timer is put off.
func TestSlowDripClosed(t *testing.T) {
	ts := startServer(t, serverOpts{protocol: func(c *protocol.Config) {
		c.LoginTimeout = time.Second
		c.IdleTimeout = time.Second
	}})
	for _, login := range []bool{false, true} {
		t.Run(fmt.Sprintf("login=%v", login), func(t *testing.T) {
			cl := dial(t, ts.addr)
			if login {
				cl.login()
			}
			start := time.Now()
			closed := make(chan string, 1)
			go func() {
				_ = cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
				line, _ := cl.r.ReadString('\n')
				closed <- line
			}()
			drip := []byte("NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP NOOP")
			for i := 0; ; i++ {
				select {
				case line := <-closed:
					if !strings.HasPrefix(line, "421 ") {
						t.Fatalf("got %q, want 421", line)
					}
					if d := time.Since(start); d > 3*time.Second {
						t.Fatalf("dripping held the session for %v", d)
					}
					return
				case <-time.After(100 * time.Millisecond):
				}
				if i >= len(drip) {
					t.Fatal("the dripping session was never closed")
				}
				if _, err := cl.c.Write(drip[i : i+1]); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
		})
	}
}

// TestTimersSleep: sessions whose deadlines are far off do not wake the
// loop every Tick; a deadline that comes is still acted on.
func TestTimersSleep(t *testing.T) {
	ts := startServer(t, serverOpts{protocol: func(c *protocol.Config) {
		c.IdleTimeout = time.Minute
		c.LoginTimeout = time.Minute
	}})
	var cls []*client
	for range 20 {
		cl := dial(t, ts.addr)
		cl.login()
		cl.expect("NOOP", "200 ")
		cls = append(cls, cl)
	}
	before := ts.srv.sweeps.Load()
	time.Sleep(50 * ts.srv.cfg.Tick) // a second at the test's Tick
	if n := ts.srv.sweeps.Load() - before; n > 1 {
		t.Fatalf("%d sweeps in 50 ticks with nothing due", n)
	}
	for _, cl := range cls {
		cl.expect("NOOP", "200 ")
	}

	// PASV sets the data connection's timer; it fires and is answered.
	short := startServer(t, serverOpts{protocol: func(c *protocol.Config) {
		c.IdleTimeout = time.Minute
		c.DataTimeout = 300 * time.Millisecond
	}})
	if err := os.WriteFile(filepath.Join(short.root, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	cl := dial(t, short.addr)
	cl.login()
	cl.expect("PASV", "227 ")
	start := time.Now()
	got := cl.cmd("RETR f") // the client never connects
	if d := time.Since(start); !strings.HasPrefix(got, "425 ") || d < 300*time.Millisecond || d > 5*time.Second {
		t.Fatalf("RETR without a data connection: %q after %v", got, d)
	}
}

// TestStalledRepliesResume: a client that sends commands faster than it
// reads their replies is paused at MaxOutbound unsent bytes, and gets every
// reply, in order, once it reads: the stall timer resumes it. Over TLS too,
// where the replies are records written by the loop.
func TestStalledRepliesResume(t *testing.T) {
	limits := func(c *Config) {
		c.MaxOutbound = 4 << 10
		c.MaxInbound = 1 << 20
	}
	t.Run("plain", func(t *testing.T) {
		ts := startServer(t, serverOpts{
			reactor: limits,
			protocol: func(c *protocol.Config) {
				c.IdleTimeout = time.Minute
				c.LoginTimeout = time.Minute
			},
		})
		cl := dial(t, ts.addr)
		raw := cl.c.(*net.TCPConn)
		cl.login()
		stalledRepliesResume(t, ts, cl, raw)
	})
	t.Run("TLS", func(t *testing.T) {
		ts, ccfg := startTLSServer(t, limits)
		cl := dial(t, ts.addr)
		raw := cl.c.(*net.TCPConn)
		cl.upgrade(ccfg, cl.c)
		cl.login()
		stalledRepliesResume(t, ts, cl, raw)
	})
}

// stalledRepliesResume floods a logged-in session with HELP and NOOP and
// reads every reply; raw is the client's TCP connection under cl.
func stalledRepliesResume(t *testing.T, ts *testServer, cl *client, raw *net.TCPConn) {
	// The kernel's buffers are bounded on both sides, so the volume below
	// is far past them whatever the machine's autotuning limits are.
	want := DefaultConfig().SendBuffer
	if b, err := os.ReadFile("/proc/sys/net/core/wmem_max"); err == nil {
		if limit, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && limit < want {
			want = limit // the kernel's cap on SO_SNDBUF
		}
	}
	if got := sendBuffers(ts.srv); len(got) != 1 || got[0] != 2*want {
		t.Fatalf("SO_SNDBUF of the control connections: %v, want [%d] (SendBuffer, doubled by Linux)", got, 2*want)
	}
	if err := raw.SetReadBuffer(32 << 10); err != nil {
		t.Fatal(err)
	}
	help := cl.cmd("HELP")
	n := (2 << 20) / len(help) // 2 MiB of replies against about 200 KiB of buffers
	batch := strings.Repeat("HELP\r\nNOOP\r\n", n)
	// Counted before the flood: nothing is polled while no session is
	// stalled, and a poll may resume the session before this test sees
	// it paused.
	polls := ts.srv.stallPolls.Load()
	go io.WriteString(cl.c, batch)
	for deadline := time.Now().Add(10 * time.Second); !anyStalled(ts.srv); {
		if time.Now().After(deadline) {
			t.Fatal("the session was never paused")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range n {
		if got := cl.reply(); got != help {
			t.Fatalf("reply %d: %q, want HELP's", 2*i, got)
		}
		if got := cl.reply(); !strings.HasPrefix(got, "200 ") {
			t.Fatalf("reply %d: %q, want NOOP's 200", 2*i+1, got)
		}
	}
	if ts.srv.stallPolls.Load() == polls {
		t.Fatal("the replies drained without a poll resuming the session")
	}
	cl.expect("NOOP", "200 ")
}

// TestStalledPollBacksOff: nothing is polled while no session is stalled;
// a session whose client reads nothing is polled a few times, then once a
// Tick; it resumes once the client reads.
func TestStalledPollBacksOff(t *testing.T) {
	ts := startServer(t, serverOpts{
		reactor: func(c *Config) {
			c.MaxOutbound = 4 << 10
			c.Tick = 250 * time.Millisecond
		},
		protocol: func(c *protocol.Config) {
			c.IdleTimeout = time.Minute
			c.LoginTimeout = time.Minute
		},
	})
	cl := dial(t, ts.addr)
	cl.login()
	if err := cl.c.(*net.TCPConn).SetReadBuffer(32 << 10); err != nil {
		t.Fatal(err)
	}
	help := cl.cmd("HELP")
	if n := ts.srv.stallPolls.Load(); n != 0 {
		t.Fatalf("%d stall polls before any session stalled", n)
	}
	n := (1 << 20) / len(help) // a MiB of replies: far past the buffers
	if _, err := io.WriteString(cl.c, strings.Repeat("HELP\r\n", n)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !anyStalled(ts.srv); {
		if time.Now().After(deadline) {
			t.Fatal("the session was never paused")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // the buffers fill, the backoff reaches Tick
	before := ts.srv.stallPolls.Load()
	time.Sleep(2 * time.Second)
	// Every 250 ms: 8 in 2 s (polling every millisecond would be 2,000).
	if got := ts.srv.stallPolls.Load() - before; got < 4 || got > 16 {
		t.Fatalf("%d stall polls in 2 s of a client reading nothing", got)
	}
	if !anyStalled(ts.srv) {
		t.Fatal("the session resumed while its client read nothing")
	}
	for i := range n {
		if got := cl.reply(); got != help {
			t.Fatalf("reply %d: %q, want HELP's", i, got)
		}
	}
	cl.expect("NOOP", "200 ")
}

// onLoop runs f on s's loop and returns its result; the zero value when
// the loop is gone.
func onLoop[T any](s *Server, f func() T) T {
	ch := make(chan T, 1)
	if !s.execute(func() { ch <- f() }) {
		var zero T
		return zero
	}
	return <-ch
}

// sendBuffers returns, from the loop, the SO_SNDBUF of every control
// connection.
func sendBuffers(s *Server) []int {
	return onLoop(s, func() []int {
		var sizes []int
		for cn := range s.conns {
			n, err := syscall.GetsockoptInt(cn.c.Fd(), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
			if err != nil {
				n = -1
			}
			sizes = append(sizes, n)
		}
		return sizes
	})
}

// anyStalled reports, from the loop, whether a session is paused because
// its replies are not draining.
func anyStalled(s *Server) bool {
	return onLoop(s, func() bool {
		for cn := range s.conns {
			if cn.stalled {
				return true
			}
		}
		return false
	})
}

// TestTicks: deadlines round up to the next tick, the present down; a
// deadline centuries away neither overflows nor comes early.
func TestTicks(t *testing.T) {
	s := New(Config{Tick: 250 * time.Millisecond}, protocol.DefaultConfig(), nil)
	e := s.epoch
	for _, c := range []struct {
		at         time.Duration
		after, at2 int64
	}{
		{-time.Second, 0, 0},
		{0, 0, 0},
		{time.Millisecond, 1, 0},
		{250 * time.Millisecond, 1, 1},
		{251 * time.Millisecond, 2, 1},
		{time.Hour, 14400, 14400},
	} {
		if got := s.tickAtOrAfter(e.Add(c.at)); got != c.after {
			t.Errorf("tickAtOrAfter(+%v) = %d, want %d", c.at, got, c.after)
		}
		if got := s.tickAtOrBefore(e.Add(c.at)); got != c.at2 {
			t.Errorf("tickAtOrBefore(+%v) = %d, want %d", c.at, got, c.at2)
		}
	}
	far := e.AddDate(300, 0, 0) // past the largest Duration
	if got, least := s.tickAtOrAfter(far), s.tickAtOrAfter(e.Add(290*365*24*time.Hour)); got < least {
		t.Errorf("a deadline centuries away is tick %d, before %d", got, least)
	}
	if New(Config{}, protocol.DefaultConfig(), nil).cfg.Tick <= 0 {
		t.Error("a zero Tick is kept")
	}
}

// TestFailRecordsPruned: a refused password's record is forgotten once its
// window is over, by the timer, with the server otherwise idle.
func TestFailRecordsPruned(t *testing.T) {
	ts := startServer(t, serverOpts{writer: true, reactor: func(c *Config) {
		c.BanAfter, c.BanWindow = 5, 3*time.Second
	}})
	records := func() int {
		ch := make(chan int, 1)
		if !ts.srv.execute(func() { ch <- len(ts.srv.guard.fails) }) {
			t.Fatal("the loop is gone")
		}
		return <-ch
	}
	cl := dial(t, ts.addr)
	cl.expect("USER writer", "331 ")
	cl.expect("PASS wrong", "530 ")
	if n := records(); n != 1 {
		t.Fatalf("%d records after a refused password, want 1", n)
	}
	for deadline := time.Now().Add(13 * time.Second); records() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the record was kept 10 s past its window of 3 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStatOnLoop: a SIZE the stat cache can answer is answered on the
// loop (StatNow), with the same reply as from a worker; pipelined behind
// another, each keeps its order; after a DELE the truth comes at once.
func TestStatOnLoop(t *testing.T) {
	ts := startServer(t, serverOpts{writer: true})
	cl := dial(t, ts.addr)
	cl.expect("USER writer", "331 ")
	cl.expect("PASS pw", "230 ")
	cl.expect("TYPE I", "200 ")
	first := cl.expect("SIZE hello.txt", "213 6")
	before := ts.dtp.Stats().StatCacheHits
	if got := cl.expect("SIZE /./hello.txt", "213 "); got != first {
		t.Fatalf("from the cache %q, from a worker %q", got, first)
	}
	cl.send("SIZE hello.txt")
	cl.send("NOOP")
	cl.send("SIZE hello.txt")
	for _, want := range []string{"213 6", "200 ", "213 6"} {
		if got := cl.reply(); !strings.HasPrefix(got, want) {
			t.Fatalf("pipelined: %q, want %q", got, want)
		}
	}
	if hits := ts.dtp.Stats().StatCacheHits - before; hits != 3 {
		t.Fatalf("%d SIZEs answered on the loop, want 3", hits)
	}
	cl.expect("DELE hello.txt", "250 ")
	cl.expect("SIZE hello.txt", "550 ")
}
