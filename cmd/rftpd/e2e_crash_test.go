// End-to-end proof of upload safety under kill -9: 200 concurrent uploads, SIGKILL mid-way, restart on the same tree, nothing damaged, no temporary file left.
//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// crashJob is one upload of TestCrashUploads.
type crashJob struct {
	name     string
	kind     string // "STOR" over an existing file, "APPE", or "REST" (REST+STOR)
	old, new []byte
	offset   int  // REST offset
	held     bool // sends half its data, then waits for the kill
	got226   bool // the server answered 226 (read by the client, before or after the kill)
}

// upClient is a control connection that reports errors instead of
// failing the test: after the kill every call fails.
type upClient struct {
	conn net.Conn
	r    *bufio.Reader
}

func upDial(addr string) (*upClient, error) {
	conn, err := net.DialTimeout("tcp", addr, clientTimeout)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(2 * clientTimeout))
	c := &upClient{conn: conn, r: bufio.NewReader(conn)}
	if code, _, err := c.reply(); err != nil || code != 220 {
		conn.Close()
		return nil, fmt.Errorf("greeting %d: %v", code, err)
	}
	return c, nil
}

// reply reads one reply, multi-line or not.
func (c *upClient) reply() (int, string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return 0, "", err
	}
	if len(line) < 4 {
		return 0, line, fmt.Errorf("short reply %q", line)
	}
	code, err := strconv.Atoi(line[:3])
	if err != nil {
		return 0, line, err
	}
	for line[3] == '-' {
		next, err := c.r.ReadString('\n')
		if err != nil {
			return 0, "", err
		}
		if strings.HasPrefix(next, line[:3]+" ") {
			return code, next, nil
		}
	}
	return code, line, nil
}

// replyError is a reply other than the one expected.
type replyError struct{ msg string }

func (e replyError) Error() string { return e.msg }

// cmd sends line and checks the reply's code.
func (c *upClient) cmd(line string, want int) (string, error) {
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		return "", err
	}
	code, text, err := c.reply()
	if err == nil && code != want {
		err = replyError{fmt.Sprintf("%s: got %q, want %d", line, strings.TrimSpace(text), want)}
	}
	return text, err
}

