// End-to-end FTPS tests: curl, lftp and Python's FTP_TLS over explicit and implicit TLS, the TLS policies, certificate reload.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test certificate (testdata/tls/README).
var (
	certFile = mustAbs("testdata/tls/cert.pem")
	keyFile  = mustAbs("testdata/tls/key.pem")
)

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

// startFTPS is startStd with FTPS on (default policies) and an implicit listener.
func startFTPS(t *testing.T, args ...string) *server {
	t.Helper()
	return startStd(t, append([]string{"-tls-cert", certFile, "-tls-key", keyFile, "-implicit-listen", "127.0.0.1:0"}, args...)...)
}

// clientTLS trusts the test certificate and keeps sessions for resumption.
func clientTLS(t testing.TB) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(getFile(t, certFile)) {
		t.Fatal("no certificate in " + certFile)
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", ClientSessionCache: tls.NewLRUClientSessionCache(8)}
}

// secure sends AUTH TLS on c and continues over TLS.
func (c *ctrl) secure(cfg *tls.Config) {
	c.t.Helper()
	c.cmd("AUTH TLS", 234)
	tc := tls.Client(c.conn, cfg)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	tc.SetDeadline(time.Time{})
	c.conn, c.r = tc, bufio.NewReader(tc)
}

// tlsData runs the client side of a protected data connection's handshake.
func tlsData(t testing.TB, d net.Conn, cfg *tls.Config) *tls.Conn {
	t.Helper()
	tc := tls.Client(d, cfg)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("data TLS handshake: %v", err)
	}
	return tc
}

func TestFTPSCurl(t *testing.T) {
	s := startFTPS(t)
	implicit := s.proc.implicitAddr(t)
	tlsArgs := []string{"--ssl-reqd", "--cacert", certFile}
	for _, mode := range []struct {
		name string
		args []string
		want string
	}{
		{"EPSV", nil, "EPSV"},
		{"PASV", []string{"--ftp-pasv", "--disable-epsv"}, "PASV"},
		{"EPRT", []string{"-P", "127.0.0.1"}, "EPRT"},
		{"PORT", []string{"-P", "127.0.0.1", "--disable-eprt"}, "PORT"},
	} {
		t.Run(mode.name, func(t *testing.T) {
			if mode.args != nil && mode.args[0] == "-P" && curlActiveTLSBroken(t) {
				t.Skip("curl 7.87 and 7.88 never start TLS on an active data connection (curl issue 10666, fixed in 8.0.0); lftp and ftplib test active FTPS")
			}
			dir := t.TempDir()
			for _, name := range []string{fHello, fEmpty, fBig} {
				out := filepath.Join(dir, filepath.Base(name))
				r := mustCurl(t, dir, append(append(slices.Clone(tlsArgs), mode.args...), "-o", out, s.url("reader:"+readerPass, name))...)
				cmds := sentCommands(r.stderr)
				for _, want := range []string{"AUTH", "PBSZ", "PROT", mode.want} {
					if !slices.Contains(cmds, want) {
						t.Errorf("curl did not send %s: %q", want, cmds)
					}
				}
				checkFile(t, out, fixtureFiles[name])
			}
			up := filepath.Join(dir, "up.bin")
			data := randomBytes(71, 3<<20+7)
			putFile(t, up, string(data))
			mustCurl(t, dir, append(append(slices.Clone(tlsArgs), mode.args...), "-T", up, s.url("writer:"+writerPass, "curl-"+mode.name+".bin"))...)
			checkFile(t, filepath.Join(s.writer, "curl-"+mode.name+".bin"), data)
		})
	}
	t.Run("implicit", func(t *testing.T) {
		dir := t.TempDir()
		out := filepath.Join(dir, "big")
		mustCurl(t, dir, "--cacert", certFile, "-o", out, "ftps://reader:"+readerPass+"@"+implicit+"/"+fBig)
		checkFile(t, out, fixtureFiles[fBig])
		up := filepath.Join(dir, "up.bin")
		data := randomBytes(72, 1<<20+1)
		putFile(t, up, string(data))
		mustCurl(t, dir, "--cacert", certFile, "-T", up, "ftps://writer:"+writerPass+"@"+implicit+"/implicit.bin")
		checkFile(t, filepath.Join(s.writer, "implicit.bin"), data)
	})
	t.Run("plain refused for accounts", func(t *testing.T) {
		r := curl(t, t.TempDir(), s.url("writer:"+writerPass, fHello))
		if r.code == 0 || !strings.Contains(r.stderr, "< 530") {
			t.Errorf("plain login of an account: %s", r)
		}
		// anonymous may stay plain (the default policy)
		mustCurl(t, t.TempDir(), s.url("", fHello))
	})
}

