// Tests of the sharing rule and the descriptor budget's ceilings.
package fair

import (
	"fmt"
	"net/netip"
	"testing"
)

func addr(i int) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, byte(i >> 8), byte(i)}) }

// fill takes units for a until refused and returns how many it got.
func fill(s *Share, a netip.Addr) int {
	n := 0
	for s.Take(a) {
		n++
	}
	return n
}

func TestShareAloneTakesAllButTheReserve(t *testing.T) {
	s := NewShare(1024)
	if got := fill(s, addr(1)); got != 1024-64 {
		t.Fatalf("one address alone took %d of 1024, want 960 (all but the reserve of 64)", got)
	}
	// A newcomer still gets in, from the reserve, while the first one
	// holds all it may.
	if !s.Take(addr(2)) {
		t.Fatal("a second address was refused while the reserve was free")
	}
	if s.Take(addr(1)) {
		t.Fatal("the first address took more than its part once another came")
	}
}

func TestShareEightCannotDenyANinth(t *testing.T) {
	for _, capacity := range []int{36, 64, 100, 1024, 20000} { // from 36 the reserve has 9
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			s := NewShare(capacity)
			// Eight hostile addresses take turns until each is refused.
			for progress := true; progress; {
				progress = false
				for i := range 8 {
					if s.Take(addr(i)) {
						progress = true
					}
				}
			}
			if s.Used() >= capacity {
				t.Fatalf("8 addresses filled all %d units", capacity)
			}
			if !s.Take(addr(100)) {
				t.Fatalf("a 9th address was refused with %d of %d in use", s.Used(), capacity)
			}
		})
	}
}

func TestShareManyAddressesEachGetOneUntilFull(t *testing.T) {
	s := NewShare(64)
	got := 0
	for i := range 500 {
		if s.Take(addr(i)) {
			got++
		}
	}
	if got != 64 || s.Used() != 64 {
		t.Fatalf("500 addresses got %d units of 64 (used %d)", got, s.Used())
	}
	s.Give(addr(3))
	if !s.Take(addr(999)) {
		t.Fatal("a freed unit was not available")
	}
	if s.Take(addr(1000)) {
		t.Fatal("a take beyond the capacity was allowed")
	}
}

func TestShareGiveAndHeld(t *testing.T) {
	s := NewShare(10)
	a := addr(7)
	s.Take(a)
	s.Take(a)
	if s.Held(a) != 2 || s.Used() != 2 {
		t.Fatalf("held %d used %d, want 2 2", s.Held(a), s.Used())
	}
	s.Give(a)
	s.Give(a)
	s.Give(a) // one too many: ignored
	if s.Held(a) != 0 || s.Used() != 0 || len(s.held) != 0 {
		t.Fatalf("after giving back: held %d used %d map %d", s.Held(a), s.Used(), len(s.held))
	}
}

func TestShareIPv6CountsPerSlash64(t *testing.T) {
	s := NewShare(32)
	base := netip.MustParseAddr("2001:db8:1:2::1").As16()
	n := 0
	for i := range 200 {
		b := base
		b[14], b[15] = byte(i>>8), byte(i)
		if s.Take(netip.AddrFrom16(b)) {
			n++
		}
	}
	if n != 32-8 {
		t.Fatalf("200 addresses of one /64 took %d of 32, want 24 (all but the reserve)", n)
	}
	if !s.Take(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Fatal("another /64 was refused")
	}
	if Key(netip.MustParseAddr("::ffff:127.0.0.1")) != netip.MustParseAddr("127.0.0.1") {
		t.Fatal("a mapped IPv4 address does not count as IPv4")
	}
}

func TestShareNoLimit(t *testing.T) {
	var zero Share
	var nilShare *Share
	for i := range 1000 {
		if !zero.Take(addr(1)) || !nilShare.Take(addr(1)) {
			t.Fatalf("take %d refused without a capacity", i)
		}
	}
}

func TestBudgetCeilings(t *testing.T) {
	var server netip.Addr        // the zero address: ceilings only
	b := NewBudget(1200, 20, 64) // 1116 descriptors
	if b.Ceiling(Transfer) != 1116 || b.Ceiling(Passive) != 1116-139 || b.Ceiling(Session) != 1116-139-69 {
		t.Fatalf("ceilings %d %d %d", b.Ceiling(Transfer), b.Ceiling(Passive), b.Ceiling(Session))
	}
	sessions := 0
	for b.Take(Session, server, 1) {
		sessions++
	}
	if sessions != b.Ceiling(Session) {
		t.Fatalf("sessions took %d, want %d", sessions, b.Ceiling(Session))
	}
	listeners := 0
	for b.Take(Passive, server, 1) {
		listeners++
	}
	if listeners != 69 {
		t.Fatalf("passive listeners took %d beside full sessions, want 69", listeners)
	}
	if !b.Take(Transfer, server, 5) {
		t.Fatal("a transfer was refused although the transfers' reserve is free")
	}
	for b.Take(Transfer, server, 2) {
	}
	if b.Used() > 1116 {
		t.Fatalf("used %d of 1116", b.Used())
	}
	b.Give(server, b.Used())
	if b.Used() != 0 {
		t.Fatal("give did not return")
	}
	if NewBudget(0, 10, 10) != nil {
		t.Fatal("an unknown limit made a budget")
	}
	var nb *Budget
	if !nb.Take(Session, server, 1000) {
		t.Fatal("a nil budget refused")
	}
}

// Eight addresses that take every descriptor they can, of every class,
// leave a ninth its session, passive listener and upload; one address
// alone may take all but the reserve.
func TestBudgetShares(t *testing.T) {
	for _, limit := range []int{1200, 20000} {
		b := NewBudget(limit, 20, 64)
		held := 0
		for progress := true; progress; {
			progress = false
			for i := range 8 {
				for _, c := range []struct {
					class Class
					n     int
				}{{Session, 1}, {Passive, 1}, {Transfer, 5}} {
					if b.Take(c.class, addr(i), c.n) {
						held += c.n
						progress = true
					}
				}
			}
		}
		if !b.Take(Session, addr(100), 1) || !b.Take(Passive, addr(100), 1) || !b.Take(Transfer, addr(100), 5) {
			t.Fatalf("limit %d: a 9th address was refused beside %d descriptors of 8 others", limit, held)
		}
		b.Give(addr(100), 7)
		for i := range 8 {
			b.Give(addr(i), b.Held(addr(i)))
		}
		if b.Used() != 0 {
			t.Fatalf("limit %d: %d left after every give", limit, b.Used())
		}
		alone := 0
		for b.Take(Session, addr(1), 1) {
			alone++
		}
		if want := b.fair; alone != want {
			t.Fatalf("limit %d: one address alone took %d sessions, want %d (all but the reserve)", limit, alone, want)
		}
		// A newcomer still gets its first units from the reserve.
		if !b.Take(Session, addr(2), 1) || !b.Take(Transfer, addr(2), 5) {
			t.Fatalf("limit %d: a newcomer was refused beside a lone address", limit)
		}
	}
}

func TestRefusalsCounted(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	s := NewShare(1)
	s.Take(a)
	s.Take(a)
	s.Take(a)
	if s.Refused() != 2 || s.Capacity() != 1 {
		t.Fatalf("share: refused %d, capacity %d", s.Refused(), s.Capacity())
	}
	b := NewBudget(100, 0, 0)
	for b.Take(Session, a, 1) {
	}
	if b.Refused(Session) != 1 || b.Refused(Passive) != 0 {
		t.Fatalf("budget: refused %d sessions, %d passive", b.Refused(Session), b.Refused(Passive))
	}
}
