// End-to-end tests of signals during start-up: SIGTERM or SIGINT at any moment of set-up ends rftpd gracefully, SIGHUP never kills it.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalDuringStartup signals rftpd while it sets itself up, many times,
// and checks every time that it ends gracefully: exit status 0 and its
// "shutting down" log line naming the signal, never killed by it.
//
// A named pipe in place of one of the files rftpd reads holds it at a known
// point of its set-up: rftpd blocks opening the pipe, the test sees that it
// has (its own non-blocking open for writing succeeds only then), signals
// it, and only then writes the file's contents. The config file is the first
// thing rftpd reads, so the earliest moment tested is as early as rftpd can
// be reached at all: between exec and the Go runtime's own start-up no Go
// program can catch a signal, and no test could tell that moment apart
// from the one just after it.
//
// The later moments are taken after the accounts file, the last file read:
// the signal lands after a growing pause, from at once to past the moment
// rftpd is listening (bcrypt work for unknown users follows the file).
func TestSignalDuringStartup(t *testing.T) {
	tree := fixtureTree(t)
	users := getFile(t, writeAccounts(t, []account{{name: "reader", pass: readerPass, root: tree}}))
	cert := getFile(t, "testdata/tls/cert.pem")
	certPath, err := filepath.Abs("testdata/tls/cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	key, err := filepath.Abs("testdata/tls/key.pem")
	if err != nil {
		t.Fatal(err)
	}
	config := []byte("[timeouts]\nshutdown = \"5s\"\n")

	// held: the signal comes while rftpd waits for one file's contents.
	held := []struct {
		name string
		args []string // pipeArg stands for the pipe
		data []byte
	}{
		{"reading the config file", []string{"-config", pipeArg, "-anonymous", tree}, config},
		{"reading the certificate", []string{"-anonymous", tree, "-tls-cert", pipeArg, "-tls-key", key}, cert},
		{"reading the accounts file", []string{"-anonymous", tree, "-users", pipeArg}, users},
	}
	for _, h := range held {
		t.Run(h.name, func(t *testing.T) {
			for i := range 5 {
				sig := signalFor(i)
				p := startHeld(t, h.args)
				p.signal(t, sig)
				p.release(t, h.data)
				p.checkGraceful(t, sig)
			}
		})
	}

	// SIGHUP reloads: one during set-up neither kills rftpd nor is lost;
	// the files are read again once rftpd runs.
	t.Run("SIGHUP while reading the config file", func(t *testing.T) {
		p := startHeld(t, []string{"-config", pipeArg, "-anonymous", tree, "-tls-cert", certPath, "-tls-key", key})
		p.signal(t, syscall.SIGHUP)
		p.release(t, config)
		p.waitOut(t, p.stdout, "rftpd: listening on ftp://")
		p.waitOut(t, p.stderr, "SIGHUP: reloaded")
		p.signal(t, syscall.SIGTERM)
		p.checkGraceful(t, syscall.SIGTERM)
	})

	// Without a certificate, SIGHUP reloads the rest and ends nothing.
	t.Run("SIGHUP without a certificate", func(t *testing.T) {
		p := startHeld(t, []string{"-config", pipeArg, "-anonymous", tree})
		p.release(t, config)
		p.waitOut(t, p.stdout, "rftpd: listening on ftp://")
		p.signal(t, syscall.SIGHUP)
		p.waitOut(t, p.stderr, "SIGHUP: reloaded")
		p.signal(t, syscall.SIGHUP)
		p.signal(t, syscall.SIGTERM)
		p.checkGraceful(t, syscall.SIGTERM)
	})

	t.Run("moments after the last file", func(t *testing.T) {
		const tries = 40
		for i := range tries {
			sig := signalFor(i)
			p := startHeld(t, []string{"-anonymous", tree, "-users", pipeArg})
			p.release(t, users)
			time.Sleep(time.Duration(i) * 3 * time.Millisecond) // from at once to past start-up
			p.signal(t, sig)
			p.checkGraceful(t, sig)
		}
	})
}

// pipeArg in startHeld's arguments stands for the named pipe.
const pipeArg = "\x00pipe"

// signalFor alternates SIGTERM and SIGINT.
func signalFor(i int) syscall.Signal {
	if i%2 == 1 {
		return syscall.SIGINT
	}
	return syscall.SIGTERM
}

// heldProc is an rftpd process blocked reading a named pipe.
type heldProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	pipe           *os.File // the pipe's write end, until release
	exited         chan struct{}
	err            error // Wait's answer, once exited is closed
}

