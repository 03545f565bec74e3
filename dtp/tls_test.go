// Tests of FTPS: certificates and reload, session tickets binding data connections, protected transfers.
package dtp

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// testCert is a throwaway self-signed ECDSA certificate and its key, as
// PEM files.
type testCert struct {
	certFile, keyFile string
	certPEM, keyPEM   []byte
	cert              *x509.Certificate
}

// makeCert makes a certificate for localhost and 127.0.0.1 and writes it
// to dir as name.crt and name.key.
func makeCert(t *testing.T, dir, name string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mustOK(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	mustOK(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	mustOK(t, err)
	cert, err := x509.ParseCertificate(der)
	mustOK(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	mustOK(t, err)
	c := testCert{
		certFile: filepath.Join(dir, name+".crt"),
		keyFile:  filepath.Join(dir, name+".key"),
		certPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		cert:     cert,
	}
	mustOK(t, os.WriteFile(c.certFile, c.certPEM, 0o644))
	mustOK(t, os.WriteFile(c.keyFile, c.keyPEM, 0o600))
	return c
}

// tlsFix is a TLS made from a fresh certificate, and a pool trusting it.
type tlsFix struct {
	tl   *TLS
	pool *x509.CertPool
	cert testCert
}

func newTLSFix(t *testing.T) *tlsFix {
	t.Helper()
	c := makeCert(t, t.TempDir(), "server")
	tl, err := NewTLS(c.certFile, c.keyFile)
	mustOK(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(c.cert)
	return &tlsFix{tl: tl, pool: pool, cert: c}
}

// client returns a client configuration for TLS version v that trusts
// the fixture's certificate and keeps tickets in cache (nil: none).
func (f *tlsFix) client(v uint16, cache tls.ClientSessionCache) *tls.Config {
	return &tls.Config{
		ServerName:         "localhost", // the cache key: the same for control and data connections
		RootCAs:            f.pool,
		MinVersion:         v,
		MaxVersion:         v,
		ClientSessionCache: cache,
	}
}

// ticketCache is a client session cache that counts the tickets put in it.
type ticketCache struct {
	tls.ClientSessionCache
	puts atomic.Int32
}

func newTicketCache() *ticketCache {
	return &ticketCache{ClientSessionCache: tls.NewLRUClientSessionCache(4)}
}

func (c *ticketCache) Put(key string, cs *tls.ClientSessionState) {
	if cs != nil {
		c.puts.Add(1)
	}
	c.ClientSessionCache.Put(key, cs)
}

// control makes a TLS control connection whose server side uses
// ControlConfig(tag) and reads its first reply, by which time the client
// holds the session ticket (TLS 1.3 sends it after the handshake, before
// any data). It fails the test if no ticket reached cache.
func (f *tlsFix) control(t *testing.T, tag []byte, ccfg *tls.Config, cache *ticketCache) {
	t.Helper()
	a, b := tcpPair(t)
	srv := make(chan error, 1)
	go func() {
		s := tls.Server(b, f.tl.ControlConfig(tag))
		err := s.Handshake()
		if err == nil {
			_, err = s.Write([]byte("220 ready\r\n"))
		}
		srv <- err
	}()
	before := cache.puts.Load()
	c := tls.Client(a, ccfg)
	t.Cleanup(func() { c.Close() })
	if _, err := io.ReadFull(c, make([]byte, 11)); err != nil {
		t.Fatalf("control connection: %v", err)
	}
	mustOK(t, <-srv)
	if cache.puts.Load() == before {
		t.Fatal("the control connection issued no session ticket")
	}
}

// boundClient makes a TLS control connection for e's session, tells the
// session its tag, and returns a client configuration whose cache holds
// the control connection's ticket.
func (f *tlsFix) boundClient(t *testing.T, e *env, v uint16) (*tls.Config, *ticketCache) {
	t.Helper()
	tag := NewTag()
	e.sess.SetControlTLS(tag)
	cache := newTicketCache()
	ccfg := f.client(v, cache)
	f.control(t, tag, ccfg, cache)
	return ccfg, cache
}

// newTLSEnv is newEnv on a server with FTPS; mod changes its config.
func newTLSEnv(t *testing.T, mod func(*Config)) (*env, *tlsFix) {
	t.Helper()
	f := newTLSFix(t)
	cfg := DefaultConfig()
	cfg.TLS = f.tl
	if mod != nil {
		mod(&cfg)
	}
	return newEnv(t, &cfg), f
}

// protectedStart opens a passive data connection, sends req with Protect
// set and returns the client's TLS side (its handshake not yet run) and
// the TCP connection under it.
func (e *env) protectedStart(req protocol.ReqTransfer, ccfg *tls.Config) (*tls.Conn, *net.TCPConn) {
	e.t.Helper()
	raw := dialFrom(e.t, "127.0.0.1", e.pasv())
	raw.SetDeadline(time.Now().Add(wait))
	req.Protect = true
	e.do(req)
	return tls.Client(raw, ccfg), raw
}

// protectedDownload runs a protected passive transfer towards the client
// and returns what it received and whether its handshake resumed.
func (e *env) protectedDownload(req protocol.ReqTransfer, ccfg *tls.Config) ([]byte, bool, protocol.EvTransferStart, protocol.EvTransferDone) {
	e.t.Helper()
	c, _ := e.protectedStart(req, ccfg)
	defer c.Close()
	data, err := io.ReadAll(c)
	ev := e.ev.next(e.t)
	if done, ok := ev.(protocol.EvTransferDone); ok {
		e.t.Fatalf("protected transfer failed: %v (client: %v)", done.Err, err)
	}
	if err != nil {
		e.t.Fatalf("protected read: %v", err)
	}
	st, ok := ev.(protocol.EvTransferStart)
	if !ok {
		e.t.Fatalf("got %#v, want EvTransferStart", ev)
	}
	done := expect[protocol.EvTransferDone](e.t, e.ev)
	return data, c.ConnectionState().DidResume, st, done
}

// protectedUpload runs a protected passive upload of data. The client
// ends its data with close_notify, or with a bare TCP FIN when fin is
// set, and then reads to the end (the server's close_notify; under TLS
// 1.3 the data connection's ticket comes first).
func (e *env) protectedUpload(req protocol.ReqTransfer, ccfg *tls.Config, data []byte, fin bool) (protocol.EvTransferStart, protocol.EvTransferDone) {
	e.t.Helper()
	c, raw := e.protectedStart(req, ccfg)
	defer c.Close()
	if _, err := c.Write(data); err != nil {
		e.t.Fatalf("protected write: %v", err)
	}
	if fin {
		mustOK(e.t, raw.CloseWrite())
	} else {
		mustOK(e.t, c.CloseWrite())
	}
	if _, err := io.Copy(io.Discard, c); err != nil {
		e.t.Fatalf("protected read after the upload: %v", err)
	}
	st := expect[protocol.EvTransferStart](e.t, e.ev)
	done := expect[protocol.EvTransferDone](e.t, e.ev)
	return st, done
}

// protectedRefused runs a protected transfer the server must refuse: its
// EvTransferStart comes (the 150 reply goes before the data handshake),
// then EvTransferDone with the refusal. It returns the error and whether
// the client's handshake resumed.
func (e *env) protectedRefused(req protocol.ReqTransfer, ccfg *tls.Config) (error, bool) {
	e.t.Helper()
	c, _ := e.protectedStart(req, ccfg)
	defer c.Close()
	if c.Handshake() == nil {
		// The server closes the connection without a byte of data.
		if n, _ := io.Copy(io.Discard, c); n != 0 {
			e.t.Fatalf("a refused data connection carried %d bytes", n)
		}
	}
	return startThenDone(e.t, e.ev).Err, c.ConnectionState().DidResume
}

// startThenDone expects EvTransferStart, then returns EvTransferDone.
func startThenDone(t *testing.T, c *collector) protocol.EvTransferDone {
	t.Helper()
	expect[protocol.EvTransferStart](t, c)
	return expect[protocol.EvTransferDone](t, c)
}

// doneAfterAnyStart returns EvTransferDone, passing over an EvTransferStart
// before it: for ends that may come before or after the data connection
// opened.
func doneAfterAnyStart(t *testing.T, c *collector) protocol.EvTransferDone {
	t.Helper()
	switch ev := c.next(t).(type) {
	case protocol.EvTransferStart:
		return expect[protocol.EvTransferDone](t, c)
	case protocol.EvTransferDone:
		return ev
	default:
		t.Fatalf("got %#v, want EvTransferStart or EvTransferDone", ev)
		return protocol.EvTransferDone{}
	}
}

var tlsVersions = []struct {
	name string
	v    uint16
}{{"TLS1.3", tls.VersionTLS13}, {"TLS1.2", tls.VersionTLS12}}

func TestNewTLSErrors(t *testing.T) {
	dir := t.TempDir()
	good := makeCert(t, dir, "good")
	other := makeCert(t, dir, "other")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		mustOK(t, os.WriteFile(p, data, 0o600))
		return p
	}
	badDER := write("bad-der.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	for _, tc := range []struct {
		name, cert, key string
		want            []string // the error contains each
	}{
		{"missing certificate", filepath.Join(dir, "none.crt"), good.keyFile, []string{"none.crt", "no such file"}},
		{"missing key", good.certFile, filepath.Join(dir, "none.key"), []string{"none.key", "no such file"}},
		{"certificate not PEM", write("text.crt", []byte("hello\n")), good.keyFile, []string{"text.crt", "no PEM CERTIFICATE"}},
		{"key in the certificate file", write("key.crt", good.keyPEM), good.keyFile, []string{"key.crt", "no PEM CERTIFICATE"}},
		{"certificate not DER", badDER, good.keyFile, []string{"bad-der.crt", "x509"}},
		{"certificate in the key file", good.certFile, write("cert.key", good.certPEM), []string{"cert.key", "no PEM PRIVATE KEY"}},
		{"key of another certificate", good.certFile, other.keyFile, []string{other.keyFile, good.certFile, "does not match"}},
		{"empty key", good.certFile, write("empty.key", nil), []string{"empty.key", "no PEM PRIVATE KEY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTLS(tc.cert, tc.key)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "dtp: tls ") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line starting with \"dtp: tls \"", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("error %q does not say %q", msg, w)
				}
			}
		})
	}
	tl, err := NewTLS(good.certFile, good.keyFile)
	mustOK(t, err)
	if !tl.Certificate().Leaf.Equal(good.cert) {
		t.Fatal("Certificate() is not the loaded one")
	}
}

// tlsEcho serves TLS echo connections with cfg on 127.0.0.1 until the
// test ends, and returns its address.
func tlsEcho(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	mustOK(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(wait))
				s := tls.Server(c, cfg)
				io.Copy(s, s)
			})
		}
	})
	return ln.Addr().String()
}

