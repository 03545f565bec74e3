// End-to-end: the stat cache, with jlaffaye/ftp against the real binary.
package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStatCache: SIZE after an upload, a second upload and a delete made
// through rftpd always tells the truth at once; a change made beside
// rftpd shows once stat_cache has passed, and at once with it off.
func TestStatCache(t *testing.T) {
	for _, c := range []struct {
		name, conf string
		ttl        time.Duration
	}{{"default", "", time.Second}, {"off", "stat_cache = \"0s\"\n", 0}} {
		t.Run(c.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "rftpd.toml")
			putFile(t, conf, c.conf)
			s := startStd(t, "-config", conf)
			ftpc := goftpDial(t, s.addr, "writer", writerPass)
			size := func(want int64) {
				t.Helper()
				for range 3 { // the first from a worker, the repeats from the cache
					if n, err := ftpc.FileSize("f.bin"); err != nil || n != want {
						t.Fatalf("SIZE f.bin: %d, %v; want %d", n, err, want)
					}
				}
			}
			for _, n := range []int{10, 25, 3} {
				if err := ftpc.Stor("f.bin", bytes.NewReader(make([]byte, n))); err != nil {
					t.Fatal(err)
				}
				size(int64(n))
			}
			// Beside rftpd: seen once the cache's time has passed.
			if err := os.WriteFile(filepath.Join(s.writer, "f.bin"), make([]byte, 40), 0o644); err != nil {
				t.Fatal(err)
			}
			changed := time.Now()
			for {
				n, err := ftpc.FileSize("f.bin")
				if err != nil {
					t.Fatal(err)
				}
				if n == 40 {
					break
				}
				if n != 3 || time.Since(changed) > c.ttl+clientTimeout {
					t.Fatalf("SIZE %d %v after the change beside rftpd (stat_cache %v)", n, time.Since(changed), c.ttl)
				}
				if c.ttl == 0 {
					t.Fatalf("SIZE %d with the cache off: the change beside rftpd was not seen", n)
				}
				time.Sleep(c.ttl / 10)
			}
			size(40)
			if err := ftpc.Delete("f.bin"); err != nil {
				t.Fatal(err)
			}
			if _, err := ftpc.FileSize("f.bin"); err == nil || !strings.HasPrefix(err.Error(), "550") {
				t.Fatalf("SIZE of a deleted file: %v, want 550", err)
			}
		})
	}
}
