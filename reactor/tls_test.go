package reactor

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rftpd/rftpd/dtp"
	"github.com/rftpd/rftpd/protocol"
)

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// returns the file names and a pool trusting it.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rftpd test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// startTLSServer is startServer with FTPS on, an implicit listener too, and
// more settings from more.
func startTLSServer(t *testing.T, more func(*Config)) (*testServer, *tls.Config) {
	t.Helper()
	certFile, keyFile, pool := writeCert(t)
	certs, err := dtp.NewTLS(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, serverOpts{
		reactor: func(c *Config) {
			c.TLS = certs
			c.ImplicitListen = "127.0.0.1:0"
			if more != nil {
				more(c)
			}
		},
		protocol: func(c *protocol.Config) { c.TLS = true },
		dtp:      func(c *dtp.Config) { c.TLS = certs },
	})
	return ts, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
}

// upgrade sends AUTH TLS and switches cl to TLS over conn (cl.c itself, or a
// wrapper of it).
func (cl *client) upgrade(cfg *tls.Config, conn net.Conn) {
	cl.t.Helper()
	cl.expect("AUTH TLS", "234 ")
	tc := tls.Client(conn, cfg)
	_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		cl.t.Fatalf("handshake: %v", err)
	}
	cl.c, cl.r = tc, bufio.NewReader(tc)
}

// expectClosed waits for the server to close cl's connection, failing on
// any reply instead.
func expectClosed(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			t.Fatalf("got %q instead of a closed connection", buf[:n])
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %v", within)
			}
			return
		}
	}
}

func TestTLSControlSession(t *testing.T) {
	ts, ccfg := startTLSServer(t, nil)
	cl := dial(t, ts.addr)
	if got := cl.cmd("FEAT"); !strings.Contains(got, "AUTH TLS") || !strings.Contains(got, "PBSZ") {
		t.Errorf("FEAT does not offer FTPS: %q", got)
	}
	cl.expect("PBSZ 0", "503 ") // not before AUTH
	cl.upgrade(ccfg, cl.c)
	cl.login()
	cl.expect("PBSZ 0", "200 ")
	cl.expect("PROT P", "200 ")
	cl.expect("PWD", "257 ")
	cl.expect("CCC", "534 ")
	cl.expect("AUTH TLS", "503 ")
	cl.expect("QUIT", "221 ")
}

// slowConn writes one byte at a time with a pause, so the server gets TLS
// records in many pieces.
type slowConn struct {
	net.Conn
	pause time.Duration
}

func (s slowConn) Write(b []byte) (int, error) {
	for i := range b {
		if _, err := s.Conn.Write(b[i : i+1]); err != nil {
			return i, err
		}
		time.Sleep(s.pause)
	}
	return len(b), nil
}

// TestTLSRecordsInPieces sends the handshake and every command one byte per
// TCP segment: partial records must wait for their rest, on the handshake
// goroutine and on the loop.
func TestTLSRecordsInPieces(t *testing.T) {
	ts, ccfg := startTLSServer(t, nil)
	cl := dial(t, ts.addr)
	cl.upgrade(ccfg, slowConn{cl.c, 200 * time.Microsecond})
	cl.login()
	for range 3 {
		cl.expect("NOOP", "200 ")
	}
	// Two commands in one record, then a command split over two records.
	cl.send("NOOP\r\nPWD")
	if got := cl.reply(); !strings.HasPrefix(got, "200 ") {
		t.Fatalf("NOOP: %q", got)
	}
	cl.send("")
	if got := cl.reply(); !strings.HasPrefix(got, "257 ") {
		t.Fatalf("PWD: %q", got)
	}
}

