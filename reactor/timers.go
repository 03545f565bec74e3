// Session timers: one runtime timer for the whole loop, set for the earliest session deadline.
package reactor

import (
	"container/heap"
	"time"
)

// Time on the loop is counted in ticks of Config.Tick since the server
// booted. A session's deadline is rounded up to a tick, so sessions whose
// deadlines fall in the same tick are looked at in one sweep, and a deadline
// is acted on at most one Tick late.
//
// The connections that wait for a tick sit in a heap ordered by it, and one
// runtime timer is set for the heap's first tick. A server whose sessions
// all wait minutes for their idle timeout wakes up once then, not every
// Tick: every wakeup of an idle loop is a thread woken on a machine whose
// cores may all be busy moving data, and a sweep of every session every
// Tick is work in proportion to the sessions held.
//
// An entry may be later than its session now needs (a deadline moved
// closer: the entry moves up at once) or earlier (a command pushed the idle
// deadline back: the entry stays, and the sweep that finds nothing due
// files it again). So a busy session costs a heap operation about once per
// idle timeout, not once per command.

// timerHeap orders the connections waiting for a tick. Loop-only.
type timerHeap []*conn

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].wake < h[j].wake }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].slot = i + 1
	h[j].slot = j + 1
}

func (h *timerHeap) Push(x any) {
	cn := x.(*conn)
	*h = append(*h, cn)
	cn.slot = len(*h)
}

func (h *timerHeap) Pop() any {
	old := *h
	cn := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	cn.slot = 0
	return cn
}

// maxArm is the longest the timer is set for at once; a later tick is
// reached by setting it again. It keeps the tick arithmetic far from
// overflow whatever timeouts are configured.
const maxArm = time.Hour

// tickAtOrAfter returns the first tick at or after t.
func (s *Server) tickAtOrAfter(t time.Time) int64 {
	d := t.Sub(s.epoch)
	if d <= 0 {
		return 0
	}
	n := int64(d / s.cfg.Tick) // d may be the largest Duration: no d+Tick-1
	if d%s.cfg.Tick != 0 {
		n++
	}
	return n
}

// tickAtOrBefore returns the last tick at or before t.
func (s *Server) tickAtOrBefore(t time.Time) int64 {
	return max(int64(t.Sub(s.epoch)/s.cfg.Tick), 0)
}

// schedule files cn for the tick its session next needs: its deadline.
// Loop-only; called after every call into the session.
func (cn *conn) schedule() {
	if cn.closed {
		return // OnClose takes it out of the heap
	}
	s := cn.srv
	var want int64 = -1
	if d := cn.sess.Deadline(); !d.IsZero() {
		want = s.tickAtOrAfter(d)
	}
	// A tick already swept (a deadline just passed) is fine: arm sets the
	// timer for the next tick at the earliest.
	switch {
	case want < 0:
		return // an entry left in place finds nothing due, and is dropped
	case cn.slot == 0:
		cn.wake = want
		heap.Push(&s.timers, cn)
	case want < cn.wake:
		cn.wake = want
		heap.Fix(&s.timers, cn.slot-1)
	default:
		return // the entry comes first, and the sweep files it again
	}
	s.arm()
}

// unschedule takes a closed connection out of the heap. Loop-only.
func (cn *conn) unschedule() {
	if cn.slot != 0 {
		heap.Remove(&cn.srv.timers, cn.slot-1)
	}
}

// arm sets the timer for the first tick anything waits for, unless it is
// set for that tick or an earlier one already. Loop-only.
func (s *Server) arm() {
	next := int64(-1)
	if len(s.timers) > 0 {
		next = s.timers[0].wake
	}
	if p := s.guard.nextPrune(); !p.IsZero() {
		if t := s.tickAtOrAfter(p); next < 0 || t < next {
			next = t
		}
	}
	if next < 0 {
		return
	}
	next = max(next, s.swept+1) // what is due now waits for the next tick
	if s.armed >= 0 && s.armed <= next {
		return
	}
	now := time.Now()
	next = min(next, s.tickAtOrBefore(now.Add(maxArm)))
	s.armed = next
	s.timer.Reset(s.epoch.Add(time.Duration(next) * s.cfg.Tick).Sub(now))
}

// fire runs on the timer's goroutine: it only posts a sweep into the loop.
func (s *Server) fire() { s.executeLive(s.sweep) }

// executeLive posts fn into the loop unless the server is stopping.
func (s *Server) executeLive(fn func()) {
	select {
	case <-s.stop:
	default:
		s.execute(fn)
	}
}

// sweep acts on the sessions whose tick has come, prunes the guard's
// records, and sets the timer again.
// Loop-only.
func (s *Server) sweep() {
	s.sweeps.Add(1)
	now := time.Now()
	s.armed = -1
	s.swept = max(s.swept, s.tickAtOrBefore(now))
	s.guard.prune(now)
	due := s.due[:0]
	for len(s.timers) > 0 && s.timers[0].wake <= s.swept {
		due = append(due, heap.Pop(&s.timers).(*conn))
	}
	for i, cn := range due {
		due[i] = nil
		if cn.closed {
			continue
		}
		if d := cn.sess.Deadline(); !d.IsZero() && !now.Before(d) {
			cn.sess.Tick(now)
			cn.handle(cn.sess.TakeOutput())
		}
		cn.schedule()
	}
	s.due = due[:0]
	s.arm()
}
