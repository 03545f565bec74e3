// End-to-end harness: builds the rftpd binary once, starts it on loopback, makes fixture trees and accounts, runs clients.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rftpd/rftpd/cmd/rftpd/internal/early"
)

// rftpdBin is the binary built by TestMain for the end-to-end tests.
var rftpdBin string

// Timeouts of the end-to-end tests: every client command and every wait ends.
const (
	clientTimeout = 60 * time.Second
	startTimeout  = 15 * time.Second
	stopTimeout   = 20 * time.Second
)

// fixtureTime is the modification time of every fixture file and folder, so
// MDTM, MLST and listings are predictable.
var fixtureTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// The passwords of the accounts file (their bcrypt hashes come from `rftpd passwd`).
const (
	writerPass = "writer-s3cret"
	readerPass = "reader-s3cret"
)

func TestMain(m *testing.M) {
	early.Release() // the test process itself ends on Ctrl-C
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rftpd-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	rftpdBin = filepath.Join(dir, "rftpd")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", rftpdBin, ".")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build: %v\n", err)
		return 1
	}
	code := m.Run()
	fixtureCleanup()
	return code
}

// ---------------------------------------------------------------------------
// Server process

// startServer runs rftpd with args (and -listen 127.0.0.1:0 unless they
// say -listen), waits for its
// "listening" line and returns the address. At the end of the test it sends
// SIGTERM and fails the test unless rftpd exits with status 0.
func startServer(t testing.TB, args ...string) string {
	t.Helper()
	return startProc(t, args...).addr
}

// proc is a running rftpd process.
type proc struct {
	addr   string      // the first plain listener's
	lines  *syncBuffer // every "listening on" line, as printed
	implc  chan string // the implicit-FTPS address, when rftpd prints one
	adminc chan string // the admin listener's address, when rftpd prints one
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{} // closed when the process has been waited for
	err    error         // its exit error, once exited is closed

	stopOnce sync.Once
	stopErr  error
}

// startProc is startServer returning the process, for tests that stop it themselves.
func startProc(t testing.TB, args ...string) *proc {
	t.Helper()
	return startProcUnder(t, nil, args...)
}

// startProcUnder is startProc with rftpd run by the command wrap (e.g.
// prlimit with its options); nil runs it directly.
func startProcUnder(t testing.TB, wrap []string, args ...string) *proc {
	t.Helper()
	p := &proc{stderr: &syncBuffer{}, exited: make(chan struct{}), implc: make(chan string, 1), adminc: make(chan string, 1)}
	argv := append(slices.Clone(wrap), rftpdBin)
	if !slices.Contains(args, "-listen") {
		argv = append(argv, "-listen", "127.0.0.1:0")
	}
	argv = append(argv, args...)
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start rftpd: %v", err)
	}
	p.lines = &syncBuffer{}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		found := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "rftpd: listening on ") {
				p.lines.Write([]byte(sc.Text() + "\n"))
			}
			if a, ok := strings.CutPrefix(sc.Text(), "rftpd: listening on ftp://"); ok && !found {
				a, _, _ = strings.Cut(a, " ")
				found = true
				addrc <- a
			}
			if a, ok := strings.CutPrefix(sc.Text(), "rftpd: admin on http://"); ok {
				a, _, _ = strings.Cut(a, " ")
				p.adminc <- a
			}
			if a, ok := strings.CutPrefix(sc.Text(), "rftpd: listening on ftps://"); ok {
				a, _, _ = strings.Cut(a, " ")
				select {
				case p.implc <- a:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
		p.err = p.cmd.Wait()
		close(p.exited)
	}()

	select {
	case p.addr = <-addrc:
	case <-p.exited:
		t.Fatalf("rftpd exited before listening: %v\nstderr:\n%s", p.err, p.stderr.String())
	case <-time.After(startTimeout):
		p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("rftpd did not print its listening line within %v\nstderr:\n%s", startTimeout, p.stderr.String())
	}
	// Only loopback addresses, unless it runs in a namespace of a test's
	// own (wrap).
	if h, _, err := net.SplitHostPort(p.addr); err != nil || (wrap == nil && !net.ParseIP(h).IsLoopback()) {
		t.Fatalf("rftpd listens on %q, want a loopback address", p.addr)
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("rftpd stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// implicitAddr waits for the implicit-FTPS address rftpd prints after its
// control address.
func (p *proc) implicitAddr(t testing.TB) string {
	t.Helper()
	select {
	case a := <-p.implc:
		p.implc <- a
		return a
	case <-time.After(startTimeout):
		t.Fatalf("rftpd printed no implicit FTPS address\nstderr:\n%s", p.stderr.String())
		return ""
	}
}

// waitLog waits up to 10 s for text to appear in rftpd's log.
func (p *proc) waitLog(t testing.TB, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.stderr.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("%q is not in the log:\n%s", text, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signal sends SIGTERM without waiting.
func (p *proc) signal() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("SIGTERM rftpd: %v", err)
	}
	return nil
}

// stop sends SIGTERM and waits for the exit; it returns an error unless
// rftpd exits with status 0 within stopTimeout. Calling it again returns
// the first answer.
func (p *proc) stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
		default:
			if err := p.signal(); err != nil {
				p.stopErr = err
				return
			}
		}
		p.stopErr = p.wait(stopTimeout)
	})
	return p.stopErr
}