func TestTLSReload(t *testing.T) {
	f := newTLSFix(t)
	addr := tlsEcho(t, f.tl.ControlConfig(NewTag()))
	dir := t.TempDir()
	next := makeCert(t, dir, "next")
	f.pool.AddCert(next.cert)

	dial := func() (*tls.Conn, *x509.Certificate) {
		t.Helper()
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: wait}, "tcp", addr, f.client(tls.VersionTLS13, nil))
		mustOK(t, err)
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(wait))
		return c, c.ConnectionState().PeerCertificates[0]
	}
	echo := func(c *tls.Conn, msg string) {
		t.Helper()
		_, err := c.Write([]byte(msg))
		mustOK(t, err)
		got := make([]byte, len(msg))
		_, err = io.ReadFull(c, got)
		mustOK(t, err)
		if string(got) != msg {
			t.Fatalf("echo %q, want %q", got, msg)
		}
	}

	old, seen := dial()
	if !seen.Equal(f.cert.cert) {
		t.Fatal("first handshake: not the first certificate")
	}
	echo(old, "before")

	// New files in place, then Reload: new handshakes get the new pair,
	// the connection made before goes on.
	mustOK(t, os.WriteFile(f.cert.certFile, next.certPEM, 0o644))
	mustOK(t, os.WriteFile(f.cert.keyFile, next.keyPEM, 0o600))
	mustOK(t, f.tl.Reload())
	if _, seen := dial(); !seen.Equal(next.cert) {
		t.Fatal("after Reload: a new handshake does not see the new certificate")
	}
	if !f.tl.Certificate().Leaf.Equal(next.cert) {
		t.Fatal("Certificate() after Reload")
	}
	echo(old, "after the reload")

	// A broken file: Reload fails, naming it, and the pair in use stays.
	mustOK(t, os.WriteFile(f.cert.certFile, []byte("truncated"), 0o644))
	err := f.tl.Reload()
	if err == nil || !strings.Contains(err.Error(), f.cert.certFile) {
		t.Fatalf("Reload of a broken file: %v", err)
	}
	if _, seen := dial(); !seen.Equal(next.cert) {
		t.Fatal("after a failed Reload: the pair in use changed")
	}
	echo(old, "still")
}

