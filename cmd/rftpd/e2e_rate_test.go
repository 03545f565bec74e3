// End to end: bandwidth limits from the config file, timed with curl, shown by STAT, changed by SIGHUP.
package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// curlTime downloads u with curl into dir and returns the bytes and the
// time curl took (its own %{time_total}).
func curlTime(t *testing.T, dir, u string) (int64, time.Duration) {
	t.Helper()
	out := filepath.Join(dir, "out")
	r := mustCurl(t, dir, "-o", out, "-w", "%{size_download} %{time_total}", u)
	f := strings.Fields(r.stdout)
	if len(f) != 2 {
		t.Fatalf("curl -w printed %q", r.stdout)
	}
	n, err1 := strconv.ParseInt(f[0], 10, 64)
	secs, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("curl -w printed %q", r.stdout)
	}
	return n, time.Duration(secs * float64(time.Second))
}

// checkLimited checks that n bytes took at least what a limit of rate
// allows: the server's buckets let through rate·d plus what they save up
// (100 ms' worth) plus one slice (50 ms' worth, at least 16 KiB), so d is
// at least (n - 0.15·rate)/rate. It may take longer on a busy machine; at
// most twice the ideal and two seconds more.
func checkLimited(t *testing.T, what string, n, rate int64, d time.Duration) {
	t.Helper()
	ideal := float64(n) / float64(rate)
	lo := time.Duration((ideal - 0.15) * float64(time.Second))
	hi := time.Duration((2*ideal + 2) * float64(time.Second))
	t.Logf("%s: %d bytes in %v, %.0f bytes/s under a limit of %d", what, n, d.Round(time.Millisecond), float64(n)/d.Seconds(), rate)
	if d < lo || d > hi {
		t.Errorf("%s took %v, want %v to %v", what, d, lo, hi)
	}
}

func TestRateLimitCurl(t *testing.T) {
	needTool(t, "curl", "curl")
	dir := t.TempDir()
	tree := t.TempDir()
	const size = 4 << 20
	payload := randomBytes(7, size)
	putFile(t, filepath.Join(tree, "big.bin"), string(payload))
	cfg := filepath.Join(dir, "rftpd.toml")
	config := func(limits string) {
		putFile(t, cfg, "anonymous = "+strconv.Quote(tree)+"\n[limits]\n"+limits)
	}
	config("download_rate = \"2M\"\ndownload_rate_per_ip = 8388608\n")
	p := startProc(t, "-config", cfg)
	defer p.stop()
	u := "ftp://" + p.addr + "/big.bin"

	n, d := curlTime(t, dir, u)
	if n != size {
		t.Fatalf("curl received %d bytes, want %d", n, size)
	}
	checkLimited(t, "download under download_rate = \"2M\"", n, 2<<20, d)
	got, err := os.ReadFile(filepath.Join(dir, "out"))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("the limited download is not the file (%d bytes, %v)", len(got), err)
	}

	// STAT during a transfer shows its rate.
	c, _ := dialFrom(t, p.addr, "127.0.0.1")
	c.login("anonymous", "x@")
	c.cmd("TYPE I", 200)
	data := c.pasv()
	c.cmd("RETR big.bin", 150)
	if _, err := io.CopyN(io.Discard, data, 1<<20); err != nil {
		t.Fatal(err)
	}
	r := c.cmd("STAT", 213)
	if !strings.Contains(r.text(), "bytes/s") {
		t.Errorf("STAT during a transfer: %q, want its rate", r.text())
	}
	t.Logf("STAT: %s", r.text())
	c.cmd("ABOR", 426)
	c.expect(226)
	data.Close()

	// SIGHUP raises the limit; the per-address one (8 MiB/s) is now the
	// tightest but far above.
	config("download_rate = \"8M\"\ndownload_rate_per_ip = \"4M\"\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLogCount(t, p, `msg="SIGHUP: reloaded"`, 1)
	if line := p.stderr.String(); !strings.Contains(line, `changed="limits.download_rate limits.download_rate_per_ip"`) {
		t.Errorf("the reload's log line names the wrong settings:\n%s", line)
	}
	n, d = curlTime(t, dir, u)
	checkLimited(t, "download under download_rate_per_ip = \"4M\" after SIGHUP", n, 4<<20, d)
}

func TestRateSettings(t *testing.T) {
	for _, tt := range []struct {
		body string
		want int64 // limits.download_rate
		err  string
	}{
		{"", 0, ""},
		{"[limits]\ndownload_rate = 1000000\n", 1000000, ""},
		{"[limits]\ndownload_rate = \"10M\"\n", 10 << 20, ""},
		{"[limits]\ndownload_rate = \"512KiB\"\n", 512 << 10, ""},
		{"[limits]\ndownload_rate = \"10MB\"\n", 0, "ambiguous"},
		{"[limits]\ndownload_rate = \"100mbit\"\n", 0, "bits or bytes"},
		{"[limits]\ndownload_rate = -1\n", 0, "negative"},
	} {
		args := []string{}
		if tt.body != "" {
			args = []string{"-config", writeFile(t, "c.toml", tt.body)}
		}
		s, err := parseArgs(args, &bytes.Buffer{})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want one saying %q", tt.body, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.body, err)
		}
		_, _, d, err := s.configs()
		if err != nil {
			t.Fatalf("%q: %v", tt.body, err)
		}
		if d.Rates.Download != tt.want {
			t.Errorf("%q: download rate %d, want %d", tt.body, d.Rates.Download, tt.want)
		}
	}
}