// wait waits up to d for the process to exit (killing it after d) and
// returns an error unless it exited with status 0.
func (p *proc) wait(d time.Duration) error {
	select {
	case <-p.exited:
		if p.err != nil {
			return fmt.Errorf("rftpd exited with %v after SIGTERM, want status 0", p.err)
		}
		return nil
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("rftpd did not exit within %v of SIGTERM (killed)", d)
	}
}

// syncBuffer is a bytes.Buffer safe for a writing process and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is one running rftpd with the standard set-up: the shared fixture
// tree served anonymously and to "reader", and a fresh writable folder for "writer".
type server struct {
	addr   string // 127.0.0.1:PORT
	port   string
	tree   string // the fixture tree (anonymous and reader root)
	writer string // the writer's root, empty at the start
	proc   *proc
}

// startStd starts rftpd with anonymous access to the fixture tree and the
// accounts "writer" (all permissions, own folder) and "reader" (read only).
func startStd(t testing.TB, args ...string) *server {
	t.Helper()
	tree := fixtureTree(t)
	writer := t.TempDir()
	users := writeAccounts(t, []account{
		{name: "writer", pass: writerPass, root: writer, perms: []string{"read", "write", "delete", "rename", "mkdir"}},
		{name: "reader", pass: readerPass, root: tree},
	})
	p := startProc(t, append([]string{"-anonymous", tree, "-users", users}, args...)...)
	_, port, _ := net.SplitHostPort(p.addr)
	return &server{addr: p.addr, port: port, tree: tree, writer: writer, proc: p}
}

// url returns ftp://[user[:pass]@]127.0.0.1:PORT/p.
func (s *server) url(userinfo, p string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return "ftp://" + userinfo + s.addr + "/" + strings.TrimPrefix(p, "/")
}

// ---------------------------------------------------------------------------
// Accounts

type account struct {
	name, pass, root string
	perms            []string // nil: the default (read)
}

var (
	hashMu    sync.Mutex
	hashCache = map[string]string{}
)

// hashPassword runs `rftpd passwd` with pw on stdin (cached per password).
func hashPassword(t testing.TB, pw string) string {
	t.Helper()
	hashMu.Lock()
	defer hashMu.Unlock()
	if h, ok := hashCache[pw]; ok {
		return h
	}
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, rftpdBin, "passwd")
	cmd.Stdin = strings.NewReader(pw + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rftpd passwd: %v\n%s", err, stderr.String())
	}
	h := strings.TrimSpace(string(out))
	if !strings.HasPrefix(h, "$2") {
		t.Fatalf("rftpd passwd printed %q, want a bcrypt hash", h)
	}
	hashCache[pw] = h
	return h
}

// writeAccounts writes a TOML accounts file and returns its path.
func writeAccounts(t testing.TB, accts []account) string {
	t.Helper()
	var b strings.Builder
	for _, a := range accts {
		fmt.Fprintf(&b, "[[user]]\nname = %q\npassword = %q\nroot = %q\n", a.name, hashPassword(t, a.pass), a.root)
		if a.perms != nil {
			q := make([]string, len(a.perms))
			for i, p := range a.perms {
				q[i] = fmt.Sprintf("%q", p)
			}
			fmt.Fprintf(&b, "permissions = [%s]\n", strings.Join(q, ", "))
		}
		b.WriteString("\n")
	}
	p := filepath.Join(t.TempDir(), "users.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ---------------------------------------------------------------------------
// Fixtures

// fixtureFiles is the fixture tree: path → contents. Folders follow from the paths.
var fixtureFiles map[string][]byte

// The fixture files the tests name.
const (
	fHello  = "hello.txt"
	fNotes  = "notes.txt"
	fEmpty  = "empty.bin"
	fOne    = "one.bin"
	fSmall  = "small-4KiB.bin"
	fMedium = "medium-1MiB+3.bin"
	fBig    = "big-20MiB.bin"
	fSpaces = "sub/file with spaces.txt"
	fDeep   = "sub/inner/deep/leaf.txt"
)

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 'r', 'f', 't', 'p', 'd'})
	b := make([]byte, n)
	r.Read(b)
	return b
}