// TestControlConfigSize measures what ControlConfig allocates: it stays
// referenced by the control connection for the session's life.
func TestControlConfigSize(t *testing.T) {
	f := newTLSFix(t)
	tag := NewTag()
	const n = 2000
	keep := make([]*tls.Config, n)
	allocs := testing.AllocsPerRun(100, func() { keep[0] = f.tl.ControlConfig(tag) })
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = f.tl.ControlConfig(tag)
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / n
	runtime.KeepAlive(keep)
	t.Logf("ControlConfig: %d bytes in %.0f allocations per control connection", per, allocs)
	if per > 1024 || allocs > 2 {
		t.Fatalf("ControlConfig costs %d bytes in %.0f allocations; its comment says 512 in 2", per, allocs)
	}
}

// A client that resumes its control connection's session on the data
// connection is accepted, transfer after transfer: each data connection
// hands it a new ticket bound to the same control connection.
func TestDataResumesControlSession(t *testing.T) {
	for _, ver := range tlsVersions {
		t.Run(ver.name, func(t *testing.T) {
			e, f := newTLSEnv(t, nil)
			data := randomBytes(300_000, 21)
			e.write("f", data)
			ccfg, _ := f.boundClient(t, e, ver.v)
			for i := range 3 {
				got, resumed, _, done := e.protectedDownload(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"}, ccfg)
				mustOK(t, done.Err)
				if !resumed || !bytes.Equal(got, data) {
					t.Fatalf("transfer %d: resumed %v, %d bytes", i, resumed, len(got))
				}
			}
		})
	}
}

// With reuse required, a data connection that does not resume its control
// connection's session is refused (ErrTLSReuse, no EvTransferStart): no
// ticket, another control connection's ticket, a ticket a refused data
// connection handed out, or a session without a protected control
// connection. Without the requirement, all of them transfer.
func TestDataReuse(t *testing.T) {
	for _, ver := range tlsVersions {
		for _, reuse := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/reuse=%v", ver.name, reuse), func(t *testing.T) {
				e, f := newTLSEnv(t, func(c *Config) { c.TLSReuse = reuse })
				data := randomBytes(50_000, 22)
				e.write("f", data)
				retr := protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"}
				try := func(what string, ccfg *tls.Config) {
					t.Helper()
					if reuse {
						err, resumed := e.protectedRefused(retr, ccfg)
						mustErr(t, err, protocol.ErrTLSReuse)
						if resumed {
							t.Fatalf("%s: refused, yet the client resumed", what)
						}
						return
					}
					got, resumed, _, done := e.protectedDownload(retr, ccfg)
					mustOK(t, done.Err)
					if resumed || !bytes.Equal(got, data) {
						t.Fatalf("%s: resumed %v, %d bytes", what, resumed, len(got))
					}
				}

				// Before any control connection is protected.
				try("no control TLS", f.client(ver.v, nil))

				ccfg, _ := f.boundClient(t, e, ver.v)
				try("no ticket", f.client(ver.v, nil))

				otherCache := newTicketCache()
				other := f.client(ver.v, otherCache)
				f.control(t, NewTag(), other, otherCache)
				try("another control connection's ticket", other)

				// A client with no ticket of its own gets one from the data
				// connection it is refused on; it does not open the next.
				fresh := newTicketCache()
				freshCfg := f.client(ver.v, fresh)
				try("no ticket", freshCfg)
				if fresh.puts.Load() == 0 {
					t.Fatal("the data connection issued no ticket")
				}
				try("a ticket from a data connection that did not resume", freshCfg)

				// The bound client still passes, and resumes.
				got, resumed, _, done := e.protectedDownload(retr, ccfg)
				mustOK(t, done.Err)
				if !resumed || !bytes.Equal(got, data) {
					t.Fatalf("bound client: resumed %v, %d bytes", resumed, len(got))
				}
				if e.srv.Transfers() != 0 {
					t.Fatalf("Transfers() = %d", e.srv.Transfers())
				}
			})
		}
	}
}

