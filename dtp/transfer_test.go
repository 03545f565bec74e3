// Tests of data transfers end to end over real sockets on 127.0.0.1.
package dtp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestRetr(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(100_000, 1)
	e.write("pub/f.bin", data)

	got, st, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "/pub/f.bin"})
	mustOK(t, done.Err)
	if !bytes.Equal(got, data) || done.Bytes != int64(len(data)) || st.Size != int64(len(data)) {
		t.Fatalf("got %d bytes (done %d, size %d), want %d", len(got), done.Bytes, st.Size, len(data))
	}
	if st.Progress() != int64(len(data)) {
		t.Fatalf("progress %d", st.Progress())
	}

	got, st, done = e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "/pub/f.bin", Offset: 12345})
	mustOK(t, done.Err)
	if !bytes.Equal(got, data[12345:]) || st.Size != int64(len(data)-12345) {
		t.Fatalf("REST: got %d bytes, size %d", len(got), st.Size)
	}

	got, st, done = e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "/pub/f.bin", Offset: int64(len(data))})
	mustOK(t, done.Err)
	if len(got) != 0 || st.Size != 0 {
		t.Fatalf("REST at the end: got %d bytes, size %d", len(got), st.Size)
	}
}

func TestRetrLarge(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(20<<20, 2)
	e.write("big", data)
	got, _, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "big"})
	mustOK(t, done.Err)
	if !bytes.Equal(got, data) || done.Bytes != int64(len(data)) {
		t.Fatalf("got %d bytes, done says %d, want %d", len(got), done.Bytes, len(data))
	}
}

// A failure before the data connection is used answers with
// EvTransferDone alone.
func TestRetrFailsEarly(t *testing.T) {
	e := newEnv(t, nil)
	e.write("d/x", nil)
	for _, tc := range []struct {
		path string
		want error
	}{
		{"/missing", fsErrNotExist},
		{"/d", protocol.ErrIsDir},
		{"/d/x/y", protocol.ErrNotDir},
		{"/../../etc/passwd", fsErrNotExist}, // clamped to /etc/passwd inside the root
	} {
		e.pasv()
		e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: tc.path})
		done := expect[protocol.EvTransferDone](t, e.ev)
		mustErr(t, done.Err, tc.want)
	}
	// No endpoint at all.
	e.write("f", []byte("x"))
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "/f"})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrNoEndpoint)
}

func TestTypeA(t *testing.T) {
	e := newEnv(t, nil)
	// Unix text: bare LFs become CRLF; an existing CRLF stays; a lone CR stays.
	e.write("t.txt", []byte("one\ntwo\r\nthree\rfour\n\n"))
	got, st, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "t.txt", ASCII: true})
	mustOK(t, done.Err)
	if want := "one\r\ntwo\r\nthree\rfour\r\n\r\n"; string(got) != want || st.Size != -1 || done.Bytes != int64(len(want)) {
		t.Fatalf("RETR TYPE A: %q (size %d, bytes %d)", got, st.Size, done.Bytes)
	}

	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "u.txt", ASCII: true},
		[]byte("a\r\nb\r\n\r\nc\rd\r"))
	mustOK(t, done.Err)
	if got := string(e.read("u.txt")); got != "a\nb\n\nc\rd\r" {
		t.Fatalf("STOR TYPE A stored %q", got)
	}

	// Larger than one buffer, CRLFs straddling buffer edges both ways.
	var text bytes.Buffer
	for i := 0; text.Len() < 300_000; i++ {
		text.WriteString(strings.Repeat("x", i%97))
		text.WriteByte('\n')
	}
	e.write("big.txt", text.Bytes())
	got, _, done = e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "big.txt", ASCII: true})
	mustOK(t, done.Err)
	if want := bytes.ReplaceAll(text.Bytes(), []byte("\n"), []byte("\r\n")); !bytes.Equal(got, want) {
		t.Fatal("RETR TYPE A of a big file differs")
	}
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "big2.txt", ASCII: true}, got)
	mustOK(t, done.Err)
	if !bytes.Equal(e.read("big2.txt"), text.Bytes()) {
		t.Fatal("STOR TYPE A of a big file differs")
	}
}

