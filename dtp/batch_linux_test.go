// Tests of batched upload wake-ups (SO_RCVLOWAT, spliceFile).
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

// A fast upload is woken in batches of the pipe's size. When the client
// then sends less than a batch and waits, the bytes still arrive (within
// laneTimeout) and the socket wakes for every byte again; the file is
// exact.
func TestUploadBatches(t *testing.T) {
	old, oldWithin := laneTimeout, liftWithin
	laneTimeout = 100 * time.Millisecond
	liftWithin = time.Minute // however loaded the machine, this upload is fast
	t.Cleanup(func() { laneTimeout, liftWithin = old, oldWithin })
	fast := randomBytes(liftAfter+3<<20, 31)
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
	// The socket batches once the upload has proven fast.
	for deadline := time.Now().Add(30 * time.Second); lowatOf(t, ac) != callMax; {
		if time.Now().After(deadline) {
			t.Fatalf("SO_RCVLOWAT is %d after a fast %d bytes, want %d", lowatOf(t, ac), progress.Load(), callMax)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, err = b.Write(tail)
	mustOK(t, err)
	want := int64(len(fast) + len(tail))
	for deadline := time.Now().Add(30 * time.Second); progress.Load() != want; {
		if time.Now().After(deadline) { // far beyond laneTimeout
			t.Fatalf("%d of %d bytes arrived while the client waits; the last %d are stuck below the batch", progress.Load(), want, len(tail))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The client now sends nothing: within laneTimeout the socket wakes
	// for every byte again (whether the tail came in a batch with the
	// last of the fast data or was fetched by the deadline).
	for deadline := time.Now().Add(30 * time.Second); lowatOf(t, ac) != 1; {
		if time.Now().After(deadline) {
			t.Fatalf("SO_RCVLOWAT is %d after the client slowed down, want 1", lowatOf(t, ac))
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Close()
	r := <-done
	mustOK(t, r.err)
	got, err := os.ReadFile(dst.Name())
	mustOK(t, err)
	if r.n != want || !bytes.Equal(got, append(fast, tail...)) {
		t.Fatalf("stored %d bytes (returned %d), want %d, equal %v", len(got), r.n, want, bytes.Equal(got, append(fast, tail...)))
	}
}

// A slow upload never batches: a client that sends a little at a time
// must see each piece taken (the stall timer counts on progress).
func TestSlowUploadNotBatched(t *testing.T) {
	dst, err := os.Create(filepath.Join(t.TempDir(), "up"))
	mustOK(t, err)
	defer dst.Close()
	a, b := tcpPair(t)
	a.SetDeadline(time.Time{})
	b.SetDeadline(time.Time{})
	ac, err := a.SyscallConn()
	mustOK(t, err)
	var progress atomic.Int64
	errc := make(chan error, 1)
	go func() {
		_, err := spliceFile(dst, a, &progress, nil, nil)
		errc <- err
	}()
	for i := 1; i <= 3; i++ {
		_, err := b.Write([]byte("piece"))
		mustOK(t, err)
		for deadline := time.Now().Add(30 * time.Second); progress.Load() != int64(5*i); {
			if time.Now().After(deadline) {
				t.Fatalf("piece %d not taken: progress %d", i, progress.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if v := lowatOf(t, ac); v != 1 {
		t.Errorf("SO_RCVLOWAT is %d on a slow upload, want 1", v)
	}
	b.Close()
	mustOK(t, <-errc)
}
