// Fixed-size worker pools with bounded queues, and the transfer limit.
package dtp

import (
	"sync"
	"sync/atomic"
)

// pool runs tasks on a fixed number of goroutines. Its queue is bounded:
// submit refuses work when the queue is full instead of waiting.
type pool struct {
	tasks  chan func()
	mu     sync.RWMutex // guards closed against the close of tasks
	closed bool
	wg     sync.WaitGroup
}

// newPool starts workers goroutines sharing a queue of queue tasks.
func newPool(workers, queue int) *pool {
	p := &pool{tasks: make(chan func(), queue)}
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

// submit queues f and reports whether it was taken. It never blocks: a
// full queue or a closed pool refuses the task.
func (p *pool) submit(f func()) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false
	}
	select {
	case p.tasks <- f:
		return true
	default:
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

// limiter counts work in flight and refuses it beyond max.
type limiter struct {
	n   atomic.Int64
	max int64
}

// acquire takes a slot; false when all max slots are taken. It never blocks.
func (l *limiter) acquire() bool {
	for {
		n := l.n.Load()
		if n >= l.max {
			return false
		}
		if l.n.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (l *limiter) release() { l.n.Add(-1) }
