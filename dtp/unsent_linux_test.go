// Tests of the bound on a download's unsent bytes (TCP_NOTSENT_LOWAT).
package dtp

import (
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// sockopt reads an integer socket option of a connection.
func sockopt(t *testing.T, c interface {
	Control(func(uintptr)) error
}, level, opt int) int {
	t.Helper()
	v := -2
	mustOK(t, c.Control(func(fd uintptr) { v, _ = unix.GetsockoptInt(int(fd), level, opt) }))
	return v
}

// unsentOf reads a connection's TCP_NOTSENT_LOWAT.
func unsentOf(t *testing.T, c interface {
	Control(func(uintptr)) error
}) int {
	t.Helper()
	return sockopt(t, c, unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT)
}

// A large download to a client that does not read queues about the bound,
// not the autotuned send buffer; once the client reads, it completes.
// One that moves fast has the bound lifted.
func TestSendFileBoundsUnsent(t *testing.T) {
	old := sendLiftWithin
	sendLiftWithin = time.Minute // however loaded the machine, loopback is fast
	t.Cleanup(func() { sendLiftWithin = old })
	const size, unsent = 40 << 20, 256 << 10
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "big"))
	mustOK(t, err)
	mustOK(t, f.Truncate(size))
	f.Close()
	rd, err := openRootDir(dir)
	mustOK(t, err)
	defer rd.Close()
	id := &identity{root: rd.root, beneath: rd.beneath}

	for _, slow := range []bool{true, false} {
		src, err := openSource(id, "big")
		mustOK(t, err)
		a, b := tcpPair(t)
		a.SetDeadline(time.Time{})
		b.SetDeadline(time.Time{})
		mustOK(t, b.SetReadBuffer(64<<10))
		ac, err := a.SyscallConn()
		mustOK(t, err)
		var progress atomic.Int64
		done := make(chan int64, 1)
		go func() {
			n, err := sendFile(a, src, 0, size, unsent, &progress, nil, nil, nil)
			if err != nil {
				t.Error(err)
			}
			done <- n
		}()
		if slow {
			// Wait until the sender has stopped for want of room: its
			// progress has not moved for 10 looks in a row.
			last, same := int64(-1), 0
			for deadline := time.Now().Add(10 * time.Second); same < 10 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
				if p := progress.Load(); p == last && p > 0 {
					same++
				} else {
					last, same = p, 0
				}
			}
			if got := unsentOf(t, ac); got != unsent {
				t.Errorf("TCP_NOTSENT_LOWAT = %d while the client does not read, want %d", got, unsent)
			}
			// The client's buffer (64 KiB, doubled by Linux), what is in
			// flight and the bound: well under 2 MiB. The autotuned send
			// buffer alone grows to 4 MiB.
			if p := progress.Load(); p > 2<<20 {
				t.Errorf("a client that does not read took %d bytes, want at most 2 MiB", p)
			}
		}
		got, err := io.CopyN(io.Discard, b, size)
		mustOK(t, err)
		if n := <-done; n != size || got != size {
			t.Fatalf("slow %v: sent %d, read %d, want %d", slow, n, got, size)
		}
		if !slow {
			// 4 MiB within sendLiftWithin: a loopback transfer is far faster.
			if got := unsentOf(t, ac); got != 0 {
				t.Errorf("TCP_NOTSENT_LOWAT = %d after a fast download, want 0 (lifted)", got)
			}
		}
		src.close()
		a.Close()
		b.Close()
	}
}