// RETR (with REST and TYPE A), STOR, APPE, STOU and the listings through
// TLS, byte for byte, over both TLS versions.
func TestProtectedTransfers(t *testing.T) {
	for _, ver := range tlsVersions {
		t.Run(ver.name, func(t *testing.T) {
			e, f := newTLSEnv(t, nil)
			ccfg, _ := f.boundClient(t, e, ver.v)
			big := randomBytes(7<<20+123, 23)
			e.write("pub/big.bin", big)

			get := func(req protocol.ReqTransfer) ([]byte, protocol.EvTransferStart, protocol.EvTransferDone) {
				t.Helper()
				got, resumed, st, done := e.protectedDownload(req, ccfg)
				mustOK(t, done.Err)
				if !resumed {
					t.Fatal("the data connection did not resume")
				}
				if done.Bytes != int64(len(got)) || st.Progress() != done.Bytes {
					t.Fatalf("%d bytes received, done says %d, progress %d", len(got), done.Bytes, st.Progress())
				}
				return got, st, done
			}
			put := func(req protocol.ReqTransfer, data []byte, fin bool) protocol.EvTransferStart {
				t.Helper()
				st, done := e.protectedUpload(req, ccfg, data, fin)
				mustOK(t, done.Err)
				if done.Bytes != int64(len(data)) || st.Progress() != done.Bytes {
					t.Fatalf("%d bytes sent, done says %d, progress %d", len(data), done.Bytes, st.Progress())
				}
				return st
			}

			got, st, _ := get(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "/pub/big.bin"})
			if !bytes.Equal(got, big) || st.Size != int64(len(big)) {
				t.Fatalf("RETR: %d bytes (size %d), want %d", len(got), st.Size, len(big))
			}
			got, st, _ = get(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "/pub/big.bin", Offset: 5_000_001})
			if !bytes.Equal(got, big[5_000_001:]) || st.Size != int64(len(big)-5_000_001) {
				t.Fatalf("RETR with REST: %d bytes (size %d)", len(got), st.Size)
			}
			got, _, _ = get(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "/pub/big.bin", Offset: int64(len(big))})
			if len(got) != 0 {
				t.Fatalf("RETR with REST at the end: %d bytes", len(got))
			}
			e.write("t.txt", []byte("one\ntwo\r\nthree\n"))
			// the offset counts the bytes sent, "one\r\n" is 5 of them
			got, _, _ = get(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "t.txt", ASCII: true, Offset: 5})
			if string(got) != "two\r\nthree\r\n" {
				t.Fatalf("RETR TYPE A with REST: %q", got)
			}

			// Uploads, ended by close_notify and by a bare FIN.
			for _, fin := range []bool{false, true} {
				name := fmt.Sprintf("up-%v.bin", fin)
				put(protocol.ReqTransfer{Kind: protocol.XferStor, Path: name}, big, fin)
				mustContent(t, e, name, big)
				put(protocol.ReqTransfer{Kind: protocol.XferAppe, Path: name}, []byte("tail"), fin)
				mustContent(t, e, name, append(bytes.Clone(big), "tail"...))
			}
			put(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "up-false.bin", Offset: 10}, []byte("REST"), false)
			mustContent(t, e, "up-false.bin", append(bytes.Clone(big[:10]), "REST"...))
			put(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "u.txt", ASCII: true}, []byte("a\r\nb\r\n"), false)
			mustContent(t, e, "u.txt", []byte("a\nb\n"))
			e.write("inbox/keep", nil)
			st = put(protocol.ReqTransfer{Kind: protocol.XferStou, Path: "/inbox"}, []byte("unique"), false)
			mustContent(t, e, "inbox/"+st.Name, []byte("unique"))
			noTempFiles(t, e.dir)

			// Listings: the same bytes as without TLS.
			for i := range 300 {
				e.write(fmt.Sprintf("pub/d/file-%03d", i), []byte(strings.Repeat("x", i)))
			}
			for _, kind := range []protocol.XferKind{protocol.XferList, protocol.XferNlst, protocol.XferMlsd} {
				req := protocol.ReqTransfer{Kind: kind, Path: "/pub/d"}
				plain, _, done := e.download(req)
				mustOK(t, done.Err)
				got, _, _ := get(req)
				if !bytes.Equal(got, plain) || len(plain) < 300*10 {
					t.Fatalf("listing %d: %d bytes under TLS, %d without", kind, len(got), len(plain))
				}
			}
			got, _, _ = get(protocol.ReqTransfer{Kind: protocol.XferList, Path: "/pub/big.bin"})
			if !bytes.Contains(got, []byte(" big.bin\r\n")) {
				t.Fatalf("LIST of a file: %q", got)
			}
		})
	}
}

