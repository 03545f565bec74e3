// Tests of the send threads: downloads sent by blocking sendfile (lane.go).
package dtp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// laneFile writes size bytes of random data and opens it as a source.
func laneFile(t *testing.T, size int) ([]byte, *source) {
	t.Helper()
	dir := t.TempDir()
	data := randomBytes(size, 24)
	mustOK(t, os.WriteFile(filepath.Join(dir, "big"), data, 0o644))
	rd, err := openRootDir(dir)
	mustOK(t, err)
	t.Cleanup(func() { rd.Close() })
	src, err := openSource(&identity{root: rd.root, beneath: rd.beneath}, "big")
	mustOK(t, err)
	t.Cleanup(src.close)
	return data, src
}

// nonblocking reports whether c's descriptor has O_NONBLOCK.
func nonblocking(t *testing.T, c interface {
	Control(func(uintptr)) error
}) bool {
	t.Helper()
	flags := 0
	mustOK(t, c.Control(func(fd uintptr) { flags, _ = unix.FcntlInt(fd, unix.F_GETFL, 0) }))
	return flags&unix.O_NONBLOCK != 0
}

// laneRun is a download by sendFile on a goroutine of its own, over a
// loopback pair without deadlines: the server's end a, the client's b.
type laneRun struct {
	a, b     *net.TCPConn
	progress atomic.Int64
	done     chan laneResult
}

type laneResult struct {
	n   int64
	err error
}

// startSend starts sending size bytes of src, bounding unsent bytes as
// unsent does for sendFile, with lane.
func startSend(t *testing.T, src *source, size int64, unsent int, lane *laneUse) *laneRun {
	t.Helper()
	r := &laneRun{done: make(chan laneResult, 1)}
	r.a, r.b = tcpPair(t)
	r.a.SetDeadline(time.Time{})
	r.b.SetDeadline(time.Time{})
	go func() {
		n, err := sendFile(r.a, src, 0, size, unsent, &r.progress, nil, nil, lane)
		r.done <- laneResult{n, err}
	}()
	return r
}

// A fast download takes a send thread, arrives byte for byte, gives the
// thread back, and leaves its socket non-blocking for the netpoller.
func TestLaneSendsFastDownload(t *testing.T) {
	old := laneTimeout
	laneTimeout = time.Minute // however loaded the machine, 64 MiB a minute is fast
	t.Cleanup(func() { laneTimeout = old })
	const size = 96<<20 + 12345
	data, src := laneFile(t, size)
	l := newLanes(1)
	var busy atomic.Bool
	run := startSend(t, src, size, 0, &laneUse{lanes: l, busy: &busy})
	got, err := io.ReadAll(io.LimitReader(run.b, size))
	mustOK(t, err)
	r := <-run.done
	mustOK(t, r.err)
	if r.n != size || !bytes.Equal(got, data) || run.progress.Load() != size {
		t.Fatalf("sent %d, progress %d, read %d bytes (equal: %v), want %d", r.n, run.progress.Load(), len(got), bytes.Equal(got, data), size)
	}
	if e, s, n, d := l.entered.Load(), l.slow.Load(), l.busy.Load(), l.detached.Load(); e != 1 || s != 0 || n != 0 || d != 1 {
		t.Errorf("threads: entered %d, slow %d, busy %d, detached from the netpoller %d; want 1, 0, 0, 1", e, s, n, d)
	}
	// Back in the netpoller, as registered before.
	rc, err := run.a.SyscallConn()
	mustOK(t, err)
	mustOK(t, rc.Control(func(fd uintptr) {
		if _, _, ok := findNetpoll(int(fd)); !ok {
			t.Error("the socket is not in the netpoller after the blocking calls")
		}
	}))
	if busy.Load() {
		t.Error("the transfer still shows a blocking call")
	}
	ac, err := run.a.SyscallConn()
	mustOK(t, err)
	if !nonblocking(t, ac) {
		t.Error("the socket was left blocking")
	}
	if !noDelay(t, ac) {
		t.Error("TCP_NODELAY was left off")
	}
}

// noDelay reports whether c's socket has TCP_NODELAY on.
func noDelay(t *testing.T, c interface {
	Control(func(uintptr)) error
}) bool {
	t.Helper()
	v, gerr := 0, error(nil)
	mustOK(t, c.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NODELAY) }))
	mustOK(t, gerr)
	return v != 0
}