func TestStorAppeStou(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(3<<20+17, 3)
	st, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/up/../s.bin"}, data)
	mustOK(t, done.Err)
	if !bytes.Equal(e.read("s.bin"), data) || done.Bytes != int64(len(data)) || st.Size != -1 {
		t.Fatalf("STOR: %d bytes stored", done.Bytes)
	}

	// STOR truncates an existing, longer file.
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "s.bin"}, []byte("short"))
	mustOK(t, done.Err)
	if got := string(e.read("s.bin")); got != "short" {
		t.Fatalf("STOR over a file: %q", got)
	}

	// APPE appends; twice.
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "s.bin"}, []byte(" and more"))
	mustOK(t, done.Err)
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "new.bin"}, []byte("fresh"))
	mustOK(t, done.Err)
	if got := string(e.read("s.bin")); got != "short and more" {
		t.Fatalf("APPE: %q", got)
	}
	if got := string(e.read("new.bin")); got != "fresh" {
		t.Fatalf("APPE to a new file: %q", got)
	}

	// STOR with REST overwrites from the offset and ends where the data ends.
	e.write("r.bin", []byte("0123456789"))
	_, done = e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "r.bin", Offset: 4}, []byte("ab"))
	mustOK(t, done.Err)
	if got := string(e.read("r.bin")); got != "0123ab" {
		t.Fatalf("STOR with REST: %q", got)
	}

	// STOU makes two distinct files in the directory.
	e.write("inbox/keep", nil)
	var names []string
	for i, body := range []string{"first", "second"} {
		st, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/inbox"}, []byte(body))
		mustOK(t, done.Err)
		if !strings.HasPrefix(st.Name, "stou.") || strings.Contains(st.Name, "/") {
			t.Fatalf("STOU name %q", st.Name)
		}
		if got := string(e.read(path.Join("inbox", st.Name))); got != body {
			t.Fatalf("STOU %d stored %q", i, got)
		}
		names = append(names, st.Name)
	}
	if names[0] == names[1] {
		t.Fatal("STOU reused a name")
	}

	// Uploads that cannot work are refused before the data connection.
	for _, tc := range []struct {
		req  protocol.ReqTransfer
		want error
	}{
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/inbox"}, protocol.ErrIsDir},
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/"}, protocol.ErrIsDir},
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/nodir/x"}, fsErrNotExist},
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/nodir/deeper/x"}, fsErrNotExist},
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/s.bin/x"}, protocol.ErrNotDir},
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/s.bin/x/y"}, protocol.ErrNotDir},
		{protocol.ReqTransfer{Kind: protocol.XferAppe, Path: "/s.bin/x"}, protocol.ErrNotDir},
		{protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/inbox/.."}, protocol.ErrIsDir},
		{protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/s.bin"}, protocol.ErrNotDir},
	} {
		e.pasv()
		e.do(tc.req)
		mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, tc.want)
	}
}

// A STOR whose data connection never comes leaves the old file alone.
func TestStorFailedDataConnKeepsFile(t *testing.T) {
	e := newEnv(t, nil)
	e.write("keep.txt", []byte("precious"))

	// Active mode to a port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustOK(t, err)
	dead := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	for _, kind := range []protocol.XferKind{protocol.XferStor, protocol.XferAppe} {
		e.do(protocol.ReqActive{Addr: dead})
		e.do(protocol.ReqTransfer{Kind: kind, Path: "keep.txt"})
		done := expect[protocol.EvTransferDone](t, e.ev)
		mustErr(t, done.Err, protocol.ErrDataConn)
	}

	// Passive, aborted before the client connects.
	e.pasv()
	e.do(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "keep.txt"})
	e.ev.none(t, 50*time.Millisecond)
	e.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)

	if got := string(e.read("keep.txt")); got != "precious" {
		t.Fatalf("file now holds %q", got)
	}
}

func TestAbortRetr(t *testing.T) {
	e := newEnv(t, nil)
	e.write("big", randomBytes(32<<20, 4))
	addr := e.pasv()
	c := dialFrom(t, "127.0.0.1", addr)
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "big"})
	st := expect[protocol.EvTransferStart](t, e.ev)
	// Read a little, then stop reading: the server blocks in sendfile.
	if _, err := io.ReadFull(c, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for st.Progress() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if e.srv.Transfers() != 1 {
		t.Fatalf("Transfers() = %d", e.srv.Transfers())
	}
	e.do(protocol.ReqAbort{})
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustErr(t, done.Err, protocol.ErrAborted)
	if done.Bytes <= 0 || done.Bytes >= 32<<20 {
		t.Fatalf("aborted after %d bytes", done.Bytes)
	}
	if n := e.srv.Transfers(); n != 0 {
		t.Fatalf("Transfers() = %d after the abort", n)
	}
	// The client sees the connection end.
	c.SetDeadline(time.Now().Add(wait))
	if _, err := io.Copy(io.Discard, c); err != nil && !isReset(err) {
		t.Fatal(err)
	}
}

