// End-to-end tests of the access log, the xferlog and SIGUSR1's reopen, driven by curl and a raw client.
package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// xferEntry is one xferlog line split into its fields.
type xferEntry struct {
	when                                     time.Time
	secs                                     int
	host                                     string
	bytes                                    int64
	path, typ, action, dir, mode, user       string
	service, authMethod, authUser, completed string
}

// parseXferlog splits the xferlog format's lines; a line with the wrong
// number of fields or a bad time, duration or size fails the test.
func parseXferlog(t *testing.T, text string) []xferEntry {
	t.Helper()
	var out []xferEntry
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 18 {
			t.Fatalf("xferlog line has %d fields, want 18: %q", len(f), line)
		}
		when, err := time.ParseInLocation("Mon Jan 2 15:04:05 2006", strings.Join(f[:5], " "), time.Local)
		if err != nil {
			t.Fatalf("xferlog time in %q: %v", line, err)
		}
		secs, err1 := strconv.Atoi(f[5])
		n, err2 := strconv.ParseInt(f[7], 10, 64)
		if err1 != nil || err2 != nil || secs < 1 {
			t.Fatalf("xferlog transfer-time or size in %q", line)
		}
		out = append(out, xferEntry{when, secs, f[6], n, f[8], f[9], f[10], f[11], f[12], f[13], f[14], f[15], f[16], f[17]})
	}
	return out
}

