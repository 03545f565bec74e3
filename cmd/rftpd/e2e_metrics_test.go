// End-to-end tests of the admin listener: exact counters after a known session, promtool's check, a real Prometheus scraping it, /readyz during a drain.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jlaffaye/ftp"
)

// adminAddr waits for the admin address rftpd prints.
func (p *proc) adminAddr(t testing.TB) string {
	t.Helper()
	select {
	case a := <-p.adminc:
		p.adminc <- a
		return a
	case <-time.After(startTimeout):
		t.Fatalf("rftpd printed no admin address\nstderr:\n%s", p.stderr.String())
		return ""
	}
}

// httpGet fetches a URL and returns the status code and body.
func httpGet(t testing.TB, u string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: clientTimeout}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, string(b)
}

// samples parses a text exposition into series (as printed) and values.
func samples(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if i := strings.LastIndexByte(l, ' '); i > 0 {
			m[l[:i]] = l[i+1:]
		}
	}
	return m
}

// metricsServer starts rftpd with an accounts file (writer, every
// permission) on a fresh tree holding "known.bin" of size knownSize, and
// the admin listener on 127.0.0.1:0.
func metricsServer(t *testing.T, knownSize int, extra ...string) (*proc, string, string) {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "known.bin"), randomBytes(7, knownSize), 0o644); err != nil {
		t.Fatal(err)
	}
	users := writeAccounts(t, []account{{name: "writer", pass: writerPass, root: root, perms: []string{"read", "write", "delete", "rename", "mkdir"}}})
	args := append([]string{"-users", users, "-admin-listen", "127.0.0.1:0"}, extra...)
	p := startProc(t, args...)
	return p, p.adminAddr(t), root
}

