// Share: a count-limited resource divided between client addresses under contention.
package fair

import (
	"net/netip"
	"sync"
)

// Share counts the units of one resource held per client address and
// decides who may take more (see the package comment). It is safe from any
// goroutine. The zero value and a Share of capacity 0 refuse nothing.
type Share struct {
	capacity int
	reserve  int

	mu      sync.Mutex
	used    int
	refused uint64               // Takes refused, for metrics
	held    map[netip.Addr]int32 // by Key
}

// NewShare makes a share of capacity units; 0 or less: no limit.
func NewShare(capacity int) *Share {
	c := max(capacity, 0)
	return &Share{capacity: c, reserve: max(c/16, min(16, c/4)), held: make(map[netip.Addr]int32)}
}

// Resize changes the capacity (0 or less: no limit). Units held beyond a
// smaller capacity stay held; Take refuses until enough are given back.
func (s *Share) Resize(capacity int) {
	if s == nil {
		return
	}
	c := max(capacity, 0)
	s.mu.Lock()
	s.capacity, s.reserve = c, max(c/16, min(16, c/4))
	s.mu.Unlock()
}

// Key is the address a client's units count under: the address itself for
// IPv4, its /64 for IPv6.
func Key(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, err := a.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return a
}

// Take takes one unit for a and reports whether it was allowed.
func (s *Share) Take(a netip.Addr) bool {
	if s == nil {
		return true
	}
	k := Key(a)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.allowed(k) {
		s.refused++
		return false
	}
	s.used++
	if s.held == nil {
		s.held = make(map[netip.Addr]int32)
	}
	s.held[k]++
	return true
}

// allowed is Take's rule. Call with mu held.
func (s *Share) allowed(k netip.Addr) bool {
	c := s.capacity
	if c == 0 {
		return true
	}
	if s.used >= c {
		return false
	}
	free := c - s.reserve
	if s.used < free*3/4 {
		return true
	}
	h := int(s.held[k])
	if h == 0 {
		return true // a first unit, from the reserve if need be
	}
	n := len(s.held)
	return h < (free+n-1)/n && s.used < free
}

// Give returns one unit a took.
func (s *Share) Give(a netip.Addr) {
	if s == nil {
		return
	}
	k := Key(a)
	s.mu.Lock()
	if n := s.held[k]; n > 1 {
		s.held[k] = n - 1
		s.used--
	} else if n == 1 {
		delete(s.held, k)
		s.used--
	}
	s.mu.Unlock()
}

// Held reports the units a holds.
func (s *Share) Held(a netip.Addr) int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.held[Key(a)])
}

// Capacity reports the units the share divides (0: no limit).
func (s *Share) Capacity() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.capacity
}

// Refused reports how many Takes were refused.
func (s *Share) Refused() uint64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused
}

// Used reports the units held by all addresses.
func (s *Share) Used() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}
