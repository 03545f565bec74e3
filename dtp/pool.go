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
// everyone else's out. And the queue is served by address in turn: each
// address (an IPv6 /64 counting as one, as in fair.Key) has a queue of its
// own, and a worker that is free takes the oldest task of the address
// next in the ring, so one address's hundred queued bcrypt checks delay
// another's login by at most one check per address waiting, not by a
// hundred. A burst of legitimate work (300 clients logging in at once)
// may therefore queue deep without making anyone else wait longer.
type pool struct {
	workers int
	slots   *fair.Share // queued and running tasks, by client address

	mu     sync.Mutex
	ready  sync.Cond                 // a task was queued, or the pool closed
	queues map[netip.Addr]*addrQueue // the addresses with tasks waiting
	ring   fifo[*addrQueue]          // those addresses, in the order they are served
	queued int                       // tasks waiting for a worker
	spare  []*addrQueue              // emptied queues, for reuse
	closed bool
	wg     sync.WaitGroup
}

// addrQueue is one address's waiting tasks, oldest first.
type addrQueue struct {
	key   netip.Addr
	tasks fifo[func()]
}

// maxSpare bounds the emptied queues a pool keeps for reuse.
const maxSpare = 64

// newPool starts workers goroutines sharing a queue of queue tasks.
func newPool(workers, queue int) *pool {
	p := &pool{workers: workers, slots: fair.NewShare(workers + queue), queues: make(map[netip.Addr]*addrQueue)}
	p.ready.L = &p.mu
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
	return p
}

func (p *pool) work() {
	defer p.wg.Done()
	p.mu.Lock()
	for {
		for p.queued == 0 && !p.closed {
			p.ready.Wait()
		}
		if p.queued == 0 {
			p.mu.Unlock()
			return // closed, and nothing left
		}
		f := p.next()
		p.mu.Unlock()
		f()
		p.mu.Lock()
	}
}

// next takes the oldest task of the address whose turn it is; that
// address goes to the back of the ring if it has more. Call with mu held
// and a task queued.
func (p *pool) next() func() {
	q := p.ring.pop()
	f := q.tasks.pop()
	p.queued--
	if q.tasks.len() > 0 {
		p.ring.push(q)
	} else {
		delete(p.queues, q.key)
		if len(p.spare) < maxSpare {
			q.tasks.reset()
			p.spare = append(p.spare, q)
		}
	}
	return f
}

// submit queues f for the client at from and reports whether it was
// taken. It never blocks: a full queue, a closed pool or a client over its
// part of the slots refuses the task.
func (p *pool) submit(from netip.Addr, f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || !p.slots.Take(from) {
		return false
	}
	k := fair.Key(from)
	q := p.queues[k]
	if q == nil {
		if n := len(p.spare); n > 0 {
			q = p.spare[n-1]
			p.spare[n-1] = nil
			p.spare = p.spare[:n-1]
		} else {
			q = new(addrQueue)
		}
		q.key = k
		p.queues[k] = q
		p.ring.push(q)
	}
	q.tasks.push(func() {
		defer p.slots.Give(from)
		f()
	})
	p.queued++
	p.ready.Signal()
	return true
}

// waiting reports the tasks waiting for a worker.
func (p *pool) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queued
}

// close refuses new tasks, lets the workers finish the queued ones and
// waits for them.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.ready.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

// fifo is a first-in, first-out queue on a slice that is reused once
// emptied and compacted when its dead front outgrows its live part.
type fifo[T any] struct {
	items []T
	head  int
}

func (q *fifo[T]) len() int { return len(q.items) - q.head }

func (q *fifo[T]) push(v T) {
	if q.head > 0 && q.head >= len(q.items)/2 && len(q.items) == cap(q.items) {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, v)
}

// pop removes the oldest item; the queue must not be empty.
func (q *fifo[T]) pop() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return v
}

// reset empties the queue, keeping a small backing array for reuse.
func (q *fifo[T]) reset() {
	clear(q.items)
	if cap(q.items) > 16 {
		q.items = nil
	} else {
		q.items = q.items[:0]
	}
	q.head = 0
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
