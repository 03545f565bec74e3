// End-to-end: the listing cache, with jlaffaye/ftp, curl and Python's ftplib against the real binary.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestListCache: a folder listed again is sent from memory, the same bytes,
// counted in rftpd_cache_hits_total{cache="list"}; every change made
// through rftpd (by any client) shows in the next listing; a file made
// beside rftpd does not show while the listing is young (stat_cache is an
// hour here, so the count is exact whatever the machine's load), and shows
// at once with list_cache = 0.
func TestListCache(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "rftpd.toml")
	putFile(t, conf, "stat_cache = \"1h\"\n")
	p, admin, root := metricsServer(t, 10, "-config", conf)
	host, port, _ := strings.Cut(p.addr, ":")
	c := goftpDial(t, p.addr, "writer", writerPass)
	if err := c.MakeDir("pub"); err != nil {
		t.Fatal(err)
	}
	names := func(want ...string) {
		t.Helper()
		got, err := c.NameList("pub")
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i] = filepath.Base(got[i]) // NLST pub may name pub/a.bin
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("NLST pub: %q, want %q", got, want)
		}
	}
	hits := func() string {
		t.Helper()
		_, text := httpGet(t, "http://"+admin+"/metrics")
		return samples(text)[`rftpd_cache_hits_total{cache="list"}`]
	}

	if err := c.Stor("pub/a.bin", bytes.NewReader([]byte("a"))); err != nil {
		t.Fatal(err)
	}
	names("a.bin")
	names("a.bin") // 1 hit
	if got := hits(); got != "1" {
		t.Fatalf("list cache hits %q after one repeat, want 1", got)
	}

	// curl's LIST, twice: the same bytes, the second from memory.
	curl := needTool(t, "curl", "curl")
	url := fmt.Sprintf("ftp://writer:%s@%s/pub/", writerPass, p.addr)
	first := runTool(t, t.TempDir(), "", curl, "-s", "-S", url)
	second := runTool(t, t.TempDir(), "", curl, "-s", "-S", url)
	if first.code != 0 || second.code != 0 || !strings.Contains(first.stdout, "a.bin") || first.stdout != second.stdout {
		t.Fatalf("curl LIST twice:\n%s\n%s", first, second)
	}
	if got := hits(); got != "2" {
		t.Fatalf("list cache hits %q after curl's repeat, want 2", got)
	}

	// Python's ftplib uploads and lists with MLSD: its upload shows at once,
	// to it and to the other client.
	script := fmt.Sprintf(`import ftplib
f = ftplib.FTP()
f.connect(%q, %s)
f.login("writer", %q)
print(sorted(n for n, _ in f.mlsd("pub")))
f.storbinary("STOR pub/b.bin", __import__("io").BytesIO(b"bb"))
print(sorted(n for n, _ in f.mlsd("pub")))
f.quit()
`, host, port, writerPass)
	py := runToolEnv(t, t.TempDir(), script, []string{"PYTHONDONTWRITEBYTECODE=1"}, needTool(t, "python3", "python3"), "-")
	if py.code != 0 || py.stdout != "['.', 'a.bin']\n['.', 'a.bin', 'b.bin']\n" {
		t.Fatalf("ftplib MLSD before and after its STOR: %s", py)
	}
	names("a.bin", "b.bin")
	names("a.bin", "b.bin")
	if err := c.Delete("pub/a.bin"); err != nil {
		t.Fatal(err)
	}
	names("b.bin")
	if err := c.Rename("pub/b.bin", "pub/c.bin"); err != nil {
		t.Fatal(err)
	}
	names("c.bin")
	names("c.bin")

	// Beside rftpd: not seen while the listing is young.
	if err := os.WriteFile(filepath.Join(root, "pub", "beside.bin"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	names("c.bin")
	if got := hits(); got != "5" {
		t.Fatalf("list cache hits %q at the end, want 5", got)
	}
	_, text := httpGet(t, "http://"+admin+"/metrics")
	m := samples(text)
	held, err := strconv.ParseFloat(m["rftpd_list_cache_bytes"], 64)
	if err != nil || held <= 0 {
		t.Errorf("rftpd_list_cache_bytes = %q with listings kept", m["rftpd_list_cache_bytes"])
	}
	if limit, err := strconv.ParseFloat(m["rftpd_list_cache_limit_bytes"], 64); err != nil || limit != 4<<20 || held > limit {
		t.Errorf("rftpd_list_cache_limit_bytes = %q, want the default 4 MiB, above the %g held", m["rftpd_list_cache_limit_bytes"], held)
	}

	// list_cache = 0: the same at once.
	off := filepath.Join(t.TempDir(), "rftpd.toml")
	putFile(t, off, "stat_cache = \"1h\"\n[limits]\nlist_cache = 0\n")
	p2, admin2, root2 := metricsServer(t, 10, "-config", off)
	c2 := goftpDial(t, p2.addr, "writer", writerPass)
	list := func() []string {
		t.Helper()
		got, err := c2.NameList("/")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	before := list()
	if err := os.WriteFile(filepath.Join(root2, "beside.bin"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if after := list(); len(after) != len(before)+1 || !slices.Contains(after, "beside.bin") {
		t.Fatalf("list_cache = 0: %q after a file was made beside rftpd (before: %q)", after, before)
	}
	_, text = httpGet(t, "http://"+admin2+"/metrics")
	m = samples(text)
	if got := m[`rftpd_cache_hits_total{cache="list"}`]; got != "0" {
		t.Fatalf("list_cache = 0: %q hits", got)
	}
	if got, ok := m["rftpd_list_cache_limit_bytes"]; ok || m["rftpd_list_cache_bytes"] != "0" {
		t.Fatalf("list_cache = 0: limit %q (present: %v), bytes %q", got, ok, m["rftpd_list_cache_bytes"])
	}
}