func TestAbortStor(t *testing.T) {
	e := newEnv(t, nil)
	addr := e.pasv()
	c := dialFrom(t, "127.0.0.1", addr)
	e.do(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "part"})
	st := expect[protocol.EvTransferStart](t, e.ev)
	c.Write([]byte("some data"))
	deadline := time.Now().Add(wait)
	for st.Progress() < 9 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	e.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
}

// A client that vanishes mid-download ends the transfer at once.
func TestClientVanishes(t *testing.T) {
	e := newEnv(t, nil)
	e.write("big", randomBytes(32<<20, 5))
	addr := e.pasv()
	c := dialFrom(t, "127.0.0.1", addr)
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "big"})
	expect[protocol.EvTransferStart](t, e.ev)
	io.ReadFull(c, make([]byte, 1000))
	c.SetLinger(0)
	c.Close() // RST
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustErr(t, done.Err, protocol.ErrDataConn)
	if errors.Is(done.Err, protocol.ErrAborted) {
		t.Fatal("a vanished client is not an abort")
	}
}

func TestForeignDataConnRefused(t *testing.T) {
	var seen []netip.AddrPort
	cfg := DefaultConfig()
	cfg.OnForeignData = func(_, data netip.AddrPort) { seen = append(seen, data) }
	e := newEnv(t, &cfg)
	e.write("f", []byte("for the right client"))
	addr := e.pasv()
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})

	thief := dialFrom(t, "127.0.0.2", addr)
	thief.SetDeadline(time.Now().Add(wait))
	if b, _ := io.ReadAll(thief); len(b) != 0 {
		t.Fatalf("the connection from 127.0.0.2 got %q", b)
	}
	e.ev.none(t, 20*time.Millisecond)

	c := dialFrom(t, "127.0.0.1", addr)
	c.SetDeadline(time.Now().Add(wait))
	got, err := io.ReadAll(c)
	mustOK(t, err)
	expect[protocol.EvTransferStart](t, e.ev)
	mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)
	if string(got) != "for the right client" {
		t.Fatalf("got %q", got)
	}
	if e.srv.ForeignData() != 1 || len(seen) != 1 || seen[0].Addr() != netip.MustParseAddr("127.0.0.2") {
		t.Fatalf("foreign count %d, hook saw %v", e.srv.ForeignData(), seen)
	}
}

func TestActive(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(1<<20, 6)
	e.write("f", data)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustOK(t, err)
	defer ln.Close()

	// A passive listener is dropped by PORT: it goes back to the pool of
	// idle listeners, where a connection to it carries nothing.
	pasv := e.pasv()
	e.do(protocol.ReqActive{Addr: ln.Addr().(*net.TCPAddr).AddrPort()})
	if n := e.srv.lns.idleCount(); n != 1 {
		t.Fatalf("%d idle listeners after PORT, want 1", n)
	}
	stray, err := net.DialTimeout("tcp", pasv.String(), wait)
	mustOK(t, err)
	defer stray.Close()

	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})
	c, err := ln.Accept()
	mustOK(t, err)
	defer c.Close()
	if from := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr(); from != ctlLocal.Addr() {
		t.Fatalf("dialled from %v", from)
	}
	c.SetDeadline(time.Now().Add(wait))
	got, err := io.ReadAll(c)
	mustOK(t, err)
	expect[protocol.EvTransferStart](t, e.ev)
	mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)
	if !bytes.Equal(got, data) {
		t.Fatal("active RETR differs")
	}

	// The address is used once: a second transfer has no endpoint.
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrNoEndpoint)

	// Active upload.
	e.do(protocol.ReqActive{Addr: ln.Addr().(*net.TCPAddr).AddrPort()})
	e.do(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "g"})
	c2, err := ln.Accept()
	mustOK(t, err)
	c2.Write(data)
	c2.Close()
	expect[protocol.EvTransferStart](t, e.ev)
	mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)
	if !bytes.Equal(e.read("g"), data) {
		t.Fatal("active STOR differs")
	}

	// The next PASV takes that listener again, and the connection that
	// waited on it while it was idle is closed without a byte.
	if again := e.pasv(); again != pasv {
		t.Fatalf("PASV after reuse announced %v, want the idle %v", again, pasv)
	}
	stray.SetDeadline(time.Now().Add(wait))
	if n, err := stray.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the stray connection read %d bytes, %v; want it closed", n, err)
	}
}