// startHeld makes a named pipe, starts rftpd with args (pipeArg replaced by
// the pipe's path) and returns once rftpd has opened the pipe for reading.
func startHeld(t *testing.T, args []string) *heldProc {
	t.Helper()
	path := filepath.Join(t.TempDir(), "held")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"-listen", "127.0.0.1:0"}, args...)
	for i, a := range args {
		if a == pipeArg {
			args[i] = path
		}
	}
	p := &heldProc{cmd: exec.Command(rftpdBin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start rftpd: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if p.pipe != nil {
			p.pipe.Close()
		}
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})

	// A non-blocking open for writing fails with ENXIO until a reader has
	// the pipe open; rftpd's open blocks until this one succeeds.
	deadline := time.Now().Add(startTimeout)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			p.pipe = f
			return p
		}
		if !errors.Is(err, syscall.ENXIO) {
			t.Fatal(err)
		}
		select {
		case <-p.exited:
			t.Fatalf("rftpd exited before it opened %s: %v\nstderr:\n%s", path, p.err, p.stderr.String())
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("rftpd did not open %s within %v\nstderr:\n%s", path, startTimeout, p.stderr.String())
		}
	}
}

// signal sends sig to rftpd.
func (p *heldProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("%v: %v", sig, err)
	}
}

// release writes data into the pipe and closes it, so rftpd reads the file
// and goes on. A write error means rftpd is gone; checkGraceful says how.
func (p *heldProc) release(t *testing.T, data []byte) {
	t.Helper()
	if _, err := p.pipe.Write(data); err != nil {
		t.Logf("writing the pipe: %v", err)
	}
	p.pipe.Close()
	p.pipe = nil
}

// waitOut waits up to startTimeout for text in out (p.stdout or p.stderr),
// failing the test if rftpd exits first.
func (p *heldProc) waitOut(t *testing.T, out *syncBuffer, text string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for !strings.Contains(out.String(), text) {
		select {
		case <-p.exited:
			t.Fatalf("rftpd exited (%v) before it wrote %q\nstderr:\n%s", p.err, text, p.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("rftpd did not write %q within %v\nstderr:\n%s", text, startTimeout, p.stderr.String())
		}
	}
}

// checkGraceful waits for rftpd to exit and fails the test unless it ended
// with status 0 and logged that it was shutting down for sig.
func (p *heldProc) checkGraceful(t *testing.T, sig syscall.Signal) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(stopTimeout):
		p.cmd.Process.Kill()
		<-p.exited
		t.Fatalf("rftpd did not exit within %v of %v\nstderr:\n%s", stopTimeout, sig, p.stderr.String())
	}
	ws, _ := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		t.Fatalf("rftpd was killed by %v, want a graceful exit\nstderr:\n%s", ws.Signal(), p.stderr.String())
	case p.err != nil:
		t.Fatalf("rftpd exited with %v after %v, want status 0\nstderr:\n%s", p.err, sig, p.stderr.String())
	}
	if want := fmt.Sprintf(`msg="shutting down" signal=%s`, sig); !strings.Contains(p.stderr.String(), want) {
		t.Fatalf("rftpd's log does not say %s\nstderr:\n%s", want, p.stderr.String())
	}
}
