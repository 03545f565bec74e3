// Test helpers: a server with one account, an event collector, data clients.
package dtp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/rftpd/rftpd/protocol"
)

// wait bounds every wait in the tests: a test that hangs fails instead.
const wait = 20 * time.Second

// collector stands in for the reactor: it records posted events in order.
type collector struct{ ch chan protocol.Event }

func newCollector() *collector { return &collector{ch: make(chan protocol.Event, 256)} }

func (c *collector) post(ev protocol.Event) { c.ch <- ev }

func (c *collector) next(t *testing.T) protocol.Event {
	t.Helper()
	select {
	case ev := <-c.ch:
		return ev
	case <-time.After(wait):
		t.Fatal("no event posted")
		return nil
	}
}

// none checks that nothing is posted within d.
func (c *collector) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-c.ch:
		t.Fatalf("unexpected event %#v", ev)
	case <-time.After(d):
	}
}

// expect returns the next event, which must be of type E.
func expect[E protocol.Event](t *testing.T, c *collector) E {
	t.Helper()
	ev := c.next(t)
	e, ok := ev.(E)
	if !ok {
		var zero E
		t.Fatalf("got %#v, want %T", ev, zero)
	}
	return e
}

// testHash is a cheap bcrypt hash of "secret".
var testHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// env is a server with one account "u" (password "secret") rooted at a
// fresh directory, and one logged-in session.
type env struct {
	t    *testing.T
	dir  string
	srv  *Server
	acc  *Accounts
	sess *Session
	ev   *collector
}

var (
	ctlLocal  = netip.MustParseAddrPort("127.0.0.1:2121")
	ctlRemote = netip.MustParseAddrPort("127.0.0.1:40000")
)

func writeAccounts(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "accounts.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newEnv starts a server (cfg may be nil for the defaults) whose user has
// perms (all when none given) and logs a session in.
func newEnv(t *testing.T, cfg *Config, perms ...string) *env {
	t.Helper()
	return newEnvIn(t, t.TempDir(), cfg, perms...)
}

// newEnvIn is newEnv with the account rooted at dir.
func newEnvIn(t *testing.T, dir string, cfg *Config, perms ...string) *env {
	t.Helper()
	if perms == nil {
		perms = []string{"read", "write", "delete", "rename", "mkdir"}
	}
	body := fmt.Sprintf("[[user]]\nname = \"u\"\npassword = %q\nroot = %q\npermissions = [\"%s\"]\n",
		testHash, dir, strings.Join(perms, `", "`))
	acc, err := LoadAccounts(writeAccounts(t, body))
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	srv, err := New(c, acc)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, srv: srv, acc: acc, ev: newCollector()}
	t.Cleanup(func() {
		srv.CloseSession(e.sess)
		deadline := time.Now().Add(wait)
		for srv.Transfers() > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		srv.Close()
		acc.Close()
	})
	e.sess = srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
	e.do(protocol.ReqLogin{User: "u", Pass: "secret"})
	if ev := expect[protocol.EvLogin](t, e.ev); !ev.OK {
		t.Fatalf("login: %#v", ev)
	}
	return e
}

func (e *env) do(req protocol.Request) { e.srv.Do(e.sess, req, e.ev.post) }

// file helpers on the real directory
func (e *env) write(name string, data []byte) {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) read(name string) []byte {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, name))
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// pasv asks for a passive endpoint and returns its address.
func (e *env) pasv() netip.AddrPort {
	e.t.Helper()
	e.do(protocol.ReqPassive{})
	ev := expect[protocol.EvPassive](e.t, e.ev)
	if ev.Err != nil {
		e.t.Fatalf("passive: %v", ev.Err)
	}
	return ev.Addr
}

// dialFrom connects to addr from the local address from (port 0).
func dialFrom(t *testing.T, from string, addr netip.AddrPort) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: wait, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// download runs a passive transfer that sends data to the client and
// returns what the client received, with the start and done events.
func (e *env) download(req protocol.ReqTransfer) ([]byte, protocol.EvTransferStart, protocol.EvTransferDone) {
	e.t.Helper()
	addr := e.pasv()
	c := dialFrom(e.t, "127.0.0.1", addr)
	e.do(req)
	c.SetDeadline(time.Now().Add(wait))
	data, err := io.ReadAll(c)
	if err != nil {
		e.t.Fatalf("data read: %v", err)
	}
	st := expect[protocol.EvTransferStart](e.t, e.ev)
	done := expect[protocol.EvTransferDone](e.t, e.ev)
	return data, st, done
}

// retrOver runs RETR of path over c, a data connection already made to
// the pending endpoint, and returns what c received; the transfer must
// succeed.
func (e *env) retrOver(c *net.TCPConn, path string) []byte {
	e.t.Helper()
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: path})
	c.SetDeadline(time.Now().Add(wait))
	got, err := io.ReadAll(c)
	mustOK(e.t, err)
	expect[protocol.EvTransferStart](e.t, e.ev)
	mustOK(e.t, expect[protocol.EvTransferDone](e.t, e.ev).Err)
	return got
}

// upload runs a passive transfer that sends data to the server.
func (e *env) upload(req protocol.ReqTransfer, data []byte) (protocol.EvTransferStart, protocol.EvTransferDone) {
	e.t.Helper()
	addr := e.pasv()
	c := dialFrom(e.t, "127.0.0.1", addr)
	e.do(req)
	c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write(data); err != nil {
		e.t.Fatalf("data write: %v", err)
	}
	c.Close()
	st := expect[protocol.EvTransferStart](e.t, e.ev)
	done := expect[protocol.EvTransferDone](e.t, e.ev)
	return st, done
}

// mustErr checks that err wraps want.
func mustErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var fsErrNotExist = fs.ErrNotExist

func protocolRetr(p string) protocol.Request {
	return protocol.ReqTransfer{Kind: protocol.XferRetr, Path: p}
}

func protocolAbort() protocol.Request { return protocol.ReqAbort{} }

func expectStart(t *testing.T, e *env) protocol.EvTransferStart {
	t.Helper()
	return expect[protocol.EvTransferStart](t, e.ev)
}

func expectDone(t *testing.T, e *env) protocol.EvTransferDone {
	t.Helper()
	return expect[protocol.EvTransferDone](t, e.ev)
}