// jsonLines parses a JSON log, one object per line.
func jsonLines(t *testing.T, text string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// findLine returns the first line whose msg is msg and whose fields hold
// every key and value of want (compared as text).
func findLine(lines []map[string]any, msg string, want map[string]string) map[string]any {
	for _, l := range lines {
		if l["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range want {
			got, present := l[k]
			if !present || jsonText(got) != v {
				ok = false
				break
			}
		}
		if ok {
			return l
		}
	}
	return nil
}

func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// waitFile waits up to 10 s for the file at path to hold text.
func waitFile(t *testing.T, path, text string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), text) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q did not appear in %s:\n%s", text, path, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// After a known sequence of logins, changes and transfers by curl and a
// raw client, the JSON access log has a line for each login (accepted or
// refused, and why), each change and each transfer, the xferlog a line per
// file transfer with every field right, and no password is written
// anywhere, even at debug level.
func TestAccessAndTransferLogs(t *testing.T) {
	curl := needTool(t, "curl", "curl")
	logs := t.TempDir()
	logFile, xferFile := filepath.Join(logs, "rftpd.log"), filepath.Join(logs, "xferlog")
	cfg := filepath.Join(logs, "rftpd.toml")
	putFile(t, cfg, "log_level = \"debug\"\nlog_format = \"json\"\nlog_file = \"rftpd.log\"\nxferlog = \"xferlog\"\n")
	start := time.Now().Add(-time.Second).Truncate(time.Second)
	s := startStd(t, "-config", cfg, "-admin-listen", "127.0.0.1:0")
	work := t.TempDir()

	// 1. anonymous download; 2. a wrong password and an unknown user
	mustRun(t, work, curl, "-sS", "-o", "hello.txt", s.url("", fHello))
	const wrong = "not-the-Pa55word"
	if r := runTool(t, work, "", curl, "-sS", "-o", "/dev/null", s.url("writer:"+wrong, "/")); r.code == 0 {
		t.Fatalf("a wrong password logged in: %s", r)
	}
	if r := runTool(t, work, "", curl, "-sS", "-o", "/dev/null", s.url("nobody-here:"+wrong, "/")); r.code == 0 {
		t.Fatalf("an unknown user logged in: %s", r)
	}
	// 3. uploads, binary and ASCII, one with a space in its name
	up := randomBytes(71, 5000)
	putFile(t, filepath.Join(work, "up.bin"), string(up))
	putFile(t, filepath.Join(work, "notes.txt"), "one\ntwo\n")
	mustRun(t, work, curl, "-sS", "-T", "up.bin", s.url("writer:"+writerPass, "/up%20load.bin"))
	mustRun(t, work, curl, "-sS", "-B", "-T", "notes.txt", s.url("writer:"+writerPass, "/notes.txt"))
	// 4. every change a client can make on the control channel
	mustRun(t, work, curl, "-sS", "-o", "/dev/null", s.url("writer:"+writerPass, "/"),
		"-Q", "MKD made", "-Q", "RNFR made", "-Q", "RNTO renamed", "-Q", "SITE CHMOD 640 notes.txt",
		"-Q", "MFMT 20240102030405 notes.txt", "-Q", "DELE up load.bin", "-Q", "RMD renamed")
	// a change refused: DELE of a file that is not there
	if r := runTool(t, work, "", curl, "-sS", "-o", "/dev/null", s.url("writer:"+writerPass, "/"), "-Q", "DELE missing.txt"); r.code == 0 {
		t.Fatalf("DELE of a missing file succeeded: %s", r)
	}
	// 5. an aborted download
	c := dial(t, s.addr)
	c.login("anonymous", "me@example.org")
	c.cmd("TYPE I", 200)
	d := c.pasv()
	c.cmd("RETR "+fBig, 150)
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(d, make([]byte, 64<<10)); err != nil {
		t.Fatalf("read first data: %v", err)
	}
	c.send("ABOR")
	wantStatus := "i"
	if r := c.read(); r.code == 426 {
		c.expect(226)
	} else if r.code == 226 {
		wantStatus = "c" // it finished first
	} else {
		t.Fatalf("ABOR: got %q", r)
	}
	d.Close()
	c.cmd("QUIT", 221)

	// The last transfer's lines are written by the time the 226 came;
	// they reach the files through the log queues.
	xfer := parseXferlog(t, waitFile(t, xferFile, fBig))
	if len(xfer) != 4 {
		t.Fatalf("xferlog has %d lines, want 4 (listings are not logged):\n%+v", len(xfer), xfer)
	}
	want := []struct {
		path, typ, dir, mode, user, status string
		bytes                              int64
	}{
		{"/" + fHello, "b", "o", "a", "anonymous", "c", int64(len(fixtureFiles[fHello]))},
		{"/up_load.bin", "b", "i", "r", "writer", "c", int64(len(up))},
		{"/notes.txt", "a", "i", "r", "writer", "c", int64(len("one\r\ntwo\r\n"))},
		{"/" + fBig, "b", "o", "a", "anonymous", wantStatus, -1},
	}
	for i, w := range want {
		e := xfer[i]
		if e.path != w.path || e.typ != w.typ || e.dir != w.dir || e.mode != w.mode || e.user != w.user || e.completed != w.status {
			t.Errorf("xferlog line %d: %+v, want %+v", i, e, w)
		}
		if w.bytes >= 0 && e.bytes != w.bytes {
			t.Errorf("xferlog line %d: %d bytes, want %d", i, e.bytes, w.bytes)
		}
		if e.host != "127.0.0.1" || e.action != "_" || e.service != "ftp" || e.authMethod != "0" || e.authUser != "*" {
			t.Errorf("xferlog line %d: fixed fields %+v", i, e)
		}
		if e.when.Before(start) || e.when.After(time.Now().Add(time.Second)) {
			t.Errorf("xferlog line %d: time %v outside the test's run", i, e.when)
		}
	}
	if wantStatus == "i" && (xfer[3].bytes < 64<<10 || xfer[3].bytes >= int64(len(fixtureFiles[fBig]))) {
		t.Errorf("aborted download logged %d bytes, want at least what was read and less than the file", xfer[3].bytes)
	}

	text := waitFile(t, logFile, `"path":"/`+fBig+`"`)
	lines := jsonLines(t, text)
	for _, c := range []struct {
		msg  string
		want map[string]string
	}{
		{"login", map[string]string{"client": "127.0.0.1", "user": "anonymous", "anonymous": "true", "tls": "false", "level": "INFO"}},
		{"login refused", map[string]string{"client": "127.0.0.1", "user": "writer", "reason": "bad password", "level": "WARN"}},
		{"login refused", map[string]string{"client": "127.0.0.1", "user": "nobody-here", "reason": "unknown user"}},
		{"login", map[string]string{"user": "writer", "anonymous": "false"}},
		{"transfer", map[string]string{"op": "RETR", "user": "anonymous", "path": "/" + fHello, "result": "complete", "bytes": strconv.Itoa(len(fixtureFiles[fHello]))}},
		{"transfer", map[string]string{"op": "STOR", "user": "writer", "path": "/up load.bin", "result": "complete", "bytes": strconv.Itoa(len(up))}},
		{"transfer", map[string]string{"op": "LIST", "user": "writer", "level": "DEBUG"}},
		{"change", map[string]string{"op": "MKD", "user": "writer", "path": "/made", "client": "127.0.0.1"}},
		{"change", map[string]string{"op": "RNTO", "path": "/made", "to": "/renamed"}},
		{"change", map[string]string{"op": "SITE CHMOD", "path": "/notes.txt", "mode": "0640"}},
		{"change", map[string]string{"op": "MFMT", "path": "/notes.txt", "mtime": "2024-01-02T03:04:05Z"}},
		{"change", map[string]string{"op": "DELE", "path": "/up load.bin"}},
		{"change", map[string]string{"op": "RMD", "path": "/renamed"}},
		{"change refused", map[string]string{"op": "DELE", "path": "/missing.txt", "level": "WARN"}},
	} {
		if findLine(lines, c.msg, c.want) == nil {
			t.Errorf("no %q line with %v in the log:\n%s", c.msg, c.want, text)
		}
	}
	if l := findLine(lines, "transfer", map[string]string{"op": "RETR", "path": "/" + fBig}); l == nil || (wantStatus == "i" && l["result"] != "aborted") {
		t.Errorf("the aborted download's line: %v", l)
	}
	for _, secret := range []string{writerPass, wrong, "me@example.org"} {
		for _, f := range []string{text, waitFile(t, xferFile, "")} {
			if strings.Contains(f, secret) {
				t.Errorf("a password (%q) is in a log:\n%s", secret, f)
			}
		}
	}

	// The metrics count the same sequence.
	code, body := httpGet(t, "http://"+s.proc.adminAddr(t)+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	m := samples(body)
	aborted := map[string]string{"i": "1", "c": "0"}[wantStatus]
	for series, want := range map[string]string{
		`rftpd_logins_total{result="ok"}`:                              "6",
		`rftpd_logins_total{result="refused"}`:                         "2",
		`rftpd_transfers_total{direction="download",result="ok"}`:      map[string]string{"i": "1", "c": "2"}[wantStatus],
		`rftpd_transfers_total{direction="download",result="aborted"}`: aborted,
		`rftpd_transfers_total{direction="upload",result="ok"}`:        "2",
		`rftpd_transfer_bytes_total{direction="upload"}`:               strconv.Itoa(len(up) + len("one\r\ntwo\r\n")),
		`rftpd_commands_total{class="2xx",verb="MKD"}`:                 "1",
		`rftpd_commands_total{class="2xx",verb="RMD"}`:                 "1",
		`rftpd_commands_total{class="2xx",verb="RNTO"}`:                "1",
		`rftpd_commands_total{class="2xx",verb="MFMT"}`:                "1",
		`rftpd_commands_total{class="2xx",verb="SITE"}`:                "1",
		`rftpd_commands_total{class="2xx",verb="DELE"}`:                "1",
		`rftpd_commands_total{class="5xx",verb="DELE"}`:                "1",
		`rftpd_commands_total{class="5xx",verb="PASS"}`:                "2",
		`rftpd_log_lines_dropped_total{log="main"}`:                    "0",
		`rftpd_log_lines_dropped_total{log="xferlog"}`:                 "0",
	} {
		if m[series] != want {
			t.Errorf("%s = %q, want %s", series, m[series], want)
		}
	}
	if strings.Contains(s.proc.stderr.String(), `"msg":"login"`) {
		t.Errorf("with log_file set, log lines still go to stderr:\n%s", s.proc.stderr.String())
	}
}

// SIGUSR1 reopens the log and the xferlog by name: after logrotate has
// renamed them, new lines go to new files of the old names.
func TestReopenLogsOnSIGUSR1(t *testing.T) {
	curl := needTool(t, "curl", "curl")
	logs := t.TempDir()
	logFile, xferFile := filepath.Join(logs, "rftpd.log"), filepath.Join(logs, "xferlog")
	s := startStd(t, "-log-file", logFile, "-xferlog", xferFile)
	work := t.TempDir()
	mustRun(t, work, curl, "-sS", "-o", "/dev/null", s.url("", fHello))
	waitFile(t, xferFile, "/"+fHello)
	waitFile(t, logFile, "msg=transfer")
	for _, f := range []string{logFile, xferFile} {
		if err := os.Rename(f, f+".1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.proc.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	waitFile(t, logFile, `msg="log files reopened"`)
	mustRun(t, work, curl, "-sS", "-o", "/dev/null", s.url("", fSmall))
	waitFile(t, xferFile, "/"+fSmall)
	waitFile(t, logFile, "path=/"+fSmall)
	for _, f := range []string{logFile, xferFile} {
		old, err := os.ReadFile(f + ".1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(old), fSmall) {
			t.Errorf("%s.1 got a line after the reopen:\n%s", f, old)
		}
		if !strings.Contains(string(old), fHello) {
			t.Errorf("%s.1 lost its line:\n%s", f, old)
		}
	}
	if err := s.proc.stop(); err != nil {
		t.Fatal(err)
	}
}
