// Per-address admission: session limits, refused-password counts and temporary bans.
package reactor

import (
	"net/netip"
	"time"
)

// maxTracked bounds the addresses whose refused passwords are remembered, so
// a flood from many addresses cannot grow the map without limit: when it is
// full of live records, further addresses are not counted.
const maxTracked = 65536

// guard decides which control connections are let in. Loop-only.
type guard struct {
	maxSessions, maxPerIP int
	passivePerIP          int
	banAfter              int
	banWindow, banFor     time.Duration

	perIP     map[netip.Addr]int32
	passive   map[netip.Addr]int32 // sessions holding a passive port, by address
	fails     map[netip.Addr]*failRecord
	lastPrune time.Time
	expiry    time.Time // no record in fails expires before it
}

// failRecord counts one address's refused passwords.
type failRecord struct {
	count       int
	first       time.Time // start of the counting window
	bannedUntil time.Time
}

// expires returns when r may be forgotten: its window and its ban are over.
func (r *failRecord) expires(window time.Duration) time.Time {
	if e := r.first.Add(window); e.After(r.bannedUntil) {
		return e
	}
	return r.bannedUntil
}

func newGuard(cfg Config) guard {
	return guard{
		maxSessions: cfg.MaxSessions, maxPerIP: cfg.MaxPerIP, passivePerIP: cfg.PassivePerIP,
		banAfter: cfg.BanAfter, banWindow: cfg.BanWindow, banFor: cfg.BanDuration,
		perIP:   make(map[netip.Addr]int32),
		passive: make(map[netip.Addr]int32),
		fails:   make(map[netip.Addr]*failRecord),
	}
}

// admit returns the reply that refuses a new connection from ip, or "".
func (g *guard) admit(ip netip.Addr, sessions int, now time.Time) string {
	if r := g.fails[ip]; r != nil && now.Before(r.bannedUntil) {
		return "421 Too many failed logins from your address; try again later.\r\n"
	}
	if g.maxSessions > 0 && sessions >= g.maxSessions {
		return "421 Too many sessions; try again later.\r\n"
	}
	if g.maxPerIP > 0 && int(g.perIP[ip]) >= g.maxPerIP {
		return "421 Too many sessions from your address; try again later.\r\n"
	}
	return ""
}

// opened and closed keep the per-address session counts.
func (g *guard) opened(ip netip.Addr) { g.perIP[ip]++ }

// closed also gives back the session's passive slot, if it held one.
func (g *guard) closed(ip netip.Addr, passive bool) {
	decr(g.perIP, ip)
	if passive {
		decr(g.passive, ip)
	}
}

func decr(m map[netip.Addr]int32, ip netip.Addr) {
	if n := m[ip]; n > 1 {
		m[ip] = n - 1
	} else {
		delete(m, ip)
	}
}

// takePassive gives a session of ip the right to hold a passive port until
// it closes; false when the address's sessions hold PassivePerIP already,
// so that no client can take the whole passive range. (A session holds at
// most one listener: a new PASV replaces the old one.)
func (g *guard) takePassive(ip netip.Addr) bool {
	if g.passivePerIP > 0 && int(g.passive[ip]) >= g.passivePerIP {
		return false
	}
	g.passive[ip]++
	return true
}

// failed records a refused password from ip and reports whether it has
// just been banned.
func (g *guard) failed(ip netip.Addr, now time.Time) bool {
	if g.banAfter <= 0 {
		return false
	}
	r := g.fails[ip]
	if r == nil {
		if len(g.fails) >= maxTracked {
			g.prune(now)
			if len(g.fails) >= maxTracked {
				return false // full of live records: this address goes uncounted
			}
		}
		r = &failRecord{first: now}
		g.fails[ip] = r
	}
	if now.Sub(r.first) > g.banWindow {
		r.count, r.first = 0, now
	}
	r.count++
	banned := false
	if r.count >= g.banAfter && !now.Before(r.bannedUntil) {
		r.bannedUntil = now.Add(g.banFor)
		r.count, r.first = 0, now
		banned = true
	}
	if e := r.expires(g.banWindow); len(g.fails) == 1 || e.Before(g.expiry) {
		g.expiry = e
	}
	return banned
}

// prune forgets records whose window and ban are over, at most once a second.
func (g *guard) prune(now time.Time) {
	if now.Sub(g.lastPrune) < time.Second && len(g.fails) < maxTracked {
		return
	}
	g.lastPrune = now
	g.expiry = time.Time{}
	for ip, r := range g.fails {
		if now.Sub(r.first) > g.banWindow && !now.Before(r.bannedUntil) {
			delete(g.fails, ip)
		} else if e := r.expires(g.banWindow); g.expiry.IsZero() || e.Before(g.expiry) {
			g.expiry = e
		}
	}
}

// nextPrune returns when prune next has records to forget (zero: none are
// kept), but not within a second of the last prune.
func (g *guard) nextPrune() time.Time {
	if len(g.fails) == 0 {
		return time.Time{}
	}
	return later(g.expiry, g.lastPrune.Add(time.Second))
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