// TestTLSPartialRecords pins the crypto/tls behaviour the loop relies on:
// after the handshake, a Read that meets a temporary error from the
// transport returns it without breaking the connection, keeps the part of a
// record it has, and completes the record when the rest arrives.
func TestTLSPartialRecords(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		c   *tls.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		tc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		ch <- result{tc, err}
	}()
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	nb := &nbConn{Conn: raw, blocking: true}
	srv := tls.Server(nb, &tls.Config{Certificates: []tls.Certificate{pair}})
	if err := srv.Handshake(); err != nil {
		t.Fatal(err)
	}
	res := <-ch
	if res.err != nil {
		t.Fatal(res.err)
	}
	defer res.c.Close()

	// The client writes one record; the server gets it a byte at a time.
	if _, err := res.c.Write([]byte("NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	record := make([]byte, 5+6+16+1) // header, text, AEAD tag, TLS 1.3 content type
	if _, err := io.ReadFull(raw, record); err != nil {
		t.Fatal(err)
	}
	nb.blocking = false
	buf := make([]byte, 64)
	for i := range record {
		nb.in = append(nb.in, record[i])
		n, err := srv.Read(buf)
		if i < len(record)-1 {
			var wb *wouldBlock
			if n != 0 || !errors.As(err, &wb) {
				t.Fatalf("byte %d of %d: Read = %d, %v; want 0 and the temporary error", i+1, len(record), n, err)
			}
			continue
		}
		if err != nil || string(buf[:n]) != "NOOP\r\n" {
			t.Fatalf("whole record: Read = %q, %v", buf[:n], err)
		}
	}
	// The connection still works both ways.
	if _, err := srv.Write([]byte("200 ok\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = res.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := res.c.Read(buf); err != nil || string(buf[:n]) != "200 ok\r\n" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
}

// nbConn reads from its socket until blocking is cleared, then only from
// in, returning errWouldBlock when in is empty, as pipe does on the loop.
type nbConn struct {
	net.Conn
	blocking bool
	in       []byte
}

func (c *nbConn) Read(b []byte) (int, error) {
	if c.blocking {
		return c.Conn.Read(b)
	}
	if len(c.in) == 0 {
		return 0, errWouldBlock
	}
	n := copy(b, c.in)
	c.in = c.in[n:]
	return n, nil
}

func TestTLSGarbageInsteadOfClientHello(t *testing.T) {
	ts, _ := startTLSServer(t, nil)
	bad := dial(t, ts.addr)
	bad.expect("AUTH TLS", "234 ")
	if _, err := io.WriteString(bad.c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, bad.c, 5*time.Second)
	// Others are served.
	dial(t, ts.addr).expect("NOOP", "200 ")
	waitHandshakes(t, ts.srv)
}

// TestTLSCommandsAfterAUTHNotRead: a command sent in the clear behind AUTH
// TLS (as an attacker on the path would inject it) is never executed: it is
// fed to the handshake, which fails.
func TestTLSCommandsAfterAUTHNotRead(t *testing.T) {
	ts, _ := startTLSServer(t, nil)
	cl := dial(t, ts.addr)
	cl.send("AUTH TLS\r\nUSER anonymous\r\nPASS x\r\nDELE hello.txt")
	if got := cl.reply(); !strings.HasPrefix(got, "234 ") {
		t.Fatalf("AUTH: %q", got)
	}
	expectClosed(t, cl.c, 5*time.Second)
	if _, err := os.Stat(filepath.Join(ts.root, "hello.txt")); err != nil {
		t.Fatal(err)
	}
	waitHandshakes(t, ts.srv)
}

// TestTLSStalledHandshake: a client that sends AUTH TLS and then nothing is
// closed after the handshake timeout, and the loop serves others meanwhile.
func TestTLSStalledHandshake(t *testing.T) {
	t.Run("others are served meanwhile", func(t *testing.T) {
		// The handshake would hold out for far longer than the test waits
		// for any reply: a loop held by it would leave the NOOP unanswered.
		ts, _ := startTLSServer(t, func(c *Config) { c.HandshakeTimeout = time.Minute })
		stalled := dial(t, ts.addr)
		stalled.expect("AUTH TLS", "234 ")
		other := dial(t, ts.addr)
		other.expect("NOOP", "200 ")
		stalled.c.Close()
		waitHandshakes(t, ts.srv)
	})
	t.Run("closed after the timeout", func(t *testing.T) {
		const timeout = 300 * time.Millisecond
		ts, _ := startTLSServer(t, func(c *Config) { c.HandshakeTimeout = timeout })
		stalled := dial(t, ts.addr)
		start := time.Now()
		stalled.expect("AUTH TLS", "234 ")
		expectClosed(t, stalled.c, replyWait)
		if d := time.Since(start); d < timeout {
			t.Errorf("closed %v after AUTH TLS, before the %v handshake timeout", d, timeout)
		}
		waitHandshakes(t, ts.srv)
	})
}

// TestTLSHandshakeLimit: beyond MaxHandshakes at once, AUTH TLS closes the
// connection; a handshake slot comes back when one ends.
func TestTLSHandshakeLimit(t *testing.T) {
	ts, ccfg := startTLSServer(t, func(c *Config) { c.MaxHandshakes = 1 })
	first := dial(t, ts.addr)
	first.expect("AUTH TLS", "234 ")
	second := dial(t, ts.addr)
	second.expect("AUTH TLS", "234 ")
	expectClosed(t, second.c, 5*time.Second)
	first.c.Close()
	waitHandshakes(t, ts.srv)
	third := dial(t, ts.addr)
	third.upgrade(ccfg, third.c)
	third.expect("NOOP", "200 ")
}

func TestTLSImplicit(t *testing.T) {
	ts, ccfg := startTLSServer(t, nil)
	ia := ts.srv.ImplicitAddr()
	if ia == nil {
		t.Fatal("no implicit listener")
	}
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ia.String(), ccfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	cl := &client{t: t, c: tc, r: bufio.NewReader(tc)}
	if got := cl.reply(); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting %q", got)
	}
	cl.login()
	cl.expect("PBSZ 0", "200 ")
	cl.expect("PROT P", "200 ")
	cl.expect("QUIT", "221 ")

	// A plain client on the implicit port gets no plain-text reply.
	raw, err := net.DialTimeout("tcp", ia.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := io.WriteString(raw, "USER anonymous\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(raw)
	if strings.Contains(string(b), "331") || strings.Contains(string(b), "220") {
		t.Fatalf("plain reply on the implicit listener: %q", b)
	}
}

// TestTLSOverlongLine: the line limit holds inside TLS too.
func TestTLSOverlongLine(t *testing.T) {
	ts, ccfg := startTLSServer(t, func(c *Config) { c.MaxInbound = 8 << 10 })
	cl := dial(t, ts.addr)
	cl.upgrade(ccfg, cl.c)
	junk := strings.Repeat("x", 4000) // overlong lines: 500, then discarded
	cl.send(junk)
	if got := cl.reply(); !strings.HasPrefix(got, "500 ") {
		t.Fatalf("overlong line: %q", got)
	}
	cl.expect("NOOP", "200 ")
}

func waitHandshakes(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.guard.handshakes.Used() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d TLS handshakes still running", s.guard.handshakes.Used())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