func ftpDial(t *testing.T, addr string) *ftp.ServerConn {
	t.Helper()
	c, err := ftp.Dial(addr, ftp.DialWithTimeout(clientTimeout))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

// TestMetricsCountAKnownSession drives a known sequence with a real client
// and checks the counters exactly; promtool must accept the scrape.
func TestMetricsCountAKnownSession(t *testing.T) {
	const size = 300_000
	p, admin, root := metricsServer(t, size)

	// One refused login (its 530 comes after login_fail_delay, 1 s).
	c := ftpDial(t, p.addr)
	if err := c.Login("writer", "wrong"); err == nil {
		t.Fatal("a wrong password was accepted")
	}
	c.Quit()

	// A login that downloads, uploads, lists and deletes.
	c = ftpDial(t, p.addr)
	if err := c.Login("writer", writerPass); err != nil {
		t.Fatal(err)
	}
	r, err := c.Retr("known.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || r.Close() != nil || len(got) != size {
		t.Fatalf("RETR: %d bytes, %v", len(got), err)
	}
	up := randomBytes(8, 12_345)
	if err := c.Stor("up.bin", bytes.NewReader(up)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.List("/"); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("up.bin"); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}

	// A second login that does nothing.
	c = ftpDial(t, p.addr)
	if err := c.Login("writer", writerPass); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "up.bin")); !os.IsNotExist(err) {
		t.Fatalf("up.bin after DELE: %v", err)
	}

	code, body := httpGet(t, "http://"+admin+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	m := samples(body)
	for series, want := range map[string]string{
		`rftpd_logins_total{result="ok"}`:                             "2",
		`rftpd_logins_total{result="refused"}`:                        "1",
		`rftpd_logins_total{result="error"}`:                          "0",
		`rftpd_commands_total{class="3xx",verb="USER"}`:               "3",
		`rftpd_commands_total{class="2xx",verb="PASS"}`:               "2",
		`rftpd_commands_total{class="5xx",verb="PASS"}`:               "1",
		`rftpd_commands_total{class="2xx",verb="RETR"}`:               "1",
		`rftpd_commands_total{class="2xx",verb="STOR"}`:               "1",
		`rftpd_commands_total{class="2xx",verb="MLSD"}`:               "1", // the client lists with MLSD when FEAT offers it
		`rftpd_commands_total{class="2xx",verb="DELE"}`:               "1",
		`rftpd_commands_total{class="2xx",verb="QUIT"}`:               "3",
		`rftpd_command_duration_seconds_count{verb="RETR"}`:           "1",
		`rftpd_transfers_total{direction="download",result="ok"}`:     "1",
		`rftpd_transfers_total{direction="upload",result="ok"}`:       "1",
		`rftpd_transfers_total{direction="listing",result="ok"}`:      "1",
		`rftpd_transfers_total{direction="download",result="failed"}`: "0",
		`rftpd_transfer_bytes_total{direction="download"}`:            strconv.Itoa(size),
		`rftpd_transfer_bytes_total{direction="upload"}`:              "12345",
		`rftpd_transfer_duration_seconds_count{direction="upload"}`:   "1",
		`rftpd_sessions{state="idle",tls="false"}`:                    "0",
		`rftpd_event_loop_up`:                                         "1",
		`rftpd_accepting`:                                             "1",
		`rftpd_refusals_total{reason="ban",what="session"}`:           "0",
		`rftpd_pool_workers{pool="password"}`:                         "2",
	} {
		if m[series] != want {
			t.Errorf("%s = %q, want %s", series, m[series], want)
		}
	}
	if n, _ := strconv.Atoi(m[`rftpd_transfer_bytes_total{direction="listing"}`]); n <= 0 {
		t.Errorf("listing bytes %q", m[`rftpd_transfer_bytes_total{direction="listing"}`])
	}
	for _, s := range []string{"go_goroutines", "process_open_fds", `rftpd_descriptors_limit`} {
		if _, ok := m[s]; !ok {
			t.Errorf("no %s in the scrape", s)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}

	promtool := needTool(t, "promtool", "prometheus")
	if res := runTool(t, t.TempDir(), body, promtool, "check", "metrics"); res.code != 0 {
		t.Fatalf("promtool check metrics: %v", res)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := httpGet(t, "http://"+admin+path); code != http.StatusOK || body != "ok\n" {
			t.Errorf("%s: %d %q", path, code, body)
		}
	}
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestPrometheusScrapes runs a real Prometheus server scraping the admin
// listener every second and waits for rftpd's series in its query API.
func TestPrometheusScrapes(t *testing.T) {
	prom := needTool(t, "prometheus", "prometheus")
	p, admin, _ := metricsServer(t, 10)
	c := ftpDial(t, p.addr)
	if err := c.Login("writer", writerPass); err != nil {
		t.Fatal(err)
	}
	c.Quit()

	dir := t.TempDir()
	cfg := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: rftpd\n    static_configs:\n      - targets: [%q]\n", admin)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// A port that was free may be taken before Prometheus binds it: try a few.
	var web string
	var logs syncBuffer
	for try := 0; ; try++ {
		web = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
			"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+web)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
		ready := false
		for end := time.Now().Add(60 * time.Second); time.Now().Before(end) && !ready; {
			select {
			case err := <-exited:
				exited <- err
				end = time.Now()
				continue
			default:
			}
			if resp, err := http.Get("http://" + web + "/-/ready"); err == nil {
				resp.Body.Close()
				ready = resp.StatusCode == http.StatusOK
			}
			time.Sleep(200 * time.Millisecond)
		}
		if ready {
			break
		}
		if try == 2 {
			t.Fatalf("prometheus did not become ready:\n%s", logs.String())
		}
	}

	// Scrapes every second: within a minute rftpd's series are there.
	query := func(q string) []any {
		code, body := httpGet(t, "http://"+web+"/api/v1/query?query="+url.QueryEscape(q))
		if code != http.StatusOK {
			t.Fatalf("query %s: %d %s", q, code, body)
		}
		var r struct {
			Data struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("query %s: %v\n%s", q, err, body)
		}
		if len(r.Data.Result) == 0 {
			return nil
		}
		return r.Data.Result[0].Value
	}
	for end := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		up := query(`up{job="rftpd"}`)
		logins := query(`rftpd_logins_total{result="ok"}`)
		if len(up) == 2 && up[1] == "1" && len(logins) == 2 && logins[1] == "1" {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("no rftpd series in Prometheus within a minute (up %v, logins %v):\n%s", up, logins, logs.String())
		}
	}
	if v := query(`sum(rftpd_sessions)`); len(v) != 2 {
		t.Fatalf("sum(rftpd_sessions): %v", v)
	}
}

// TestReadyzDuringDrain: with a transfer in flight and a long shutdown
// grace, SIGTERM turns /readyz to 503 while /healthz stays 200; the
// transfer completes and rftpd exits 0.
func TestReadyzDuringDrain(t *testing.T) {
	const size = 64 << 20 // more than the socket buffers hold: the transfer waits for the reader
	config := filepath.Join(t.TempDir(), "rftpd.toml")
	if err := os.WriteFile(config, []byte("[timeouts]\nshutdown = \"60s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, admin, _ := metricsServer(t, size, "-config", config)
	c := ftpDial(t, p.addr)
	if err := c.Login("writer", writerPass); err != nil {
		t.Fatal(err)
	}
	r, err := c.Retr("known.bin")
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 1<<20)
	if _, err := io.ReadFull(r, head); err != nil { // the transfer is under way
		t.Fatal(err)
	}
	if err := p.signal(); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(clientTimeout); ; time.Sleep(20 * time.Millisecond) {
		code, body := httpGet(t, "http://"+admin+"/readyz")
		if code == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("/readyz still %d %q after SIGTERM", code, body)
		}
	}
	if code, body := httpGet(t, "http://"+admin+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz during the drain: %d %q", code, body)
	}
	if _, body := httpGet(t, "http://"+admin+"/metrics"); !strings.Contains(body, "\nrftpd_accepting 0\n") ||
		!strings.Contains(body, `rftpd_sessions{state="transfer",tls="false"} 1`) {
		t.Fatalf("metrics during the drain:\n%s", body)
	}
	rest, err := io.ReadAll(r)
	if err != nil || len(head)+len(rest) != size {
		t.Fatalf("download during the drain: %d bytes, %v", len(head)+len(rest), err)
	}
	if err := r.Close(); err != nil { // 226
		t.Fatal(err)
	}
	if err := p.wait(stopTimeout); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsTLS counts the TLS handshakes of control and data
// connections: two curl transfers over FTPS, then ftplib, which never
// resumes the control connection's session and is refused (the default
// requires reuse).
func TestMetricsTLS(t *testing.T) {
	python := needTool(t, "python3", "python3")
	s := startFTPS(t, "-admin-listen", "127.0.0.1:0")
	admin := s.proc.adminAddr(t)
	dir := t.TempDir()
	tlsArgs := []string{"--ssl-reqd", "--cacert", certFile}
	mustCurl(t, dir, append(slices.Clone(tlsArgs), "-o", filepath.Join(dir, "hello"), s.url("reader:"+readerPass, fHello))...)
	putFile(t, filepath.Join(dir, "up.bin"), "some bytes\n")
	mustCurl(t, dir, append(slices.Clone(tlsArgs), "-T", filepath.Join(dir, "up.bin"), s.url("writer:"+writerPass, "up.bin"))...)
	script := `import ftplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
f = ftplib.FTP_TLS(context=ctx)
f.connect("127.0.0.1", int(sys.argv[2]))
f.login("reader", sys.argv[1])
f.prot_p()
try:
    f.retrbinary("RETR hello.txt", lambda b: None)
    print("downloaded")
except Exception:
    try:
        f.voidresp()
    except ftplib.error_perm as e:
        print(e)
`
	r := runTool(t, dir, "", python, "-c", script, readerPass, s.port, certFile)
	if !strings.Contains(r.stdout, "522") {
		t.Fatalf("ftplib without session reuse: want a 522, got %s", r)
	}
	_, body := httpGet(t, "http://"+admin+"/metrics")
	m := samples(body)
	for series, want := range map[string]string{
		`rftpd_tls_handshakes_total{result="ok"}`:      "3",
		`rftpd_tls_handshakes_total{result="failed"}`:  "0",
		`rftpd_data_tls_handshakes_total{result="ok"}`: "2",
		// ftplib's data handshake is refused: it did not resume
		`rftpd_data_tls_handshakes_total{result="failed"}`: "1",
	} {
		if m[series] != want {
			t.Errorf("%s = %q, want %s", series, m[series], want)
		}
	}
}