// While a thread sends, Nagle's algorithm is on, so that each blocking
// call queues whole segments; the tail of the file, shorter than a
// segment, still leaves at once when the thread lets go: the client has
// the whole file without waiting for an acknowledgement of what came
// before it.
func TestLaneNagleWhileSending(t *testing.T) {
	old := laneTimeout
	laneTimeout = time.Minute
	t.Cleanup(func() { laneTimeout = old })
	// The call, of the whole file, cannot finish before the client reads:
	// both ends' buffers hold far less. The tail is far shorter than a
	// segment.
	const size = 64<<20 + 1000
	data, src := laneFile(t, size)
	l := newLanes(1)
	var busy atomic.Bool
	run := startSend(t, src, size, 0, &laneUse{lanes: l, busy: &busy})
	ac, err := run.a.SyscallConn()
	mustOK(t, err)
	// Seen off while the thread's call waits for the client to read.
	for deadline := time.Now().Add(30 * time.Second); !busy.Load() || noDelay(t, ac); {
		if time.Now().After(deadline) {
			t.Fatalf("within 30 s no blocking call with TCP_NODELAY off (thread taken: %v)", busy.Load())
		}
		time.Sleep(time.Millisecond)
	}
	got, err := io.ReadAll(io.LimitReader(run.b, size))
	mustOK(t, err)
	mustOK(t, (<-run.done).err)
	if !bytes.Equal(got, data) || l.entered.Load() != 1 {
		t.Fatalf("read %d bytes (equal %v), threads entered %d", len(got), bytes.Equal(got, data), l.entered.Load())
	}
	if !noDelay(t, ac) {
		t.Error("TCP_NODELAY left off after the blocking calls")
	}
}

// With a bound on unsent bytes, a download takes a thread right after
// its first call and proves its speed there: a fast one has the bound
// lifted and keeps the thread to the end.
func TestLaneProvesThenLifts(t *testing.T) {
	old := sendLiftWithin
	sendLiftWithin = time.Minute // however loaded the machine, loopback is fast
	t.Cleanup(func() { sendLiftWithin = old })
	const size, unsent = sendLiftAfter + 3*laneMin, 256 << 10
	data, src := laneFile(t, size)
	l := newLanes(2)
	var busy atomic.Bool
	run := startSend(t, src, size, unsent, &laneUse{lanes: l, busy: &busy})
	ac, err := run.a.SyscallConn()
	mustOK(t, err)
	got, err := io.ReadAll(io.LimitReader(run.b, size))
	mustOK(t, err)
	mustOK(t, (<-run.done).err)
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the file's %d", len(got), size)
	}
	if e, s := l.entered.Load(), l.slow.Load(); e != 1 || s != 0 {
		t.Errorf("threads entered %d, slow %d; want 1 and 0", e, s)
	}
	if v := unsentOf(t, ac); v != 0 {
		t.Errorf("TCP_NOTSENT_LOWAT = %d, want 0 (lifted)", v)
	}
}