// curlActiveTLSBroken reports whether the curl in PATH is 7.87 or 7.88,
// which open active-mode data connections without TLS under --ssl-reqd
// and hang until the server gives up on the handshake.
func curlActiveTLSBroken(t *testing.T) bool {
	t.Helper()
	out, err := exec.Command(needTool(t, "curl", "curl"), "--version").Output()
	if err != nil {
		t.Fatalf("curl --version: %v", err)
	}
	f := strings.Fields(string(out))
	return len(f) > 1 && (strings.HasPrefix(f[1], "7.87.") || strings.HasPrefix(f[1], "7.88."))
}

func TestFTPSLftp(t *testing.T) {
	s := startFTPS(t)
	tlsSettings := []string{"set ftp:ssl-force yes", "set ftp:ssl-protect-data yes", "set ssl:ca-file " + certFile, "set ssl:verify-certificate yes"}
	for _, mode := range []struct{ name, setting string }{{"passive", "set ftp:passive-mode on"}, {"active", "set ftp:passive-mode off"}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			settings := append(slices.Clone(tlsSettings), mode.setting)
			mustLftp(t, s, dir, "reader", readerPass, "mirror sub down; get "+fBig+" -o big.bin", settings...)
			checkFile(t, filepath.Join(dir, "big.bin"), fixtureFiles[fBig])
			for name, want := range fixtureFiles {
				if rest, ok := strings.CutPrefix(name, "sub/"); ok {
					checkFile(t, filepath.Join(dir, "down", rest), want)
				}
			}
			sent := lftpSent(t, dir)
			for _, want := range []string{"AUTH", "PROT"} {
				if !slices.Contains(sent, want) {
					t.Errorf("lftp did not send %s: %q", want, sent)
				}
			}
			data := randomBytes(73, 2<<20+3)
			putFile(t, filepath.Join(dir, "up.bin"), string(data))
			mustLftp(t, s, dir, "writer", writerPass, "put up.bin -o lftp-"+mode.name+".bin", settings...)
			checkFile(t, filepath.Join(s.writer, "lftp-"+mode.name+".bin"), data)
		})
	}
}

// ftplibTLSResult is what testdata/ftplib_tls.py prints.
type ftplibTLSResult struct {
	Cipher   string   `json:"cipher"`
	Uploaded []string `json:"uploaded"`
	List     []string `json:"list"`
	Quit     string   `json:"quit"`
	Error    *string  `json:"error"`
	Reply    *string  `json:"reply"`
	Sent     []string `json:"sent"`
}

func runFtplibTLS(t *testing.T, s *server, mode string, uploads map[string][]byte, downloads []string) (ftplibTLSResult, string) {
	t.Helper()
	python := needTool(t, "python3", "python3")
	script := mustAbs("testdata/ftplib_tls.py")
	work := t.TempDir()
	for n, b := range uploads {
		putFile(t, filepath.Join(work, "up", n), string(b))
	}
	r := runToolEnv(t, work, strings.Join(downloads, "\n")+"\n", []string{"WRITER_PASS=" + writerPass, "PYTHONDONTWRITEBYTECODE=1"},
		python, script, "127.0.0.1", s.port, certFile, mode, work)
	if r.code != 0 {
		t.Fatalf("ftplib TLS script: %s", r)
	}
	var res ftplibTLSResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("ftplib TLS output: %v\n%s", err, r)
	}
	return res, work
}

func TestFTPSPythonFtplib(t *testing.T) {
	downloads := []string{fHello, fEmpty, fBig, fDeep}
	uploads := map[string][]byte{"blob.bin": randomBytes(74, 2<<20+5), "small.bin": randomBytes(75, 100), "empty.bin": {}}
	t.Run("reuse off", func(t *testing.T) {
		s := startFTPS(t, "-tls-reuse=false")
		for _, mode := range []string{"pasv", "port"} {
			t.Run(mode, func(t *testing.T) {
				res, work := runFtplibTLS(t, s, mode, uploads, downloads)
				if res.Error != nil {
					t.Fatalf("ftplib: %s (sent %q)", *res.Error, res.Sent)
				}
				if !strings.HasPrefix(res.Cipher, "TLSv1.") {
					t.Errorf("control connection TLS version %q", res.Cipher)
				}
				for n, b := range uploads {
					checkFile(t, filepath.Join(s.writer, n), b)
					checkFile(t, filepath.Join(work, "down", n), b)
				}
				for _, n := range downloads {
					checkFile(t, filepath.Join(work, "anon", strings.ReplaceAll(n, "/", "__")), fixtureFiles[n])
				}
				for _, want := range []string{"AUTH", "PBSZ", "PROT", map[string]string{"pasv": "PASV", "port": "PORT"}[mode]} {
					if !slices.Contains(res.Sent, want) {
						t.Errorf("ftplib did not send %s: %q", want, res.Sent)
					}
				}
			})
		}
	})
	t.Run("reuse required", func(t *testing.T) {
		s := startFTPS(t)
		res, _ := runFtplibTLS(t, s, "pasv", map[string][]byte{"a.bin": {1, 2, 3}}, nil)
		if res.Error == nil {
			t.Fatal("ftplib without session reuse: the upload went through, want a 522 reply")
		}
		reply := *res.Error
		if res.Reply != nil {
			reply = *res.Reply
		}
		if !strings.HasPrefix(reply, "522 ") {
			t.Fatalf("ftplib without session reuse: error %q, then reply %q; want a 522 reply", *res.Error, reply)
		}
		if _, err := os.Stat(filepath.Join(s.writer, "a.bin")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("the refused upload left a.bin: %v", err)
		}
	})
}

