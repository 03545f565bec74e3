// Tests of the client matrix's pieces: the round order, the client command lines and what they report.
package bench

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestClientOrder(t *testing.T) {
	// Four servers (rftpd, the control, vsftpd, pure-ftpd): four rows.
	want := [][]int{{0, 1, 3, 2}, {1, 2, 0, 3}, {2, 3, 1, 0}, {3, 0, 2, 1}, {0, 1, 3, 2}}
	for i, w := range want {
		if got := ClientOrder(i+1, 4); !slices.Equal(got, w) {
			t.Errorf("round %d of 4: %v, want %v", i+1, got, w)
		}
	}
	// Three: the six orders, each once.
	seen := map[string]bool{}
	for round := 1; round <= 6; round++ {
		seen[fmt.Sprint(ClientOrder(round, 3))] = true
	}
	if len(seen) != 6 || ClientCycle(3) != 6 {
		t.Errorf("three servers: %d distinct orders in %d rounds", len(seen), ClientCycle(3))
	}
	for n := 1; n <= 7; n++ {
		cycle := ClientCycle(n)
		place := map[[2]int]int{} // server, place → times
		next := map[[2]int]int{}  // server, the one after it → times
		for round := 1; round <= cycle; round++ {
			o := ClientOrder(round, n)
			if s := slices.Sorted(slices.Values(o)); len(s) != n || s[0] != 0 || s[n-1] != n-1 || len(slices.Compact(s)) != n {
				t.Fatalf("n=%d round %d: %v is not an order of every server", n, round, o)
			}
			for i, v := range o {
				place[[2]int{v, i}]++
				if i > 0 {
					next[[2]int{o[i-1], v}]++
				}
			}
			if !slices.Equal(ClientOrder(round+cycle, n), o) || !slices.Equal(ClientOrder(round-cycle, n), o) {
				t.Errorf("n=%d: round %d and %d differ", n, round, round+cycle)
			}
		}
		for k, v := range place {
			if v != cycle/n {
				t.Errorf("n=%d: server %d ran in place %d %d times in %d rounds", n, k[0], k[1], v, cycle)
			}
		}
		if n > 1 && len(next) != n*(n-1) {
			t.Errorf("n=%d: %d of %d ordered neighbours", n, len(next), n*(n-1))
		}
		for k, v := range next {
			if v != next[[2]int{0, 1}] {
				t.Errorf("n=%d: %d ran after %d %d times, 1 after 0 %d times", n, k[1], k[0], v, next[[2]int{0, 1}])
			}
		}
	}
	if ClientOrder(1, 0) != nil {
		t.Error("no servers: an order")
	}
}

func TestClientArgs(t *testing.T) {
	get := "ftp://127.0.0.1:2121/large/1GiB.bin"
	put := "ftp://bench:bench-pass@127.0.0.1:2121/" + ClientUploadName
	lftpSet := "set cmd:interactive false; set cmd:fail-exit true; set ftp:ssl-allow false; set net:max-retries 1; set net:timeout 60; " +
		"set xfer:clobber true; set xfer:log true; set xfer:log-file /w/xfer.log; "
	cases := []struct {
		j    clientJob
		want []string
		err  string
	}{
		{clientJob{client: "curl", direction: Download, url: get}, []string{"curl", "-q", "-sS", "-o", "/dev/null", "-w", "%{size_download}", get}, ""},
		{clientJob{client: "curl", direction: Upload, url: put, source: "/d/large/1GiB.bin"},
			[]string{"curl", "-q", "-sS", "-T", "/d/large/1GiB.bin", "-w", "%{size_upload}", put}, ""},
		{clientJob{client: "wget", direction: Download, url: get},
			[]string{"wget", "--no-config", "-nv", "--tries=1", "--timeout=60", "-O", "/dev/null", get}, ""},
		{clientJob{client: "wget", direction: Upload, url: put, source: "/d/x"}, nil, "wget cannot upload"},
		{clientJob{client: "lftp", direction: Download, url: get, log: "/w/xfer.log"},
			[]string{"lftp", "--norc", "-c", lftpSet + "open ftp://127.0.0.1:2121; get large/1GiB.bin -o /dev/null"}, ""},
		{clientJob{client: "lftp", direction: Upload, url: put, source: "/d/large/1GiB.bin", log: "/w/xfer.log"},
			[]string{"lftp", "--norc", "-c", lftpSet + "open ftp://bench:bench-pass@127.0.0.1:2121; put /d/large/1GiB.bin -o " + ClientUploadName}, ""},
		{clientJob{client: "lftp", direction: Download, url: "ftp://127.0.0.1:2121/a;rm", log: "/w/x"}, nil, "cannot go into an lftp command"},
		{clientJob{client: "lftp", direction: Upload, url: put, source: "/d/my file", log: "/w/x"}, nil, "cannot go into an lftp command"},
		{clientJob{client: SelfClient, direction: Download, url: get, log: "/w/r.json", self: "/b/ftpbench"},
			[]string{"/b/ftpbench", "-q", "-url", "ftp://127.0.0.1:2121/", "-s", "large-get", "-c", "1", "-n", "1", "-sources", "1",
				"-large-file", "large/1GiB.bin", "-json", "/w/r.json"}, ""},
		{clientJob{client: SelfClient, direction: Upload, url: put, source: "/d/x", self: "/b/ftpbench"}, nil, "large-put rows"},
		{clientJob{client: "ftp", direction: Download, url: get}, nil, `unknown client "ftp"`},
		{clientJob{client: "curl", direction: "sideways", url: get}, nil, `unknown direction "sideways"`},
	}
	for _, c := range cases {
		got, err := clientArgs(c.j)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: error %v, want %q", c.j, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%+v:\n got %q, %v\nwant %q", c.j, got, err, c.want)
		}
	}
}