// pasv opens a passive data connection.
func (c *upClient) pasv() (net.Conn, error) {
	text, err := c.cmd("PASV", 227)
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`).FindStringSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("PASV reply %q", text)
	}
	p1, _ := strconv.Atoi(m[5])
	p2, _ := strconv.Atoi(m[6])
	return net.DialTimeout("tcp", net.JoinHostPort(strings.Join(m[1:5], "."), strconv.Itoa(p1*256+p2)), clientTimeout)
}

// upload runs one job; started is signalled once a held job has its 150
// and has sent half its data, done once a job has its 226.
func (c *upClient) upload(j *crashJob, started, done chan<- struct{}, killed <-chan struct{}) error {
	d, err := c.pasv()
	if err != nil {
		return err
	}
	defer d.Close()
	verb := j.kind
	if j.kind == "REST" {
		if _, err := c.cmd(fmt.Sprintf("REST %d", j.offset), 350); err != nil {
			return err
		}
		verb = "STOR"
	}
	if _, err := c.cmd(verb+" "+j.name, 150); err != nil {
		return err
	}
	if j.held {
		if _, err := d.Write(j.new[:len(j.new)/2]); err != nil {
			return err
		}
		started <- struct{}{}
		<-killed
		return nil
	}
	if _, err := d.Write(j.new); err != nil {
		return err
	}
	d.Close()
	code, text, err := c.reply()
	if err != nil {
		return err
	}
	if code != 226 {
		return replyError{fmt.Sprintf("%s %s: %q", verb, j.name, strings.TrimSpace(text))}
	}
	j.got226 = true
	done <- struct{}{}
	return nil
}

// startKillable starts rftpd like startProc, for a test that kills it:
// no exit status is required of it. exited is closed once it has exited.
func startKillable(t *testing.T, args ...string) (cmd *exec.Cmd, addr string, stderr *syncBuffer, exited chan struct{}) {
	t.Helper()
	stderr = &syncBuffer{}
	cmd = exec.Command(rftpdBin, append([]string{"-listen", "127.0.0.1:0"}, args...)...)
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited = make(chan struct{})
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "rftpd: listening on ftp://"); ok {
				addrc <- a
			}
		}
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	select {
	case a := <-addrc:
		return cmd, a, stderr, exited
	case <-exited:
		t.Fatalf("rftpd exited before listening\nstderr:\n%s", stderr.String())
	case <-time.After(startTimeout):
		t.Fatalf("rftpd did not start\nstderr:\n%s", stderr.String())
	}
	return nil, "", nil, nil
}

// cleanupRemoved waits for a process's "upload clean-up done" log line and
// returns its removed= count.
func cleanupRemoved(t *testing.T, p *proc) int {
	t.Helper()
	p.waitLog(t, "upload clean-up done")
	m := regexp.MustCompile(`upload clean-up done".*removed=(\d+)`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no removed= in the clean-up log:\n%s", p.stderr.String())
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// 200 uploads from 40 sessions (STOR over existing files, APPE, REST+STOR)
// run against rftpd, which is killed with SIGKILL once 100 of them have
// had their 226 and 20 others are held half-way. Before the kill, a second
// rftpd started on the same tree must keep the first one's live
// temporary files, and commands naming them get 550/553. After a restart
// on the tree: every file not uploaded to is as it was, every STOR target
// holds its old or its whole new contents (the new ones when it got a
// 226), APPE and REST+STOR targets keep their old prefix, those with a 226
// are exactly what was sent, and the start-up clean-up has removed every
// temporary file. Nothing waits on a clock: the kill follows counted
// replies.
func TestCrashUploads(t *testing.T) {
	const (
		sessions = 40
		perSess  = 5
		heldSess = 20  // sessions whose last upload is held
		enough   = 130 // 226 replies before the kill
	)
	root := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte(writerPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(t.TempDir(), "users.toml")
	putFile(t, users, fmt.Sprintf("[[user]]\nname = \"writer\"\npassword = %q\nroot = %q\npermissions = [\"read\", \"write\", \"delete\", \"rename\", \"mkdir\"]\n", hash, root))
	args := append(configFile(t, "log_level = \"debug\"\n"), "-users", users)

	// Files no upload touches, and the jobs' targets.
	untouched := map[string][]byte{}
	for i := range 20 {
		name := fmt.Sprintf("keep/k%02d.bin", i)
		untouched[name] = randomBytes(uint64(5000+i), 4096+i*37)
		putFile(t, filepath.Join(root, name), string(untouched[name]))
	}
	kinds := []string{"STOR", "STOR", "APPE", "REST"}
	jobs := make([][]*crashJob, sessions)
	for s := range sessions {
		for k := range perSess {
			i := s*perSess + k
			j := &crashJob{
				name: fmt.Sprintf("d%d/f%03d.bin", i%4, i),
				kind: kinds[i%4],
				old:  randomBytes(uint64(6000+i), 16<<10+i*13),
				new:  randomBytes(uint64(7000+i), 8<<10+i*101),
				held: s < heldSess && k == perSess-1,
			}
			if j.held {
				// A folder of their own: its temporary files are theirs.
				j.name = fmt.Sprintf("held/f%03d.bin", i)
			}
			j.offset = len(j.old) / 2
			putFile(t, filepath.Join(root, j.name), string(j.old))
			jobs[s] = append(jobs[s], j)
		}
	}

	cmdA, addrA, stderrA, exitedA := startKillable(t, args...)
	started := make(chan struct{}, sessions)
	done := make(chan struct{}, sessions*perSess)
	killing := make(chan struct{}) // closed just before the kill
	killed := make(chan struct{})  // closed once the process is gone: held uploads end
	gate := make(chan struct{})    // the sessions without a held upload start once it is closed
	var wg sync.WaitGroup
	errs := make([]error, sessions)
	for s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() error {
				if s >= heldSess {
					<-gate
				}
				c, err := upDial(addrA)
				if err != nil {
					return err
				}
				defer c.conn.Close()
				for _, l := range []struct {
					line string
					code int
				}{{"USER writer", 331}, {"PASS " + writerPass, 230}, {"TYPE I", 200}} {
					if _, err := c.cmd(l.line, l.code); err != nil {
						return err
					}
				}
				for _, j := range jobs[s] {
					if err := c.upload(j, started, done, killed); err != nil {
						return err
					}
				}
				return nil
			}()
			// A reply other than the one expected is a failure whenever it
			// came; a broken connection only before the kill.
			var re replyError
			select {
			case <-killing:
				if errors.As(err, &re) {
					errs[s] = err
				}
			default:
				errs[s] = err
			}
		}()
	}
	var nDone, nHeld int
	deadline := time.After(2 * clientTimeout)
	waitFor := func(wantDone, wantHeld int) {
		for nDone < wantDone || nHeld < wantHeld {
			select {
			case <-done:
				nDone++
			case <-started:
				nHeld++
			case <-deadline:
				close(gate)
				close(killing)
				close(killed)
				t.Fatalf("before the kill: %d uploads done, %d held (errors %v)\nstderr:\n%s", nDone, nHeld, errs, stderrA.String())
			}
		}
	}
	// First the sessions with a held upload, up to their held uploads.
	waitFor(heldSess*(perSess-1), heldSess)

	// A second instance on the same tree keeps the first one's uploads in
	// progress (the held STORs' temporary files, each created before its
	// 150), and no command reaches their temporary files.
	heldStor := 0
	for s := range heldSess {
		if j := jobs[s][perSess-1]; j.kind == "STOR" {
			heldStor++
		}
	}
	live := uploadTemps(t, filepath.Join(root, "held"))
	if len(live) != heldStor {
		t.Fatalf("%d temporary files in held/ with %d STORs held: %q", len(live), heldStor, live)
	}
	b := startProc(t, args...)
	cleanupRemoved(t, b)
	c := dial(t, addrA)
	c.login("writer", writerPass)
	for _, p := range live {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("a second instance removed a live upload's file: %v", err)
		}
		rel, _ := filepath.Rel(root, p)
		for _, cmd := range []string{"SIZE ", "MDTM ", "DELE ", "RNFR ", "CWD ", "MKD ", "MLST ", "STAT "} {
			c.cmd(cmd+rel, 550)
		}
		c.cmd("MKD held/.rftpd-upload.stash", 550)
		c.pasv()
		c.cmd("STOR "+rel, 553)
		c.cmd("RETR "+rel, 550)
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after the commands naming it: %v", err)
		}
	}

	// Then the others, until enough uploads are done: kill -9 mid-way.
	close(gate)
	waitFor(enough, heldSess)
	close(killing)
	if err := cmdA.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exitedA
	close(killed)
	wg.Wait()
	for s, err := range errs {
		if err != nil {
			t.Errorf("session %d: %v", s, err)
		}
	}
	got226 := 0
	for _, js := range jobs {
		for _, j := range js {
			if j.got226 {
				got226++
			}
		}
	}
	t.Logf("killed with %d uploads answered 226, %d held, %d temporary files", got226, heldSess, len(uploadTemps(t, root)))

	// Restart on the same tree: its clean-up removes the dead instance's
	// temporary files.
	cproc := startProc(t, args...)
	removed := cleanupRemoved(t, cproc)
	if removed < heldStor {
		t.Errorf("the restart removed %d temporary files, want at least the %d of held STORs", removed, heldStor)
	}
	if tmp := uploadTemps(t, root); len(tmp) > 0 {
		t.Errorf("temporary files remain after the restart's clean-up: %q", tmp)
	}
	for name, want := range untouched {
		checkFile(t, filepath.Join(root, name), want)
	}
	for _, js := range jobs {
		for _, j := range js {
			got := getFile(t, filepath.Join(root, j.name))
			if err := checkCrashJob(j, got); err != nil {
				t.Errorf("%s %s (226: %v, held: %v): %v", j.kind, j.name, j.got226, j.held, err)
			}
		}
	}
	// The restarted server serves the tree.
	c = dial(t, cproc.addr)
	c.login("writer", writerPass)
	c.cmd("TYPE I", 200)
	j := jobs[0][0]
	checkBytes(t, "RETR after the restart", c.retr(j.name), getFile(t, filepath.Join(root, j.name)))
}

