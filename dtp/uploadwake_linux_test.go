// Tests of upload wake-ups (spliceFile).
package dtp

import (
	"bytes"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lowatOf reads a connection's SO_RCVLOWAT.
func lowatOf(t *testing.T, c interface {
	Control(func(uintptr)) error
}) int {
	t.Helper()
	return sockopt(t, c, unix.SOL_SOCKET, unix.SO_RCVLOWAT)
}

// waitStored waits until progress reaches want.
func waitStored(t *testing.T, progress *atomic.Int64, want int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); progress.Load() != want; {
		if time.Now().After(deadline) {
			t.Fatalf("progress %d of %d with the client waiting", progress.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A fast upload is taken as it arrives: after 20 MiB sent at once the
// socket still wakes for any byte, a few bytes the client sends and then
// waits on are stored before the client finishes (the stall timer counts
// on that progress), and the file is exact.
func TestUploadTakenAsItComes(t *testing.T) {
	fast := randomBytes(20<<20, 31)
	tail := []byte("the last few bytes, sent slowly")
	dst, err := os.Create(filepath.Join(t.TempDir(), "up"))
	mustOK(t, err)
	defer dst.Close()
	a, b := tcpPair(t) // a: the server's data connection, b: the client
	a.SetDeadline(time.Time{})
	b.SetDeadline(time.Time{})
	ac, err := a.SyscallConn()
	mustOK(t, err)
	var progress atomic.Int64
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := spliceFile(dst, a, &progress, nil, nil)
		done <- result{n, err}
	}()
	_, err = b.Write(fast)
	mustOK(t, err)
	waitStored(t, &progress, int64(len(fast)))
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if v := lowatOf(t, ac); v != 1 {
			t.Fatalf("SO_RCVLOWAT is %d after a fast %d bytes, want 1", v, len(fast))
		}
	}
	_, err = b.Write(tail)
	mustOK(t, err)
	want := int64(len(fast) + len(tail))
	waitStored(t, &progress, want)
	b.Close()
	r := <-done
	mustOK(t, r.err)
	got, err := os.ReadFile(dst.Name())
	mustOK(t, err)
	if r.n != want || !bytes.Equal(got, append(fast, tail...)) {
		t.Fatalf("stored %d bytes (returned %d), want %d, equal %v", len(got), r.n, want, bytes.Equal(got, append(fast, tail...)))
	}
}

// A slow upload's every piece is taken as it comes.
func TestSlowUploadTakenPieceByPiece(t *testing.T) {
	dst, err := os.Create(filepath.Join(t.TempDir(), "up"))
	mustOK(t, err)
	defer dst.Close()
	a, b := tcpPair(t)
	a.SetDeadline(time.Time{})
	b.SetDeadline(time.Time{})
	var progress atomic.Int64
	errc := make(chan error, 1)
	go func() {
		_, err := spliceFile(dst, a, &progress, nil, nil)
		errc <- err
	}()
	for i := 1; i <= 3; i++ {
		_, err := b.Write([]byte("piece"))
		mustOK(t, err)
		waitStored(t, &progress, int64(5*i))
	}
	b.Close()
	mustOK(t, <-errc)
}
