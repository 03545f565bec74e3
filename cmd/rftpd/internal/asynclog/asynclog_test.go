package asynclog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a destination safe to read while the Writer writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLinesInOrder: every line arrives, in order, by Close.
func TestLinesInOrder(t *testing.T) {
	var dst lockedBuffer
	w := New(&dst, 1000)
	var want strings.Builder
	for i := range 500 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		w.Write([]byte(line))
	}
	w.Close(10 * time.Second)
	if dst.String() != want.String() || w.Dropped() != 0 {
		t.Fatalf("got %d bytes, dropped %d; want every line in order", len(dst.String()), w.Dropped())
	}
}

// TestStalledDestination: with the destination a pipe nobody reads, Write
// keeps returning at once, drops what the queue cannot hold and counts
// it; once the pipe is read, the queued lines and the count arrive.
func TestStalledDestination(t *testing.T) {
	r, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w := New(pw, 16)
	line := []byte(strings.Repeat("x", 1023) + "\n")
	// The pipe holds 64 KiB, the queue 16 lines: 10,000 lines do not fit.
	for range 10000 {
		w.Write(line) // a blocking Write would hang the test here
	}
	if w.Dropped() == 0 {
		t.Fatal("nothing dropped with a stalled destination")
	}
	dropped := w.Dropped()
	var got bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&got, r); close(copied) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(w.q) > 0 { // the reader drains the queue
		if time.Now().After(deadline) {
			t.Fatal("the queue did not drain once the pipe was read")
		}
		time.Sleep(time.Millisecond)
	}
	w.Write([]byte("last\n"))
	w.Close(10 * time.Second)
	pw.Close()
	<-copied
	out := got.String()
	if !strings.HasSuffix(out, "last\n") {
		t.Fatalf("the last line did not arrive (%d bytes)", len(out))
	}
	var reported uint64
	for _, l := range strings.Split(out, "\n") {
		if _, n, ok := strings.Cut(l, " dropped="); ok {
			var d uint64
			fmt.Sscan(n, &d)
			reported += d
		}
	}
	if reported != dropped || w.Dropped() != dropped {
		t.Fatalf("reported %d dropped lines, dropped %d (now %d)", reported, dropped, w.Dropped())
	}
}

// gate is a destination whose first Write waits until open is closed, and
// which counts its Writes.
type gate struct {
	lockedBuffer
	open    chan struct{}
	entered chan struct{}
	mu      sync.Mutex
	writes  int
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.Lock()
	g.writes++
	first := g.writes == 1
	g.mu.Unlock()
	if first {
		close(g.entered)
		<-g.open
	}
	return g.lockedBuffer.Write(p)
}

// TestLinesBatched: lines queued while the destination is busy go out
// together in one write, not one write each.
func TestLinesBatched(t *testing.T) {
	g := &gate{open: make(chan struct{}), entered: make(chan struct{})}
	w := New(g, 1000)
	w.Write([]byte("first\n"))
	<-g.entered // the writer is inside its first Write
	var want strings.Builder
	want.WriteString("first\n")
	for i := range 200 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		w.Write([]byte(line))
	}
	close(g.open)
	w.Close(10 * time.Second)
	if got := g.String(); got != want.String() {
		t.Fatalf("got %q, want %q", got, want.String())
	}
	if g.writes != 2 {
		t.Errorf("%d writes for 201 lines, want 2 (the first line, then the 200 queued behind it)", g.writes)
	}
}