// checkCrashJob says what is wrong with got, the contents of j's target
// after the crash.
func checkCrashJob(j *crashJob, got []byte) error {
	switch j.kind {
	case "STOR":
		switch {
		case bytes.Equal(got, j.new):
			return nil
		case j.got226:
			return fmt.Errorf("answered 226 but holds %d bytes (%s), not the %d sent", len(got), sha(got), len(j.new))
		case bytes.Equal(got, j.old):
			return nil
		}
		return fmt.Errorf("holds %d bytes (%s): neither the old %d nor the new %d", len(got), sha(got), len(j.old), len(j.new))
	case "APPE":
		whole := append(bytes.Clone(j.old), j.new...)
		switch {
		case j.got226 && !bytes.Equal(got, whole):
			return fmt.Errorf("answered 226 but holds %d bytes, want %d", len(got), len(whole))
		case !bytes.HasPrefix(got, j.old):
			return fmt.Errorf("the old contents are damaged (%d bytes now)", len(got))
		case !bytes.HasPrefix(j.new, got[len(j.old):]):
			return fmt.Errorf("the appended %d bytes are not a prefix of what was sent", len(got)-len(j.old))
		}
		return nil
	}
	// REST+STOR: the old prefix, then a prefix of the new data, then
	// either the old file's rest or nothing (the end is cut once all data
	// is in).
	k := j.offset
	whole := append(bytes.Clone(j.old[:k]), j.new...)
	switch {
	case j.got226 && !bytes.Equal(got, whole):
		return fmt.Errorf("answered 226 but holds %d bytes, want %d", len(got), len(whole))
	case len(got) < k || !bytes.Equal(got[:k], j.old[:k]):
		return fmt.Errorf("the old prefix of %d bytes is damaged", k)
	}
	rest := got[k:]
	m := 0
	for m < len(rest) && m < len(j.new) && rest[m] == j.new[m] {
		m++
	}
	if m == len(j.new) && len(rest) == m {
		return nil
	}
	var tail []byte // the old file's bytes past what was written
	if k+m < len(j.old) {
		tail = j.old[k+m:]
	}
	if bytes.Equal(rest[m:], tail) {
		return nil
	}
	return fmt.Errorf("holds %d bytes: the old prefix, %d new bytes, then neither the old rest nor the end", len(got), m)
}
