// End-to-end tests with busybox ftpget and ftpput, the FTP clients of routers, cameras and other embedded devices.
package main

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// busybox runs `busybox applet -v -P PORT opts... HOST files...` in dir
// against the server at addr. The applets speak passive mode only: EPSV,
// then PASV when EPSV is refused.
func busybox(t *testing.T, dir, applet, addr string, opts []string, files ...string) toolResult {
	t.Helper()
	bin := needTool(t, "busybox", "busybox")
	host, port, _ := net.SplitHostPort(addr)
	argv := append([]string{applet, "-v", "-P", port}, opts...)
	argv = append(append(argv, host), files...)
	return runTool(t, dir, "", bin, argv...)
}

// busyboxSent returns the verbs busybox -v reported sending, in order.
func busyboxSent(r toolResult, applet string) []string {
	var verbs []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if c, ok := strings.CutPrefix(l, applet+": cmd "); ok {
			if v, _, _ := strings.Cut(c, " "); v != "(null)" {
				verbs = append(verbs, v)
			}
		}
	}
	return verbs
}

func mustBusybox(t *testing.T, dir, applet, addr string, opts []string, files ...string) toolResult {
	t.Helper()
	r := busybox(t, dir, applet, addr, opts, files...)
	if r.code != 0 {
		t.Fatalf("busybox %s %s: %s", applet, strings.Join(files, " "), r)
	}
	return r
}

func TestBusyboxFtpget(t *testing.T) {
	s := startStd(t)
	relay := startEPSVRefuser(t, s.addr)
	files := []string{fEmpty, fOne, fHello, fNotes, fMedium, fSpaces, fDeep}
	for _, v := range []struct {
		name, addr string
		login      []string
		want       string // the passive verb busybox must have used
	}{
		{"anonymous", s.addr, nil, "EPSV"},
		{"reader", s.addr, []string{"-u", "reader", "-p", readerPass}, "EPSV"},
		{"PASV-only", relay.addr, nil, "PASV"},
	} {
		t.Run(v.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range files {
				local := filepath.Join(dir, filepath.Base(name))
				r := mustBusybox(t, dir, "ftpget", v.addr, v.login, local, name)
				checkFile(t, local, fixtureFiles[name])
				if sent := busyboxSent(r, "ftpget"); !slices.Contains(sent, v.want) || !slices.Contains(sent, "RETR") {
					t.Errorf("ftpget %s sent %q, want %s and RETR", name, sent, v.want)
				}
			}
		})
	}
	// the PASV-only run really saw EPSV refused and PASV answered
	if got := relay.verbs(); !slices.Contains(got, "EPSV") || !slices.Contains(got, "PASV") {
		t.Errorf("through the relay busybox sent %q, want EPSV (refused) then PASV", got)
	}

	dir := t.TempDir()
	// -c continues a partial download with REST
	local := filepath.Join(dir, "medium")
	putFile(t, local, string(fixtureFiles[fMedium][:300001]))
	r := mustBusybox(t, dir, "ftpget", s.addr, []string{"-c"}, local, fMedium)
	checkFile(t, local, fixtureFiles[fMedium])
	if sent := busyboxSent(r, "ftpget"); !slices.Contains(sent, "REST") {
		t.Errorf("ftpget -c sent %q, want REST", sent)
	}
	// a missing file is an error, and no local file is left
	if r := busybox(t, dir, "ftpget", s.addr, nil, filepath.Join(dir, "missing"), "nonexistent"); r.code == 0 || !strings.Contains(r.stderr, "550") {
		t.Errorf("ftpget of a missing file: want a failure naming 550, got %s", r)
	}
	// a wrong password too
	if r := busybox(t, dir, "ftpget", s.addr, []string{"-u", "writer", "-p", "wrong"}, filepath.Join(dir, "x"), fHello); r.code == 0 || !strings.Contains(r.stderr, "530") {
		t.Errorf("ftpget with a wrong password: want a failure naming 530, got %s", r)
	}
}

func TestBusyboxFtpput(t *testing.T) {
	s := startStd(t)
	relay := startEPSVRefuser(t, s.addr)
	login := []string{"-u", "writer", "-p", writerPass}
	files := []string{fEmpty, fOne, fHello, fMedium, fSpaces}
	want := map[string][]byte{}
	for _, v := range []struct {
		name, addr, verb string
	}{
		{"EPSV", s.addr, "EPSV"},
		{"PASV-only", relay.addr, "PASV"},
	} {
		for _, name := range files {
			remote := v.name + "-" + filepath.Base(name)
			r := mustBusybox(t, t.TempDir(), "ftpput", v.addr, login, remote, filepath.Join(s.tree, name))
			want[remote] = fixtureFiles[name]
			if sent := busyboxSent(r, "ftpput"); !slices.Contains(sent, v.verb) || !slices.Contains(sent, "STOR") {
				t.Errorf("ftpput %s sent %q, want %s and STOR", remote, sent, v.verb)
			}
		}
	}
	// an existing file is replaced
	mustBusybox(t, t.TempDir(), "ftpput", s.addr, login, "EPSV-"+fHello, filepath.Join(s.tree, fNotes))
	want["EPSV-"+fHello] = fixtureFiles[fNotes]
	checkTree(t, s.writer, want, nil)

	// anonymous and reader may not upload; busybox says why and fails
	for _, login := range [][]string{nil, {"-u", "reader", "-p", readerPass}} {
		r := busybox(t, t.TempDir(), "ftpput", s.addr, login, "refused.txt", filepath.Join(s.tree, fHello))
		if r.code == 0 || !strings.Contains(r.stderr, "550") {
			t.Errorf("ftpput %q: want a failure naming 550, got %s", login, r)
		}
	}
	checkTree(t, s.writer, want, nil)
	checkTree(t, s.tree, fixtureFiles, nil)
}

// epsvRefuser relays control connections to rftpd, renaming every EPSV a
// client sends to an unknown verb, which rftpd refuses: a client that tries
// EPSV first (busybox 1.35) then falls back to PASV, as older firmware does
// from the start. Data connections go straight to rftpd, at the address of
// its 227 reply.
type epsvRefuser struct {
	addr string
	mu   sync.Mutex
	sent []string // the verbs clients sent, before renaming
}

func startEPSVRefuser(t *testing.T, server string) *epsvRefuser {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &epsvRefuser{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		e.mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		e.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			upstream, err := net.Dial("tcp", server)
			if err != nil {
				client.Close()
				continue
			}
			e.mu.Lock()
			conns = append(conns, client, upstream)
			e.mu.Unlock()
			wg.Add(2)
			go func() { // replies, unchanged
				defer wg.Done()
				io.Copy(client, upstream)
				client.Close()
			}()
			go func() { // commands, EPSV renamed
				defer wg.Done()
				defer upstream.Close()
				br := bufio.NewReader(client)
				for {
					line, err := br.ReadString('\n')
					if line != "" {
						verb, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
						e.mu.Lock()
						e.sent = append(e.sent, strings.ToUpper(verb))
						e.mu.Unlock()
						if strings.EqualFold(verb, "EPSV") {
							line = "NOEPSV" + line[len(verb):]
						}
						if _, err := io.WriteString(upstream, line); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return e
}

func (e *epsvRefuser) verbs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sent)
}
