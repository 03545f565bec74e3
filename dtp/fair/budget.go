// Budget: the process's file descriptors, shared by every user of them with reserves by class and fair parts by address.
package fair

import (
	"net/netip"
	"sync"
)

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

// FirstUnits is how many descriptors an address may hold from the
// budget's reserve: enough for a session, its passive listener and an
// upload.
const FirstUnits = 8

// Budget counts the descriptors in use against a total derived from the
// open-file limit, by class and by client address. It is safe from any
// goroutine and never blocks. A nil *Budget allows everything.
//
// Besides the class ceilings, the descriptors are shared between
// addresses as a Share is (see the package comment), with the sessions'
// ceiling as the capacity: under contention an address holds its part,
// and a reserve serves addresses that hold fewer than FirstUnits. So a few
// hostile addresses, whatever they hold (sessions, listeners, transfers),
// leave room below every ceiling for a newcomer's session, listener and
// transfer.
type Budget struct {
	ceiling [classes]int
	fair    int // descriptors the addresses' parts divide (F)
	free    int // below this many in use, anyone may take (three quarters of F)

	mu      sync.Mutex
	used    int
	refused [classes]uint64    // Takes refused by class, for metrics
	held    map[netip.Addr]int // by Key
}

// Margin is what NewBudget leaves out of the open-file limit besides the
// descriptors open when it is made: the users that hold a bounded number
// each and are not counted one by one. They are the listeners and
// event-loop descriptors made later (a handful), a connection being
// accepted before it is admitted (one: the loop accepts and refuses them
// one at a time), the start-up clean-up and a certificate reload (a few
// each), and the storage workers' short-lived handles (fsWorkers of them,
// two each). With every other user counted, the process cannot run out
// of descriptors: gnet ends its engine when accept fails with EMFILE, so
// that must not happen.
func Margin(fsWorkers int) int { return 32 + 2*fsWorkers }

// NewBudget makes a budget of limit descriptors less open (those open
// already) and margin. Transfers may use all of it, passive listeners all
// but an eighth, sessions all but an eighth and a sixteenth (at least 16
// descriptors each). Of the sessions' ceiling, a sixteenth (at least
// 16·FirstUnits, at most a quarter) is the reserve for addresses that hold
// fewer than FirstUnits. It returns nil when limit is 0 (unknown: no
// budget).
func NewBudget(limit, open, margin int) *Budget {
	if limit <= 0 {
		return nil
	}
	total := max(limit-open-margin, 1)
	xfer := max(16, total/8)
	pasv := max(16, total/16)
	b := &Budget{held: make(map[netip.Addr]int)}
	b.ceiling[Transfer] = total
	b.ceiling[Passive] = max(total-xfer, 0)
	b.ceiling[Session] = max(total-xfer-pasv, 0)
	c := b.ceiling[Session]
	reserve := min(max(c/16, 16*FirstUnits), c/4)
	b.fair = c - reserve
	b.free = b.fair * 3 / 4
	return b
}

// Take takes n descriptors for class c and the client at a; false when
// that would pass the class's ceiling or a's part. (The zero Addr is the
// server's own: it has no part, only the ceilings.)
func (b *Budget) Take(c Class, a netip.Addr, n int) bool {
	if b == nil {
		return true
	}
	k := Key(a)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.ceiling[c] {
		b.refused[c]++
		return false
	}
	if a.IsValid() && b.used+n > b.free {
		h := b.held[k]
		addrs := len(b.held)
		if h == 0 {
			addrs++
		}
		first := h+n <= FirstUnits
		part := h+n <= (b.fair+addrs-1)/addrs && b.used+n <= b.fair
		if !first && !part {
			b.refused[c]++
			return false
		}
	}
	b.used += n
	if a.IsValid() {
		b.held[k] += n
	}
	return true
}

// Give returns n descriptors taken for a.
func (b *Budget) Give(a netip.Addr, n int) {
	if b == nil {
		return
	}
	k := Key(a)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if !a.IsValid() {
		return
	}
	if h := b.held[k] - n; h > 0 {
		b.held[k] = h
	} else {
		delete(b.held, k)
	}
}

// Used reports the descriptors taken.
func (b *Budget) Used() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Refused reports how many Takes for class c were refused.
func (b *Budget) Refused(c Class) uint64 {
	if b == nil || c < 0 || c >= classes {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refused[c]
}

// Held reports the descriptors taken for a.
func (b *Budget) Held(a netip.Addr) int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held[Key(a)]
}

// Ceiling reports how many descriptors class c may bring the budget to
// (0 for a nil budget: no limit).
func (b *Budget) Ceiling(c Class) int {
	if b == nil {
		return 0
	}
	return b.ceiling[c]
}