func TestClientBytes(t *testing.T) {
	cases := []struct {
		client, stdout, stderr, log string
		want                        int64
		err                         bool
	}{
		{"curl", "1073741824", "", "", 1 << 30, false},
		{"curl", "", "curl: (9) Server denied you to change to the given directory", "", 0, true},
		{"wget", "", `2026-12-01 22:30:00 URL: ftp://127.0.0.1:45527/large/32MiB.bin [33554432] -> "/dev/null" [1]`, "", 32 << 20, false},
		{"wget", "", "No such file ‘1GiB.bin’.", "", 0, true},
		{"lftp", "", "", "2026-12-01 22:30:00 ftp://127.0.0.1:45527/large/32MiB.bin -> /dev/null 0-33554432 332.46 MiB/s\n", 32 << 20, false},
		// A transfer resumed after a reconnection: the ranges add up.
		{"lftp", "", "", "2026-12-01 22:30:00 /d/x -> ftp://bench@127.0.0.1:1/y 0-1000 1.00 MiB/s\n2026-12-01 22:30:01 /d/x -> ftp://bench@127.0.0.1:1/y 1000-4096 2.00 MiB/s\n", 4096, false},
		{"lftp", "", "", "", 0, true},
		{SelfClient, "", "", `{"results": [{"scenario": "large-get", "ops": 1, "bytes": 33554432, "errors": 0}]}`, 32 << 20, false},
		{SelfClient, "", "", `{"results": [{"scenario": "large-get", "ops": 0, "bytes": 100, "errors": 1}]}`, 0, true},
		{SelfClient, "", "", `{"results": []}`, 0, true},
		{SelfClient, "", "", "", 0, true},
	}
	for _, c := range cases {
		got, err := clientBytes(c.client, c.stdout, c.stderr, c.log)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s %q %q %q: %d, %v; want %d (error %v)", c.client, c.stdout, c.stderr, c.log, got, err, c.want, c.err)
		}
	}
}

func TestParseClientVersion(t *testing.T) {
	for out, want := range map[string]string{
		"curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/7.88.1 OpenSSL/3.0.19\nRelease-Date: 2023-02-20\n": "7.88.1",
		"LFTP | Version 4.9.2 | Copyright (c) 1996-2020 Alexander V. Lukyanov\n":                      "4.9.2",
		"GNU Wget 1.21.3 built on linux-gnu.\n":                                                       "1.21.3",
		"":                                                                                            "",
	} {
		if got := parseClientVersion(out); got != want {
			t.Errorf("%q: %q, want %q", out, got, want)
		}
	}
}

func TestFileURL(t *testing.T) {
	for _, c := range [][3]string{
		{"ftp://127.0.0.1:2121/", "large/1GiB.bin", "ftp://127.0.0.1:2121/large/1GiB.bin"},
		{"ftp://ftpbench:bench-pass@127.0.0.1:2121/", ClientUploadName, "ftp://ftpbench:bench-pass@127.0.0.1:2121/" + ClientUploadName},
	} {
		if got, err := fileURL(c[0], c[1]); err != nil || got != c[2] {
			t.Errorf("fileURL(%q, %q) = %q, %v", c[0], c[1], got, err)
		}
	}
}