// An active-mode data connection is protected the same way: the server
// dials, then plays the server side of the handshake.
func TestProtectedActive(t *testing.T) {
	e, f := newTLSEnv(t, nil)
	ccfg, _ := f.boundClient(t, e, tls.VersionTLS13)
	data := randomBytes(1<<20, 24)
	e.write("f", data)
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	mustOK(t, err)
	defer ln.Close()
	e.do(protocol.ReqActive{Addr: ln.Addr().(*net.TCPAddr).AddrPort()})
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f", Protect: true})
	ln.SetDeadline(time.Now().Add(wait))
	raw, err := ln.AcceptTCP()
	mustOK(t, err)
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(wait))
	c := tls.Client(raw, ccfg)
	got, err := io.ReadAll(c)
	mustOK(t, err)
	expect[protocol.EvTransferStart](t, e.ev)
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustOK(t, done.Err)
	if !bytes.Equal(got, data) || !c.ConnectionState().DidResume {
		t.Fatalf("active: %d bytes, resumed %v", len(got), c.ConnectionState().DidResume)
	}
}

// recordTypes lists the TLS record types in a stream read off the wire.
func recordTypes(b []byte) []byte {
	var types []byte
	for len(b) >= 5 {
		n := int(b[3])<<8 | int(b[4])
		types = append(types, b[0])
		b = b[min(len(b), 5+n):]
	}
	return types
}

