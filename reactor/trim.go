// Giving the heap's free memory back to the OS once a burst of TLS handshakes is over.
package reactor

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

// A TLS handshake allocates tens of KiB that are garbage once it is done,
// while the session it leaves behind keeps about 10 KiB. After a burst of
// handshakes the Go heap has grown to twice what is live (GOGC=100) and
// stays there while the sessions sit idle: 15 KiB per idle TLS session
// where 10 KiB are in use. So once a burst is over (minHandshakes
// handshakes or more, then none for quiet) the trimmer runs
// debug.FreeOSMemory on its own goroutine, never on the loop, at most
// once every `every`. A server with a steady stream of handshakes never
// trims: it has no quiet second.
type trimmer struct {
	ended chan struct{} // capacity 1: a handshake ended
	count atomic.Int64  // handshakes ended since the last trim

	quiet, every  time.Duration
	minHandshakes int64
	free          func()
}

func newTrimmer() *trimmer {
	return &trimmer{
		ended:         make(chan struct{}, 1),
		quiet:         time.Second,
		every:         30 * time.Second,
		minHandshakes: 256,
		free:          debug.FreeOSMemory,
	}
}

// handshakeEnded is called by every handshake goroutine as it ends.
func (t *trimmer) handshakeEnded() {
	t.count.Add(1)
	select {
	case t.ended <- struct{}{}:
	default:
	}
}

// run trims after bursts until stop is closed; busy reports handshakes in
// progress.
func (t *trimmer) run(stop <-chan struct{}, busy func() bool) {
	var last time.Time
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.ended:
			// Every handshake that ends starts the quiet period anew.
			quiet.Reset(t.quiet)
			continue
		case <-quiet.C:
		}
		if busy() || t.count.Load() < t.minHandshakes || (!last.IsZero() && time.Since(last) < t.every) {
			continue
		}
		t.count.Store(0)
		last = time.Now()
		t.free()
	}
}