// An active dial that hangs is cancelled by the abort.
func TestAbortDial(t *testing.T) {
	e := newEnv(t, nil)
	// 10.255.255.1 is not routed here: the SYN goes unanswered (or the
	// dial fails at once); either way the transfer ends.
	e.do(protocol.ReqActive{Addr: netip.MustParseAddrPort("10.255.255.1:9")})
	e.do(protocol.ReqTransfer{Kind: protocol.XferList, Path: "/"})
	time.Sleep(20 * time.Millisecond)
	e.do(protocol.ReqAbort{})
	done := expect[protocol.EvTransferDone](t, e.ev)
	if !errors.Is(done.Err, protocol.ErrAborted) && !errors.Is(done.Err, protocol.ErrDataConn) {
		t.Fatalf("got %v", done.Err)
	}
}

func TestPassiveRange(t *testing.T) {
	// Find two free ports next to each other (best effort).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustOK(t, err)
	p := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	cfg := DefaultConfig()
	cfg.PassiveLow, cfg.PassiveHigh = p, p
	cfg.PublicHost = netip.MustParseAddr("192.0.2.7")
	e := newEnv(t, &cfg)

	a := e.pasv()
	if a != netip.AddrPortFrom(cfg.PublicHost, p) {
		t.Fatalf("announced %v", a)
	}
	// The same session asking again gets the same (only) port: the old
	// listener is closed first.
	if a2 := e.pasv(); a2.Port() != p {
		t.Fatalf("second PASV on %v", a2)
	}
	// Another session finds the range exhausted.
	other := e.srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
	defer e.srv.CloseSession(other)
	e.srv.Do(other, protocol.ReqPassive{}, e.ev.post)
	if ev := expect[protocol.EvPassive](t, e.ev); ev.Err == nil {
		t.Fatalf("got %v from an exhausted range", ev.Addr)
	}
	// Once the first session is done with it, the port is free again.
	e.do(protocol.ReqLogout{})
	e.srv.Do(other, protocol.ReqPassive{}, e.ev.post)
	if ev := expect[protocol.EvPassive](t, e.ev); ev.Err != nil || ev.Addr.Port() != p {
		t.Fatalf("after logout: %v %v", ev.Addr, ev.Err)
	}
}

func TestTransferLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxTransfers = 1
	e := newEnv(t, &cfg)
	e.pasv()
	e.do(protocol.ReqTransfer{Kind: protocol.XferList, Path: "/"}) // waits for a client

	other := e.srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
	defer e.srv.CloseSession(other)
	col := newCollector()
	start := time.Now()
	e.srv.Do(other, protocol.ReqTransfer{Kind: protocol.XferList, Path: "/"}, col.post)
	if time.Since(start) > time.Second {
		t.Fatal("Do blocked")
	}
	mustErr(t, expect[protocol.EvTransferDone](t, col).Err, protocol.ErrBusy)
	if n := e.srv.Transfers(); n != 1 {
		t.Fatalf("Transfers() = %d", n)
	}
	e.srv.CloseSession(e.sess)
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
	if n := e.srv.Transfers(); n != 0 {
		t.Fatalf("Transfers() = %d", n)
	}
}

func TestTransferPermissions(t *testing.T) {
	e := newEnv(t, nil, "write")
	e.write("f", []byte("x"))
	for _, kind := range []protocol.XferKind{protocol.XferRetr, protocol.XferList, protocol.XferNlst, protocol.XferMlsd} {
		e.pasv()
		e.do(protocol.ReqTransfer{Kind: kind, Path: "/f"})
		mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrPermission)
	}
	r := newEnv(t, nil, "read")
	for _, kind := range []protocol.XferKind{protocol.XferStor, protocol.XferAppe, protocol.XferStou} {
		r.pasv()
		r.do(protocol.ReqTransfer{Kind: kind, Path: "/f"})
		mustErr(t, expect[protocol.EvTransferDone](t, r.ev).Err, protocol.ErrPermission)
	}
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || errors.Is(err, net.ErrClosed))
}

func TestStorLarge(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(20<<20, 12)
	_, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "big"}, data)
	mustOK(t, done.Err)
	if !bytes.Equal(e.read("big"), data) || done.Bytes != int64(len(data)) {
		t.Fatalf("stored %d bytes", done.Bytes)
	}
}