// recorder keeps a copy of everything read from its connection.
type recorder struct {
	net.Conn
	mu  sync.Mutex
	got bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.got.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

// A download ends with close_notify; one that fails does not. (TLS 1.2,
// where an alert record shows on the wire.)
func TestProtectedDownloadEnd(t *testing.T) {
	e, f := newTLSEnv(t, nil)
	ccfg, _ := f.boundClient(t, e, tls.VersionTLS12)
	e.write("f", randomBytes(100_000, 25))
	e.write("big", randomBytes(32<<20, 26))

	raw := dialFrom(t, "127.0.0.1", e.pasv())
	raw.SetDeadline(time.Now().Add(wait))
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f", Protect: true})
	rec := &recorder{Conn: raw}
	c := tls.Client(rec, ccfg)
	_, err := io.ReadAll(c)
	mustOK(t, err)
	expect[protocol.EvTransferStart](t, e.ev)
	mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)
	types := recordTypes(rec.got.Bytes())
	if len(types) == 0 || types[len(types)-1] != 21 { // alert
		t.Fatalf("records from the server end with type %v, want an alert (21)", types[max(0, len(types)-3):])
	}

	// Aborted: the connection is cut, with no alert after the data.
	raw = dialFrom(t, "127.0.0.1", e.pasv())
	raw.SetDeadline(time.Now().Add(wait))
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "big", Protect: true})
	rec = &recorder{Conn: raw}
	c = tls.Client(rec, ccfg)
	_, err = io.ReadFull(c, make([]byte, 64<<10))
	mustOK(t, err)
	st := expect[protocol.EvTransferStart](t, e.ev)
	waitProgress(t, st, 64<<10)
	e.do(protocol.ReqAbort{})
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustErr(t, done.Err, protocol.ErrAborted)
	if done.Bytes <= 0 || done.Bytes >= 32<<20 {
		t.Fatalf("aborted after %d bytes", done.Bytes)
	}
	io.Copy(io.Discard, c)
	rec.mu.Lock()
	types = recordTypes(rec.got.Bytes())
	rec.mu.Unlock()
	for i, typ := range types {
		if typ == 21 && i > 0 {
			t.Fatalf("an aborted download sent an alert (record %d of %d)", i, len(types))
		}
	}
	if e.srv.Transfers() != 0 {
		t.Fatalf("Transfers() = %d", e.srv.Transfers())
	}
}