// TestFTPSPolicies drives the policies by hand: accounts need TLS to log
// in and PROT P to transfer, data connections must resume the control
// session, anonymous may stay plain.
func TestFTPSPolicies(t *testing.T) {
	s := startFTPS(t)
	cfg := clientTLS(t)

	plain := dial(t, s.addr)
	plain.cmd("USER writer", 530)
	plain.login("anonymous", "x")
	plain.cmd("TYPE I", 200)
	checkBytes(t, "plain anonymous RETR", plain.retr(fSmall), fixtureFiles[fSmall])

	c := dial(t, s.addr)
	c.secure(cfg)
	c.login("reader", readerPass)
	c.cmd("TYPE I", 200)
	c.cmd("PBSZ 0", 200)
	c.cmd("PROT C", 200)
	d := c.epsv()
	c.cmd("RETR "+fSmall, 521)
	c.cmd("PROT P", 200)
	c.cmd("RETR "+fSmall, 150) // the endpoint from before the 521 still stands
	checkBytes(t, "protected RETR", readAll(t, tlsData(t, d, cfg)), fixtureFiles[fSmall])
	c.expect(226)

	// A data connection that does not resume the control session is refused.
	d = c.epsv()
	c.cmd("RETR "+fSmall, 150)
	fresh := clientTLS(t) // its own, empty session cache
	tc := tls.Client(d, fresh)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err == nil {
		if b, _ := readAllErr(tc); len(b) > 0 {
			t.Errorf("a data connection without resumption received %d bytes", len(b))
		}
	}
	if r := c.expect(522); !strings.Contains(strings.ToLower(r.text()), "resum") {
		t.Errorf("522 text %q does not say why", r.text())
	}
	c.cmd("NOOP", 200)
	c.cmd("QUIT", 221)
}

func readAllErr(c net.Conn) ([]byte, error) {
	var out []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out, err
		}
	}
}

// TestFTPSCertificateReload swaps the certificate files and sends SIGHUP:
// new sessions get the new certificate, an open session carries on.
func TestFTPSCertificateReload(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	putFile(t, cert, string(getFile(t, certFile)))
	putFile(t, key, string(getFile(t, keyFile)))
	p := startProc(t, "-anonymous", fixtureTree(t), "-tls-cert", cert, "-tls-key", key)

	// leaf returns the certificate a new session is served.
	leaf := func() []byte {
		cfg := clientTLS(t)
		cfg.InsecureSkipVerify = true // the test compares the served certificate itself
		c := dial(t, p.addr)
		c.secure(cfg)
		state := c.conn.(*tls.Conn).ConnectionState()
		c.cmd("QUIT", 221)
		return state.PeerCertificates[0].Raw
	}
	first := leaf()
	open := dial(t, p.addr)
	open.secure(clientTLS(t))
	open.login("anonymous", "x")

	putFile(t, cert, string(getFile(t, "testdata/tls/other-cert.pem")))
	putFile(t, key, string(getFile(t, "testdata/tls/other-key.pem")))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if second := leaf(); string(second) != string(first) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the certificate did not change after SIGHUP")
		}
		time.Sleep(100 * time.Millisecond)
	}
	open.cmd("NOOP", 200)
	open.cmd("QUIT", 221)
	// The line is logged after the swap that leaf saw, and reaches
	// p.stderr through a pipe: wait for it.
	p.waitLog(t, "SIGHUP: reloaded")

	// A broken pair is refused and the served one stays.
	putFile(t, key, "not a key")
	before := leaf()
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "SIGHUP: reload failed")
	if after := leaf(); string(after) != string(before) {
		t.Error("a failed reload changed the certificate")
	}
	_ = os.Remove(key)
}