// A bounded download whose client does not read takes a thread right
// after its first call, queues no more than the bound allows while it
// waits there, fails its proof after sendLiftWithin and goes back to the
// netpoller with the bound in place; once the client reads, it completes
// byte for byte.
func TestLaneFailedProofKeepsBound(t *testing.T) {
	old := sendLiftWithin
	sendLiftWithin = 200 * time.Millisecond
	t.Cleanup(func() { sendLiftWithin = old })
	const size, unsent = sendLiftAfter + laneMin, 256 << 10
	data, src := laneFile(t, size)
	l := newLanes(1)
	var busy atomic.Bool
	r := &laneRun{done: make(chan laneResult, 1)}
	r.a, r.b = tcpPair(t)
	r.a.SetDeadline(time.Time{})
	r.b.SetDeadline(time.Time{})
	mustOK(t, r.b.SetReadBuffer(64<<10))
	go func() {
		n, err := sendFile(r.a, src, 0, size, unsent, &r.progress, nil, nil, &laneUse{lanes: l, busy: &busy})
		r.done <- laneResult{n, err}
	}()
	ac, err := r.a.SyscallConn()
	mustOK(t, err)
	for deadline := time.Now().Add(30 * time.Second); l.slow.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no slow exit after 30 s (entered %d, progress %d)", l.entered.Load(), r.progress.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if e, n := l.entered.Load(), l.busy.Load(); e != 1 || n != 0 {
		t.Errorf("threads entered %d, busy %d after the slow exit; want 1 and 0", e, n)
	}
	if v := unsentOf(t, ac); v != unsent {
		t.Errorf("TCP_NOTSENT_LOWAT = %d after a failed proof, want %d", v, unsent)
	}
	// The client's buffer (64 KiB, doubled by Linux), what is in flight
	// and the bound: well under 2 MiB; the autotuned send buffer alone
	// grows to 4 MiB.
	if p := r.progress.Load(); p > 2<<20 {
		t.Errorf("a client that does not read took %d bytes, want at most 2 MiB", p)
	}
	got, err := io.ReadAll(io.LimitReader(r.b, size))
	mustOK(t, err)
	res := <-r.done
	mustOK(t, res.err)
	if res.n != size || !bytes.Equal(got, data) || r.progress.Load() != size {
		t.Fatalf("sent %d, progress %d, read %d bytes (equal: %v), want %d", res.n, r.progress.Load(), len(got), bytes.Equal(got, data), size)
	}
	if e, s := l.entered.Load(), l.slow.Load(); e != 1 || s != 1 {
		t.Errorf("entered %d, slow %d; want 1 and 1 (a slow download does not come back)", e, s)
	}
	if v := unsentOf(t, ac); v != unsent {
		t.Errorf("TCP_NOTSENT_LOWAT = %d at the end, want %d (never lifted)", v, unsent)
	}
}

// No thread is free: the download waits in the netpoller, as before.
func TestLaneAllTaken(t *testing.T) {
	const size = laneMin + 4096
	data, src := laneFile(t, size)
	l := newLanes(1)
	if !l.take() {
		t.Fatal("take on an empty bound refused")
	}
	var busy atomic.Bool
	run := startSend(t, src, size, 0, &laneUse{lanes: l, busy: &busy})
	got, err := io.ReadAll(io.LimitReader(run.b, size))
	mustOK(t, err)
	mustOK(t, (<-run.done).err)
	if !bytes.Equal(got, data) || l.entered.Load() != 1 {
		t.Fatalf("read %d bytes (equal %v), threads entered %d; want the file and 1 (the test's own)", len(got), bytes.Equal(got, data), l.entered.Load())
	}
}

// A client that stops reading makes the blocking call time out: the
// download gives its thread back, waits in the netpoller, and completes
// byte for byte once the client reads again.
func TestLaneSlowClientLeaves(t *testing.T) {
	old := laneTimeout
	laneTimeout = 200 * time.Millisecond
	t.Cleanup(func() { laneTimeout = old })
	const size = laneMin + 8<<20
	data, src := laneFile(t, size)
	l := newLanes(4)
	var busy atomic.Bool
	run := startSend(t, src, size, 0, &laneUse{lanes: l, busy: &busy})
	// Not reading: wait until the call has timed out and the thread is back.
	for deadline := time.Now().Add(30 * time.Second); l.slow.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no slow exit after 30 s (entered %d, progress %d)", l.entered.Load(), run.progress.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := l.busy.Load(); n != 0 {
		t.Errorf("%d threads busy after the slow exit, want 0", n)
	}
	got, err := io.ReadAll(io.LimitReader(run.b, size))
	mustOK(t, err)
	mustOK(t, (<-run.done).err)
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the file's %d", len(got), size)
	}
	if e, s := l.entered.Load(), l.slow.Load(); e != 1 || s != 1 {
		t.Errorf("entered %d, slow %d; want 1 and 1 (a slow download does not come back)", e, s)
	}
}