// An upload cut inside a TLS record fails as a data connection error;
// the atomic STOR leaves the old file.
func TestProtectedUploadCut(t *testing.T) {
	e, f := newTLSEnv(t, nil)
	ccfg, _ := f.boundClient(t, e, tls.VersionTLS13)
	old := []byte("the old file")
	e.write("f", old)
	c, raw := e.protectedStart(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f"}, ccfg)
	_, err := c.Write(randomBytes(500_000, 27))
	mustOK(t, err)
	_, err = raw.Write([]byte{23, 3, 3, 0, 200, 1, 2, 3}) // a record header promising 200 bytes, and 3 of them
	mustOK(t, err)
	mustOK(t, raw.CloseWrite())
	io.Copy(io.Discard, raw)
	expect[protocol.EvTransferStart](t, e.ev)
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustErr(t, done.Err, protocol.ErrDataConn)
	if !errors.Is(done.Err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v, want it to wrap io.ErrUnexpectedEOF", done.Err)
	}
	mustContent(t, e, "f", old)
	noTempFiles(t, e.dir)
}

// A full disk during a protected upload is ErrNoSpace, as without TLS;
// the progress counter moves while a slow client reads a download; an
// ABOR stops a protected upload.
func TestProtectedStorageAndProgress(t *testing.T) {
	var flt fault
	e, f := newTLSEnv(t, func(c *Config) { c.OpHook = flt.hook })
	ccfg, _ := f.boundClient(t, e, tls.VersionTLS13)

	old := []byte("keep me")
	e.write("f", old)
	flt.set("write", 2, syscall.ENOSPC)
	c, raw := e.protectedStart(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f"}, ccfg)
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		c.Write(randomBytes(4<<20, 28))
		c.CloseWrite()
		io.Copy(io.Discard, c)
	}()
	expect[protocol.EvTransferStart](t, e.ev)
	done := expect[protocol.EvTransferDone](t, e.ev)
	mustErr(t, done.Err, protocol.ErrNoSpace)
	raw.Close()
	<-wrote
	mustContent(t, e, "f", old)
	noTempFiles(t, e.dir)
	flt.set("", 0, nil)

	e.write("big", randomBytes(16<<20, 29))
	raw = dialFrom(t, "127.0.0.1", e.pasv())
	raw.SetDeadline(time.Now().Add(wait))
	raw.SetReadBuffer(64 << 10)
	e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "big", Protect: true})
	c = tls.Client(raw, ccfg)
	_, err := io.ReadFull(c, make([]byte, 100<<10))
	mustOK(t, err)
	st := expect[protocol.EvTransferStart](t, e.ev)
	time.Sleep(50 * time.Millisecond)
	if p := st.Progress(); p < 100<<10 || p >= 8<<20 {
		t.Fatalf("progress %d after the client read 100 KiB of 16 MiB", p)
	}
	e.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)

	c, _ = e.protectedStart(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "f"}, ccfg)
	_, err = c.Write(randomBytes(1<<20, 30))
	mustOK(t, err)
	st = expect[protocol.EvTransferStart](t, e.ev)
	waitProgress(t, st, 1<<20)
	e.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrAborted)
	mustContent(t, e, "f", old)
	noTempFiles(t, e.dir)
}

