// Budget: the process's file descriptors, shared by every user of them with reserves by class.
package fair

import "sync/atomic"

// Class is what a descriptor is taken for. Each class may use the budget
// up to its own ceiling, so that the classes that finish work (transfers)
// can always get descriptors that the classes that only hold them
// (sessions, idle listeners) cannot take.
type Class int

const (
	// Transfer: a data connection and the file, directory or pipe it moves
	// data through. It may use the whole budget.
	Transfer Class = iota
	// Passive: a passive listener. It may not use the transfers' reserve.
	Passive
	// Session: a control connection. It may not use the reserves of
	// transfers and passive listeners.
	Session
	classes
)

// Budget counts the descriptors in use by the classes above against a
// total derived from the open-file limit. It is safe from any goroutine and
// never blocks. A nil *Budget allows everything.
type Budget struct {
	total   int64
	ceiling [classes]int64
	used    atomic.Int64
}

// Margin is what NewBudget leaves out of the open-file limit besides the
// descriptors open when it is made: the listeners and event-loop
// descriptors made later, a connection being accepted before it is
// admitted, and the short-lived handles of storage workers (fsWorkers of
// them, two each).
func Margin(fsWorkers int) int { return 32 + 2*fsWorkers }

// NewBudget makes a budget of limit descriptors less open (those open
// already) and margin. Transfers may use all of it, passive listeners all
// but an eighth, sessions all but an eighth and a sixteenth (at least 16
// descriptors each). It returns nil when limit is 0 (unknown: no budget).
func NewBudget(limit, open, margin int) *Budget {
	if limit <= 0 {
		return nil
	}
	total := int64(max(limit-open-margin, 1))
	xfer := max(16, total/8)
	pasv := max(16, total/16)
	b := &Budget{total: total}
	b.ceiling[Transfer] = total
	b.ceiling[Passive] = max(total-xfer, 0)
	b.ceiling[Session] = max(total-xfer-pasv, 0)
	return b
}

// Take takes n descriptors for class c; false when that would pass the
// class's ceiling.
func (b *Budget) Take(c Class, n int) bool {
	if b == nil {
		return true
	}
	ceil := b.ceiling[c]
	for {
		u := b.used.Load()
		if u+int64(n) > ceil {
			return false
		}
		if b.used.CompareAndSwap(u, u+int64(n)) {
			return true
		}
	}
}

// Give returns n descriptors taken before.
func (b *Budget) Give(n int) {
	if b != nil {
		b.used.Add(-int64(n))
	}
}

// Used reports the descriptors taken.
func (b *Budget) Used() int {
	if b == nil {
		return 0
	}
	return int(b.used.Load())
}

// Ceiling reports how many descriptors class c may bring the budget to
// (0 for a nil budget: no limit).
func (b *Budget) Ceiling(c Class) int {
	if b == nil {
		return 0
	}
	return int(b.ceiling[c])
}
