// Large downloads by real clients through the send threads (dtp/lane.go).
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every client's download of a file far larger than the socket buffers
// takes a send thread once it has proven fast, arrives byte for byte, and
// the threads are all free again afterwards (rftpd_send_threads_busy).
func TestSendThreadsWithRealClients(t *testing.T) {
	const size = 48 << 20
	// Without a bound on unsent bytes a download is fast from the start,
	// whatever the machine's load; TestLaneAfterLift (dtp) covers the
	// lifted bound.
	config := filepath.Join(t.TempDir(), "rftpd.toml")
	if err := os.WriteFile(config, []byte("[limits]\ndata_unsent = 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, admin, root := metricsServer(t, size, "-config", config)
	want, err := os.ReadFile(filepath.Join(root, "known.bin"))
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("ftp://writer:%s@%s/known.bin", writerPass, p.addr)
	host, port, _ := strings.Cut(p.addr, ":")
	work := t.TempDir()
	clients := []struct {
		name string
		run  func(out string) toolResult
	}{
		{"curl", func(out string) toolResult {
			return runTool(t, work, "", needTool(t, "curl", "curl"), "-s", "-S", "-o", out, url)
		}},
		{"wget", func(out string) toolResult {
			return runTool(t, work, "", needTool(t, "wget", "wget"), "-q", "-O", out, url)
		}},
		{"lftp", func(out string) toolResult {
			script := fmt.Sprintf("set xfer:clobber yes; open -u writer,%s -p %s %s; get known.bin -o %s", writerPass, port, host, out)
			return runTool(t, work, "", needTool(t, "lftp", "lftp"), "-c", script)
		}},
		{"ftplib", func(out string) toolResult {
			script := fmt.Sprintf(`import ftplib
f = ftplib.FTP()
f.connect(%q, %s)
f.login("writer", %q)
with open(%q, "wb") as o:
    f.retrbinary("RETR known.bin", o.write)
f.quit()
`, host, port, writerPass, out)
			return runToolEnv(t, work, script, []string{"PYTHONDONTWRITEBYTECODE=1"}, needTool(t, "python3", "python3"), "-")
		}},
		{"jlaffaye/ftp", func(out string) toolResult {
			c := ftpDial(t, p.addr)
			defer c.Quit()
			if err := c.Login("writer", writerPass); err != nil {
				return toolResult{stderr: err.Error(), code: 1}
			}
			r, err := c.Retr("known.bin")
			if err != nil {
				return toolResult{stderr: err.Error(), code: 1}
			}
			got, err := io.ReadAll(r)
			if cerr := r.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.WriteFile(out, got, 0o644)
			}
			if err != nil {
				return toolResult{stderr: err.Error(), code: 1}
			}
			return toolResult{}
		}},
	}
	for i, c := range clients {
		out := filepath.Join(work, fmt.Sprintf("out%d", i))
		if r := c.run(out); r.code != 0 {
			t.Fatalf("%s: %s", c.name, r)
		}
		got, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: downloaded %d bytes (%v), not the file's %d", c.name, len(got), err, size)
		}
		os.Remove(out)
	}
	_, text := httpGet(t, "http://"+admin+"/metrics")
	m := samples(text)
	if got, want := m["rftpd_send_thread_downloads_total"], fmt.Sprint(len(clients)); got != want {
		t.Errorf("rftpd_send_thread_downloads_total = %q after %s downloads of 48 MiB, want %s", got, want, want)
	}
	if got := m["rftpd_send_threads_busy"]; got != "0" {
		t.Errorf("rftpd_send_threads_busy = %q after every download, want 0", got)
	}
	if got := m["rftpd_send_threads_max"]; got != "16" {
		t.Errorf("rftpd_send_threads_max = %q, want the default 16", got)
	}
}
