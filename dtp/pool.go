// Fixed-size worker pools with bounded queues, and the transfer limit.
package dtp

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/dtp/fair"
)

// pool runs tasks on a fixed number of goroutines. Its queue is bounded:
// submit refuses work when the queue is full instead of waiting. Its
// slots (the queue and the workers) are shared fairly between client
// addresses: a few addresses that queue many slow tasks cannot keep
// everyone else's out.
type pool struct {
	workers int
	tasks   chan func()
	slots   *fair.Share  // queued and running tasks, by client address
	mu      sync.RWMutex // guards closed against the close of tasks
	closed  bool
	wg      sync.WaitGroup
}

// newPool starts workers goroutines sharing a queue of queue tasks.
func newPool(workers, queue int) *pool {
	// The slots bound the tasks queued and running together; the channel
	// has room for all of them, so only the slots refuse.
	p := &pool{workers: workers, tasks: make(chan func(), workers+queue), slots: fair.NewShare(workers + queue)}
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
	return p
}

func (p *pool) work() {
	defer p.wg.Done()
	for f := range p.tasks {
		f()
	}
}

// submit queues f for the client at from and reports whether it was
// taken. It never blocks: a full queue, a closed pool or a client over its
// part of the slots refuses the task.
func (p *pool) submit(from netip.Addr, f func()) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed || !p.slots.Take(from) {
		return false
	}
	task := func() {
		defer p.slots.Give(from)
		f()
	}
	select {
	case p.tasks <- task:
		return true
	default:
		p.slots.Give(from)
		return false
	}
}

// close refuses new tasks, lets the workers finish the queued ones and
// waits for them.
func (p *pool) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.tasks)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// warmIdle is how long a transfer goroutine waits for the next transfer
// before it ends, and warmMax how many wait at most.
const (
	warmIdle = 2 * time.Second
	warmMax  = 64
)

// warm runs each function on a goroutine of its own, as `go f()` would,
// but a goroutine that is done waits up to ttl for the next function. A
// transfer's stack grows to several KiB as it accepts and sends (the Go
// runtime copies it to a bigger one each time it overflows); a goroutine
// that ran one already has that stack, and under a load of small files
// the copies cost more than the handoff. At most max goroutines wait
// idle; the others end at once.
type warm struct {
	ttl  time.Duration
	max  int
	made atomic.Int64 // goroutines started

	mu     sync.Mutex
	idle   []*warmer // waiting for a function, the most recent last
	closed bool
}

// warmer is one waiting goroutine: run hands it the next function (nil:
// end) after taking it off the idle list, so the send never blocks.
type warmer struct{ next chan func() }

func newWarm(max int, ttl time.Duration) *warm {
	return &warm{ttl: ttl, max: max}
}

// run starts f on the goroutine that went idle last, or on a new one. It
// never blocks.
func (w *warm) run(f func()) {
	w.mu.Lock()
	if n := len(w.idle); n > 0 {
		g := w.idle[n-1]
		w.idle[n-1] = nil
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		g.next <- f
		return
	}
	w.mu.Unlock()
	w.made.Add(1)
	go w.serve(&warmer{next: make(chan func(), 1)}, f)
}

func (w *warm) serve(g *warmer, f func()) {
	var idle *time.Timer
	for f != nil {
		f()
		f = nil
		w.mu.Lock()
		if w.closed || len(w.idle) >= w.max {
			w.mu.Unlock()
			return
		}
		w.idle = append(w.idle, g)
		w.mu.Unlock()
		if idle == nil {
			idle = time.NewTimer(w.ttl)
		} else {
			idle.Reset(w.ttl)
		}
		select {
		case f = <-g.next:
		case <-idle.C:
			w.mu.Lock()
			if i := slices.Index(w.idle, g); i >= 0 {
				w.idle = slices.Delete(w.idle, i, i+1)
				w.mu.Unlock()
				return
			}
			w.mu.Unlock()
			f = <-g.next // run took it off the list just now: its function is on the way
		}
	}
}

// waiting reports the goroutines waiting for a function.
func (w *warm) waiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.idle)
}

// close ends the waiting goroutines; running ones end when done.
func (w *warm) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for _, g := range w.idle {
		g.next <- nil
	}
	w.idle = nil
}