func init() {
	var notes strings.Builder
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&notes, "line %d: the quick brown fox jumps over the lazy dog\n", i)
	}
	fixtureFiles = map[string][]byte{
		fHello:                    []byte("hello, world\n"),
		fNotes:                    []byte(notes.String()),
		fEmpty:                    {},
		fOne:                      {0xA5},
		fSmall:                    randomBytes(1, 4096),
		fMedium:                   randomBytes(2, 1<<20+3),
		fBig:                      randomBytes(3, 20<<20),
		fSpaces:                   []byte("a file name with spaces\n"),
		fDeep:                     []byte("deep down\n"),
		"sub/readme.txt":          []byte("sub folder\nsecond line\n"),
		"sub/inner/data.bin":      randomBytes(4, 12345),
		"sub/inner/deep/more.bin": randomBytes(5, 777),
		"sub/other/x.txt":         []byte("x\n"),
	}
}

// fixtureTree returns the shared read-only fixture tree, made once per run.
// Tests must not change it: it is the anonymous and reader root.
func fixtureTree(t testing.TB) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "rftpd-e2e-tree-")
		if fixtureErr == nil {
			fixtureErr = writeTree(fixtureDir, fixtureFiles)
		}
	})
	if fixtureErr != nil {
		t.Fatalf("fixture tree: %v", fixtureErr)
	}
	return fixtureDir
}

func fixtureCleanup() {
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
}

// writeTree writes files under dir and sets every mtime to fixtureTime.
func writeTree(dir string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, fixtureTime, fixtureTime)
	})
}

// ---------------------------------------------------------------------------
// Comparisons

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// checkBytes fails the test unless got equals want, naming what differs.
func checkBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	t.Errorf("%s: got %d bytes (sha256 %s), want %d bytes (sha256 %s); first difference at offset %d",
		what, len(got), sha(got), len(want), sha(want), i)
}

// checkFile fails the test unless the file at path holds want.
func checkFile(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	checkBytes(t, path, got, want)
}

// readTree returns the regular files under dir (slash paths → contents),
// skipping the paths skip reports.
func readTree(t testing.TB, dir string, skip func(rel string) bool) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = b
		} else if !d.IsDir() {
			return fmt.Errorf("%s: unexpected file type %v", p, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read tree %s: %v", dir, err)
	}
	return files
}

// checkTree fails the test unless the regular files under dir are exactly
// want, byte for byte (paths skip reports are ignored).
func checkTree(t testing.TB, dir string, want map[string][]byte, skip func(rel string) bool) {
	t.Helper()
	got := readTree(t, dir, skip)
	var names []string
	for n := range want {
		names = append(names, n)
	}
	for n := range got {
		if _, ok := want[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		g, gok := got[n]
		w, wok := want[n]
		switch {
		case !gok:
			t.Errorf("%s: missing %s", dir, n)
		case !wok:
			t.Errorf("%s: unexpected file %s (%d bytes)", dir, n, len(g))
		default:
			checkBytes(t, filepath.Join(dir, n), g, w)
		}
	}
}

// ---------------------------------------------------------------------------
// Clients

// needTool returns the path of an external client, skipping the test when
// it is missing (failing under CI=true, where every client must be there).
func needTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not installed (apt-get install %s)", name, pkg)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// toolResult is what a client run produced.
type toolResult struct {
	stdout, stderr string
	code           int // exit status; -1 when killed by the timeout
}

func (r toolResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runTool runs a client in dir with clientTimeout and returns its outputs
// and exit status. It fails the test only when the program cannot start or
// the timeout hits.
func runTool(t testing.TB, dir, stdin, prog string, args ...string) toolResult {
	t.Helper()
	return runToolEnv(t, dir, stdin, nil, prog, args...)
}

// runToolEnv is runTool with extra environment variables (NAME=value).
func runToolEnv(t testing.TB, dir, stdin string, env []string, prog string, args ...string) toolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "HOME="+dir, "no_proxy=*", "NO_PROXY=*",
		"ftp_proxy=", "FTP_PROXY=", "all_proxy=", "ALL_PROXY=", "http_proxy=", "https_proxy=")
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := toolResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.code = -1
		t.Fatalf("%s %s: timed out after %v\n%s", filepath.Base(prog), strings.Join(args, " "), clientTimeout, res)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", prog, err)
	}
	return res
}

// mustRun is runTool that fails the test unless the exit status is 0.
func mustRun(t testing.TB, dir, prog string, args ...string) toolResult {
	t.Helper()
	r := runTool(t, dir, "", prog, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: %s", filepath.Base(prog), strings.Join(args, " "), r)
	}
	return r
}

// ---------------------------------------------------------------------------
// Files

func putFile(t testing.TB, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func getFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readDirNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, nil
}
