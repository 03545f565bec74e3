// Send threads: fast downloads sent by blocking sendfile, a thread each.
package dtp

import (
	"sync/atomic"
	"time"
)

// A large download takes a thread right after its first call, if one is
// free, and leaves the netpoller for the rest of the file: its socket is
// made blocking and each sendfile call waits in the kernel until the
// client has taken the chunk (sys_linux.go, laneSend). One under a bound
// on unsent bytes proves its speed there first. The netpoller costs a
// wake-up per window the client opens:
// an epoll event, a futex to wake a thread, a scheduler round, and the Go
// runtime's monitor taking back the processor of every thread blocked in
// a long sendfile. With curl as the client (16 KiB reads) on one CPU that
// was a fifth to a quarter of the server's CPU per GiB; a blocking call pays only the
// kernel's own wake-up. Each such download holds a thread while it waits,
// so their number is bounded (Config.SendThreads), and a client that
// proves slow goes back to the netpoller, whose waiting costs no thread.
const (
	// laneMin: only downloads with at least this much left take a thread.
	laneMin = 4 << 20
	// laneChunk is asked of one blocking call; meanwhile the progress
	// counter moves by laneWatch's looks.
	laneChunk = 1 << 30
	// laneRate: a client that takes less per second is slow: laneWatch
	// cuts its call short, and the download goes back to the netpoller.
	laneRate = 64 << 20
)

// laneTimeout is how often laneWatch looks at a download in blocking
// calls. A variable for tests.
var laneTimeout = time.Second

// lanes counts the downloads in blocking sendfile calls; nil: none may.
type lanes struct {
	max     int32
	busy    atomic.Int32
	entered atomic.Uint64 // downloads that took a thread
	slow    atomic.Uint64 // ... and gave it back for being slow
	// detached: downloads whose socket left the netpoller while they
	// held the thread (netpoll_linux.go)
	detached atomic.Uint64
}

// newLanes returns the bound for max threads (nil for 0).
func newLanes(max int) *lanes {
	if max <= 0 {
		return nil
	}
	return &lanes{max: int32(max)}
}

// take reserves a thread; false when all are taken or l is nil.
func (l *lanes) take() bool {
	if l == nil {
		return false
	}
	for {
		n := l.busy.Load()
		if n >= l.max {
			return false
		}
		if l.busy.CompareAndSwap(n, n+1) {
			l.entered.Add(1)
			return true
		}
	}
}

// give returns a thread taken by take.
func (l *lanes) give() { l.busy.Add(-1) }

// laneUse is what a download needs to take a thread: the server's bound
// and the transfer's flag, set while a blocking call may be waiting, by
// which abort knows to wake it (transfer.abort) rather than wait for it.
type laneUse struct {
	lanes *lanes
	busy  *atomic.Bool
	stop  *atomic.Bool // set by abort before it looks at busy
}
