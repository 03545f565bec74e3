// End-to-end checksums: HASH, RANG and the X forms against sha256sum, sha512sum, sha1sum, md5sum and Go's CRC-32, ABOR and QUIT mid-hash, and the rate cap.
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hashConfig writes a config file with the given [limits] lines.
func hashConfig(t *testing.T, limits string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rftpd.toml")
	if err := os.WriteFile(p, []byte("[limits]\n"+limits), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// bigFile makes a 1 GiB file of size bytes in dir: sparse, with 64 KiB of
// random data every 64 MiB so that its sums are not those of zeros.
func bigFile(t *testing.T, dir, name string, size int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for off := int64(0); off < size; off += 64 << 20 {
		rand.Read(chunk)
		if _, err := f.WriteAt(chunk[:min(int64(len(chunk)), size-off)], off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// toolSum runs a coreutils *sum tool on path and returns its hex.
func toolSum(t *testing.T, tool, path string) string {
	t.Helper()
	r := mustRun(t, "", needTool(t, tool, "coreutils"), path)
	sum, _, _ := strings.Cut(r.stdout, " ")
	return sum
}

// crcSum is the CRC-32 (IEEE) of the file at path, in hex.
func crcSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%08x", crc32.ChecksumIEEE(b))
}

// hashReply parses "213 ALGO START-END HEX NAME".
func hashReply(t *testing.T, r reply) (algo, rng, sum, name string) {
	t.Helper()
	f := strings.SplitN(r.text(), " ", 4)
	if r.code != 213 || len(f) != 4 {
		t.Fatalf("HASH reply %q", r)
	}
	return f[0], f[1], f[2], f[3]
}

// TestE2EHashSums compares HASH and the X forms with the coreutils tools
// on files of 0 B, 1 B, 4 KiB and 1 GiB, and RANG's ranges with Go's
// SHA-256, over a raw control connection to the real binary.
func TestE2EHashSums(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"empty": {}, "one": {'x'}, "four k": make([]byte, 4096)}
	rand.Read(files["four k"])
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const big = 1 << 30
	bigFile(t, dir, "big", big)
	addr := startServer(t, "-anonymous", dir, "-config", hashConfig(t, "hash_rate = 0\nhash_rate_per_session = 0\n"))
	c := dial(t, addr)
	c.login("anonymous", "a@b")

	algos := []struct{ name, tool, x string }{
		{"SHA-256", "sha256sum", "XSHA256"},
		{"SHA-512", "sha512sum", "XSHA512"},
		{"SHA-1", "sha1sum", "XSHA1"},
		{"MD5", "md5sum", "XMD5"},
		{"CRC32", "", "XCRC"},
	}
	for _, name := range []string{"empty", "one", "four k", "big"} {
		path := filepath.Join(dir, name)
		fi, _ := os.Stat(path)
		wantRange := fmt.Sprintf("0-%d", max(fi.Size()-1, 0))
		for _, a := range algos {
			if name == "big" && a.name != "SHA-256" && a.name != "MD5" {
				continue // two algorithms are enough for the large file's time
			}
			var want string
			if a.tool == "" {
				want = crcSum(t, path)
			} else {
				want = toolSum(t, a.tool, path)
			}
			c.cmd("OPTS HASH "+a.name, 200)
			t0 := time.Now()
			algo, rng, sum, got := hashReply(t, c.cmd("HASH "+name, 213))
			took := time.Since(t0)
			if algo != a.name || rng != wantRange || sum != want || got != name {
				t.Errorf("HASH %s with %s: %s %s %s %q; want %s %s %s", name, a.name, algo, rng, sum, got, a.name, wantRange, want)
			}
			if name == "big" {
				t.Logf("HASH of 1 GiB with %s, uncapped: %v (%.0f MiB/s)", a.name, took, float64(big)/took.Seconds()/(1<<20))
			}
			x := c.cmd(a.x+` "`+name+`"`, 250)
			if x.text() != strings.ToUpper(want) {
				t.Errorf("%s %s: %q, want %s", a.x, name, x.text(), strings.ToUpper(want))
			}
		}
	}

	// Ranges: RANG (both ends included) and the X forms' start and end
	// (end excluded), against Go's SHA-256 of the same bytes.
	data := files["four k"]
	part := func(a, b int) string { s := sha256.Sum256(data[a:b]); return hex.EncodeToString(s[:]) }
	c.cmd("OPTS HASH SHA-256", 200)
	c.cmd("RANG 0 1023", 350)
	if _, rng, sum, _ := hashReply(t, c.cmd("HASH four k", 213)); rng != "0-1023" || sum != part(0, 1024) {
		t.Errorf("RANG 0 1023: %s %s", rng, sum)
	}
	c.cmd("RANG 4000 99999", 350)
	if _, rng, sum, _ := hashReply(t, c.cmd("HASH four k", 213)); rng != "4000-4095" || sum != part(4000, 4096) {
		t.Errorf("RANG 4000 99999: %s %s", rng, sum)
	}
	if r := c.cmd(`XSHA256 "four k" 100 200`, 250); r.text() != strings.ToUpper(part(100, 200)) {
		t.Errorf("XSHA256 100 200: %s", r.text())
	}
	if r := c.cmd(`XSHA256 "four k" 4095`, 250); r.text() != strings.ToUpper(part(4095, 4096)) {
		t.Errorf("XSHA256 4095: %s", r.text())
	}
	c.cmd(`XSHA256 "four k" 0 4097`, 501)
	c.cmd("RANG 5000 6000", 350)
	c.cmd("HASH four k", 501)
	c.cmd("HASH missing", 550)
	c.cmd("HASH /", 553)
	c.cmd("XMD5 /", 550)
	c.cmd("OPTS HASH CRC-37", 501)
	c.cmd("QUIT", 221)
}

// TestE2EHashCurl sends HASH and XMD5 with curl -Q, as scripts do, and
// reads the replies from its log.
func TestE2EHashCurl(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 4096)
	rand.Read(data)
	path := filepath.Join(dir, "f.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "-anonymous", dir, "-admin-listen", "127.0.0.1:0")
	addr := p.addr
	want256, want5 := toolSum(t, "sha256sum", path), toolSum(t, "md5sum", path)
	r := curl(t, dir, "-Q", "HASH f.bin", "-Q", "OPTS HASH MD5", "-Q", "HASH f.bin", "-Q", "XMD5 f.bin", "ftp://"+addr+"/", "-o", os.DevNull)
	if r.code != 0 {
		t.Fatalf("curl -Q: %s", r)
	}
	for _, want := range []string{
		"< 213 SHA-256 0-4095 " + want256 + " f.bin",
		"< 200 MD5",
		"< 213 MD5 0-4095 " + want5 + " f.bin",
		"< 250 " + strings.ToUpper(want5),
	} {
		if !strings.Contains(r.stderr, want+"\r\n") && !strings.Contains(r.stderr, want+"\n") {
			t.Errorf("curl's log lacks %q:\n%s", want, r.stderr)
		}
	}
	// three checksums of 4 KiB read 12 KiB; the pool is in the metrics
	_, body := httpGet(t, "http://"+p.adminAddr(t)+"/metrics")
	m := samples(body)
	for series, want := range map[string]string{
		`rftpd_checksum_bytes_total`:                    "12288",
		`rftpd_pool_workers{pool="checksum"}`:           "2",
		`rftpd_commands_total{class="2xx",verb="HASH"}`: "2",
		`rftpd_commands_total{class="2xx",verb="XMD5"}`: "1",
	} {
		if m[series] != want {
			t.Errorf("%s = %q, want %s", series, m[series], want)
		}
	}
}

// TestE2EHashAbortAndCap: under a per-session cap, a hash of 1 GiB would
// take a minute; ABOR ends it at once (426, then 226), QUIT too (426,
// then 221); and a hash of N MiB under a cap of R MiB/s takes at least
// about N/R.
func TestE2EHashAbortAndCap(t *testing.T) {
	dir := t.TempDir()
	bigFile(t, dir, "big", 1<<30)
	const capMiB = 32
	addr := startServer(t, "-anonymous", dir, "-config", hashConfig(t, fmt.Sprintf("hash_rate_per_session = %d\n", capMiB<<20)))

	c := dial(t, addr)
	c.login("anonymous", "a@b")
	c.send("HASH big")
	time.Sleep(300 * time.Millisecond)
	c.cmd("STAT", 213)
	t0 := time.Now()
	c.send("ABOR")
	if r := c.read(); r.code != 426 {
		t.Fatalf("ABOR mid-hash: %q, want 426", r)
	}
	c.expect(226)
	took := time.Since(t0)
	if took > 2*time.Second {
		t.Errorf("ABOR took %v to end the hash", took)
	}
	t.Logf("ABOR ended a capped hash of 1 GiB in %v", took)

	// The cap: 64 MiB at 32 MiB/s is at least about 2 s (the bucket starts
	// with 256 KiB; 10% margin for timers).
	c.cmd("RANG 0 67108863", 350)
	t0 = time.Now()
	c.cmd("HASH big", 213)
	took = time.Since(t0)
	if min := time.Duration(float64(64<<20-256<<10) / float64(capMiB<<20) * 0.9 * float64(time.Second)); took < min {
		t.Errorf("64 MiB under a cap of %d MiB/s took %v, less than %v", capMiB, took, min)
	}
	t.Logf("HASH of 64 MiB at a cap of %d MiB/s: %v (%.1f MiB/s)", capMiB, took, 64/took.Seconds())

	c.send("XSHA512 big")
	time.Sleep(200 * time.Millisecond)
	c.send("QUIT")
	if r := c.read(); r.code != 426 {
		t.Fatalf("QUIT mid-hash: %q, want 426", r)
	}
	c.expect(221)
}
