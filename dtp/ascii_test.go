// Tests of TYPE A line-ending conversion and of the portable copy loops.
package dtp

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"
	"time"
)

var bareLF = regexp.MustCompile(`(^|[^\r])\n`)

// Conversions give the same result however the input is split.
func TestLineEndings(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	alphabet := []byte("ab\r\n")
	for range 2000 {
		src := make([]byte, r.IntN(40))
		for i := range src {
			src[i] = alphabet[r.IntN(len(alphabet))]
		}
		// References, computed on the whole input.
		wantCRLF := src
		for { // twice for overlapping matches ("\n\n")
			next := bareLF.ReplaceAll(wantCRLF, []byte("$1\r\n"))
			if bytes.Equal(next, wantCRLF) {
				break
			}
			wantCRLF = next
		}
		wantLF := bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))

		var gotCRLF, gotLF []byte
		var cr1, cr2 bool
		for rest := src; len(rest) > 0; {
			n := 1 + r.IntN(len(rest))
			gotCRLF, cr1 = toCRLF(gotCRLF, rest[:n], cr1)
			gotLF, cr2 = fromCRLF(gotLF, rest[:n], cr2)
			rest = rest[n:]
		}
		if cr2 {
			gotLF = append(gotLF, '\r')
		}
		if !bytes.Equal(gotCRLF, wantCRLF) {
			t.Fatalf("toCRLF(%q) = %q, want %q", src, gotCRLF, wantCRLF)
		}
		if !bytes.Equal(gotLF, wantLF) {
			t.Fatalf("fromCRLF(%q) = %q, want %q", src, gotLF, wantLF)
		}
	}
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	mustOK(t, err)
	defer ln.Close()
	a, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	mustOK(t, err)
	b, err := ln.AcceptTCP()
	mustOK(t, err)
	t.Cleanup(func() { a.Close(); b.Close() })
	a.SetDeadline(time.Now().Add(wait))
	b.SetDeadline(time.Now().Add(wait))
	return a, b
}

// The portable loops (the only ones on systems other than Linux).
func TestPortableCopy(t *testing.T) {
	data := randomBytes(3<<20+5, 10)
	p := filepath.Join(t.TempDir(), "f")
	mustOK(t, os.WriteFile(p, data, 0o644))

	f, err := os.Open(p)
	mustOK(t, err)
	defer f.Close()
	// A limit past the end stops at the end; one inside the file (not on
	// a chunk boundary) stops there.
	for _, limit := range []int64{int64(len(data)) + 1000, int64(len(data)) - chunk - 7} {
		a, b := tcpPair(t)
		_, err := f.Seek(0, io.SeekStart)
		mustOK(t, err)
		var progress atomic.Int64
		done := make(chan int64, 1)
		go func() {
			n, _ := copyToConn(a, f, limit, &progress, nil)
			a.Close()
			done <- n
		}()
		got, err := io.ReadAll(b)
		mustOK(t, err)
		n := <-done
		want := data[:min(limit, int64(len(data)))]
		if !bytes.Equal(got, want) || progress.Load() != int64(len(want)) || n != int64(len(want)) {
			t.Fatalf("copyToConn, limit %d: %d bytes, returned %d, progress %d; want %d", limit, len(got), n, progress.Load(), len(want))
		}
	}

	c, d := tcpPair(t)
	g, err := os.Create(p + "2")
	mustOK(t, err)
	defer g.Close()
	go func() {
		c.Write(data)
		c.Close()
	}()
	var progress2 atomic.Int64
	n, err := copyFromConn(g, d, &progress2, nil, nil)
	mustOK(t, err)
	if n != int64(len(data)) || !bytes.Equal(mustRead(t, p+"2"), data) {
		t.Fatalf("copyFromConn: %d bytes", n)
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	mustOK(t, err)
	return b
}

// Progress moves with the bytes, not in big chunks: a client that takes
// the data slowly sees it counted.
func TestProgressIsFine(t *testing.T) {
	e := newEnv(t, nil)
	e.write("big", randomBytes(16<<20, 11))
	addr := e.pasv()
	c := dialFrom(t, "127.0.0.1", addr)
	c.SetReadBuffer(64 << 10)
	e.do(protocolRetr("big"))
	st := expectStart(t, e)
	// Read 100 KiB only: far less than a chunk.
	if _, err := io.ReadFull(c, make([]byte, 100<<10)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if p := st.Progress(); p < 100<<10 || p >= 16<<20 {
		t.Fatalf("progress %d after the client read 100 KiB", p)
	}
	e.do(protocolAbort())
	expectDone(t, e)
}