// A client that keeps reading, but at less than laneRate, never stalls
// a blocking call; the watch finds it slow within a few looks (every
// laneTimeout) instead of letting the call run on until it has sent the
// whole file (two seconds here); meanwhile the progress counter moves,
// and the download goes back to the netpoller, arriving byte for byte.
func TestLaneSteadySlowClientLeaves(t *testing.T) {
	old := laneTimeout
	laneTimeout = 200 * time.Millisecond
	t.Cleanup(func() { laneTimeout = old })
	const (
		size = laneMin + 64<<20
		rate = laneRate / 2 // bytes per second the client takes at first
		step = 1 << 20
	)
	data, src := laneFile(t, size)
	l := newLanes(1)
	var busy atomic.Bool
	run := startSend(t, src, size, 0, &laneUse{lanes: l, busy: &busy})
	got := make([]byte, 0, size)
	buf := make([]byte, step)
	start := time.Now()
	// At rate, never pausing for laneTimeout, until the thread is given
	// back, or until the first call could have sent all it was asked.
	for read := 0; l.slow.Load() == 0 && len(got) < size; read++ {
		if len(got) > 32<<20 {
			t.Fatalf("read %d bytes at %d/s (a second, five looks) with no slow exit", len(got), rate)
		}
		if len(got) > 16<<20 && run.progress.Load() == 0 {
			t.Fatalf("read %d bytes and the progress counter has not moved", len(got))
		}
		n, err := io.ReadFull(run.b, buf[:min(step, size-len(got))])
		got = append(got, buf[:n]...)
		mustOK(t, err)
		if wait := time.Until(start.Add(time.Duration(len(got)) * time.Second / rate)); wait > 0 {
			time.Sleep(wait)
		}
	}
	rest, err := io.ReadAll(io.LimitReader(run.b, int64(size-len(got))))
	mustOK(t, err)
	got = append(got, rest...)
	r := <-run.done
	mustOK(t, r.err)
	if r.n != size || !bytes.Equal(got, data) || run.progress.Load() != size {
		t.Fatalf("sent %d, progress %d, read %d bytes (equal: %v), want %d", r.n, run.progress.Load(), len(got), bytes.Equal(got, data), size)
	}
	if e, s, n := l.entered.Load(), l.slow.Load(), l.busy.Load(); e != 1 || s != 1 || n != 0 {
		t.Errorf("threads: entered %d, slow %d, busy %d; want 1, 1, 0", e, s, n)
	}
}

// abort wakes a download blocked in sendfile at once, without waiting for
// its timeout (an hour here), and without blocking the caller: abort runs
// on the event loop.
func TestAbortWakesBlockedSend(t *testing.T) {
	old := laneTimeout
	laneTimeout = time.Hour
	t.Cleanup(func() { laneTimeout = old })
	const size = laneMin + 64<<20
	_, src := laneFile(t, size)
	tr := &transfer{}
	tr.ctx, tr.cancel = context.WithCancel(context.Background())
	l := newLanes(1)
	run := startSend(t, src, size, 0, &laneUse{lanes: l, busy: &tr.sending, stop: &tr.stopping})
	if !tr.setConn(run.a) {
		t.Fatal("setConn refused")
	}
	// The client reads nothing: wait for the call to block.
	last, same := int64(-1), 0
	for deadline := time.Now().Add(30 * time.Second); !(tr.sending.Load() && same >= 10); {
		if time.Now().After(deadline) {
			t.Fatalf("the send never blocked (sending %v, progress %d)", tr.sending.Load(), run.progress.Load())
		}
		time.Sleep(10 * time.Millisecond)
		if p := run.progress.Load(); p == last {
			same++
		} else {
			last, same = p, 0
		}
	}
	aborted := make(chan struct{})
	go func() { tr.abort(); close(aborted) }()
	select {
	case <-aborted:
	case <-time.After(20 * time.Second): // far below the hour the call would wait
		t.Fatal("abort blocked behind the sendfile call")
	}
	select {
	case r := <-run.done:
		if err := r.err; err == nil || !errors.Is(err, unix.EPIPE) {
			t.Errorf("the woken send returned %v, want EPIPE", err)
		}
	case <-time.After(20 * time.Second):
		run.b.Close() // the client's reset ends the call, so the test ends
		t.Fatal("the blocked sendfile was not woken by abort")
	}
	if tr.sending.Load() || l.busy.Load() != 0 {
		t.Errorf("after the abort: sending %v, threads busy %d", tr.sending.Load(), l.busy.Load())
	}
	run.a.Close() // runTransfer's close
}