// Garbage instead of a ClientHello, a client that sends nothing and one
// that stops inside its ClientHello fail with ErrTLSHandshake, within the
// handshake timeout, after EvTransferStart (the 150 reply goes before the
// handshake); the data connection is closed. An ABOR during the handshake
// is ErrAborted.
func TestDataHandshakeFails(t *testing.T) {
	const timeout = 300 * time.Millisecond
	e, _ := newTLSEnv(t, func(c *Config) { c.TLSHandshakeTimeout = timeout })
	e.write("f", []byte("data"))
	for _, tc := range []struct {
		name  string
		send  []byte
		stall bool // the server must wait for the timeout
	}{
		{"garbage", []byte("USER anonymous\r\nPASS x\r\n"), false},
		{"nothing", nil, true},
		{"half a ClientHello", []byte{22, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := dialFrom(t, "127.0.0.1", e.pasv())
			raw.SetDeadline(time.Now().Add(wait))
			start := time.Now()
			e.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f", Protect: true})
			if tc.send != nil {
				_, err := raw.Write(tc.send)
				mustOK(t, err)
			}
			done := startThenDone(t, e.ev)
			took := time.Since(start)
			mustErr(t, done.Err, protocol.ErrTLSHandshake)
			if tc.stall {
				if !errors.Is(done.Err, os.ErrDeadlineExceeded) {
					t.Fatalf("error %v, want it to wrap the deadline's", done.Err)
				}
				if took < timeout-50*time.Millisecond || took > timeout+5*time.Second {
					t.Fatalf("failed after %v with a handshake timeout of %v", took, timeout)
				}
			} else if !strings.Contains(done.Err.Error(), "tls: ") {
				t.Fatalf("error %v does not keep crypto/tls's cause", done.Err)
			}
			// The data connection is closed.
			if _, err := io.Copy(io.Discard, raw); err != nil && !isReset(err) {
				t.Fatal(err)
			}
			if e.srv.Transfers() != 0 {
				t.Fatalf("Transfers() = %d", e.srv.Transfers())
			}
		})
	}

	// ABOR while the server waits for the ClientHello.
	e2, _ := newTLSEnv(t, nil)
	e2.write("f", []byte("data"))
	raw := dialFrom(t, "127.0.0.1", e2.pasv())
	raw.SetDeadline(time.Now().Add(wait))
	e2.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f", Protect: true})
	expect[protocol.EvTransferStart](t, e2.ev)
	e2.ev.none(t, 50*time.Millisecond)
	e2.do(protocol.ReqAbort{})
	mustErr(t, expect[protocol.EvTransferDone](t, e2.ev).Err, protocol.ErrAborted)

	// PROT P on a server without a certificate.
	e3 := newEnv(t, nil)
	e3.write("f", []byte("data"))
	e3.pasv()
	e3.do(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f", Protect: true})
	mustErr(t, expect[protocol.EvTransferDone](t, e3.ev).Err, protocol.ErrTLSHandshake)
}

// The start of a protected transfer (the 150 reply) comes before its
// data handshake: clients such as Python's ftplib and curl begin that
// handshake only once they have the reply. Here the client waits for
// EvTransferStart before its ClientHello, downloading and uploading,
// passive and active.
func TestDataStartBeforeHandshake(t *testing.T) {
	e, f := newTLSEnv(t, nil)
	data := randomBytes(200_000, 51)
	e.write("f", data)
	ccfg, _ := f.boundClient(t, e, tls.VersionTLS13)
	for _, active := range []bool{false, true} {
		open := func(req protocol.ReqTransfer) *tls.Conn {
			t.Helper()
			req.Protect = true
			var raw net.Conn
			if active {
				ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
				mustOK(t, err)
				defer ln.Close()
				e.do(protocol.ReqActive{Addr: ln.Addr().(*net.TCPAddr).AddrPort()})
				e.do(req)
				ln.SetDeadline(time.Now().Add(wait))
				c, err := ln.AcceptTCP()
				mustOK(t, err)
				raw = c
			} else {
				raw = dialFrom(t, "127.0.0.1", e.pasv())
				e.do(req)
			}
			raw.SetDeadline(time.Now().Add(wait))
			expect[protocol.EvTransferStart](t, e.ev)
			return tls.Client(raw, ccfg)
		}
		c := open(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})
		got, err := io.ReadAll(c)
		mustOK(t, err)
		c.Close()
		mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)
		if !bytes.Equal(got, data) {
			t.Fatalf("active=%v: downloaded %d bytes, want %d", active, len(got), len(data))
		}

		c = open(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "up"})
		_, err = c.Write(data)
		mustOK(t, err)
		mustOK(t, c.CloseWrite())
		_, err = io.Copy(io.Discard, c)
		mustOK(t, err)
		c.Close()
		mustOK(t, expect[protocol.EvTransferDone](t, e.ev).Err)
		mustContent(t, e, "up", data)
	}
}

// A protected upload whose handshake fails changes nothing: an existing
// file keeps its contents even when uploads are written in place, and
// STOU's new file is removed again.
func TestDataHandshakeFailKeepsFiles(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		t.Run(fmt.Sprintf("atomic=%v", atomic), func(t *testing.T) {
			e, _ := newTLSEnv(t, func(c *Config) { c.AtomicUploads = atomic })
			old := []byte("stored before")
			e.write("f", old)
			for _, req := range []protocol.ReqTransfer{
				{Kind: protocol.XferStor, Path: "f", Protect: true},
				{Kind: protocol.XferAppe, Path: "f", Protect: true},
				{Kind: protocol.XferStou, Path: ".", Protect: true},
			} {
				raw := dialFrom(t, "127.0.0.1", e.pasv())
				raw.SetDeadline(time.Now().Add(wait))
				e.do(req)
				st := expect[protocol.EvTransferStart](t, e.ev)
				_, err := raw.Write([]byte("not a ClientHello\r\n"))
				mustOK(t, err)
				mustErr(t, expect[protocol.EvTransferDone](t, e.ev).Err, protocol.ErrTLSHandshake)
				raw.Close()
				if req.Kind == protocol.XferStou {
					if st.Name == "" {
						t.Fatal("STOU's start names no file")
					}
					if _, err := os.Stat(filepath.Join(e.dir, st.Name)); !errors.Is(err, fs.ErrNotExist) {
						t.Fatalf("STOU's file %s after a failed handshake: %v", st.Name, err)
					}
				}
				mustContent(t, e, "f", old)
			}
			noTempFiles(t, e.dir)
		})
	}
}