// TestStorSizes stores files around the size read before splicing
// (headMax), in place and atomically, with and without a file there
// before: each arrives whole, and the transfer counts its bytes.
func TestStorSizes(t *testing.T) {
	for _, atomic := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.AtomicUploads = atomic
		e := newEnv(t, &cfg)
		e.write("old", randomBytes(3*headMax, 3))
		for i, size := range []int{0, 1, 4096, headMax - 1, headMax, headMax + 1, 3*headMax + 5} {
			data := randomBytes(size, uint64(i))
			for _, name := range []string{"old", fmt.Sprintf("new%d", i)} {
				_, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: name}, data)
				mustOK(t, done.Err)
				if got := e.read(name); !bytes.Equal(got, data) || done.Bytes != int64(size) {
					t.Errorf("atomic %v: %d bytes to %s: stored %d, counted %d", atomic, size, name, len(got), done.Bytes)
				}
			}
		}
	}
}

// Control connections over IPv6, and IPv4 seen through a dual-stack
// socket (::ffff:127.0.0.1), both work; the mapped form is announced and
// compared as plain IPv4.
func TestControlAddressFamilies(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback")
	} else {
		ln.Close()
	}
	for _, tc := range []struct{ local, remote, dialFrom, announce string }{
		{"[::1]:21", "[::1]:4000", "::1", "::1"},
		{"[::ffff:127.0.0.1]:21", "[::ffff:127.0.0.1]:4000", "127.0.0.1", "127.0.0.1"},
	} {
		e := newEnv(t, nil)
		e.write("f", []byte("data"))
		e.sess = e.srv.NewSession(protocol.ConnInfo{
			Local: netip.MustParseAddrPort(tc.local), Remote: netip.MustParseAddrPort(tc.remote)})
		e.do(protocol.ReqLogin{User: "u", Pass: "secret"})
		expect[protocol.EvLogin](t, e.ev)
		addr := e.pasv()
		if addr.Addr() != netip.MustParseAddr(tc.announce) {
			t.Fatalf("%s: announced %v", tc.local, addr)
		}
		got := e.retrOver(dialFrom(t, tc.dialFrom, addr), "f")
		if string(got) != "data" {
			t.Fatalf("%s: got %q", tc.local, got)
		}
	}
}

// A TYPE I download's EvTransferStart is posted after the first sendfile
// call. A file that call sent whole has it held until just before
// EvTransferDone, after the data connection closed, so the reactor writes
// 150 and 226 together; a larger file has it posted while its data still
// flows.
func TestDownloadStartTiming(t *testing.T) {
	e := newEnv(t, nil)
	small := randomBytes(4096, 81)
	large := randomBytes(32<<20, 82)
	e.write("small", small)
	e.write("large", large)

	// starts receives each EvTransferStart as it is posted; the transfer's
	// goroutine waits in post until the test lets it go on.
	starts := make(chan protocol.EvTransferStart)
	resume := make(chan struct{})
	post := func(ev protocol.Event) {
		if st, ok := ev.(protocol.EvTransferStart); ok {
			starts <- st
			<-resume
		}
		e.ev.post(ev)
	}
	retr := func(name string) (*net.TCPConn, protocol.EvTransferStart) {
		c := dialFrom(t, "127.0.0.1", e.pasv())
		e.srv.Do(e.sess, protocol.ReqTransfer{Kind: protocol.XferRetr, Path: name}, post)
		select {
		case st := <-starts:
			return c, st
		case <-time.After(wait):
			t.Fatalf("RETR %s: no EvTransferStart", name)
			return nil, protocol.EvTransferStart{}
		}
	}

	// While the small file's start waits to be posted, the client can
	// already read the whole file and its end.
	c, st := retr("small")
	if st.Size != int64(len(small)) || st.Progress() != int64(len(small)) {
		t.Errorf("small: start with size %d, progress %d; want both %d", st.Size, st.Progress(), len(small))
	}
	c.SetDeadline(time.Now().Add(wait))
	got, err := io.ReadAll(c)
	close(resume)
	mustOK(t, err)
	if !bytes.Equal(got, small) {
		t.Fatalf("small: got %d bytes", len(got))
	}
	expect[protocol.EvTransferStart](t, e.ev)
	mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)

	// The large file's start is posted once the first call has filled the
	// socket's buffers: most of the file is still to come.
	resume = make(chan struct{})
	c, st = retr("large")
	if p := st.Progress(); p == 0 || p >= int64(len(large)) {
		t.Errorf("large: start posted after %d of %d bytes; want after the first call, before the end", p, len(large))
	}
	close(resume)
	c.SetDeadline(time.Now().Add(wait))
	got, err = io.ReadAll(c)
	mustOK(t, err)
	if !bytes.Equal(got, large) {
		t.Fatalf("large: got %d bytes", len(got))
	}
	expect[protocol.EvTransferStart](t, e.ev)
	mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)
}
