// Per-address admission: session limits, refused-password counts and temporary bans.
package reactor

import (
	"net/netip"
	"time"

	"github.com/rftpd/rftpd/dtp/fair"
)

// maxTracked bounds the addresses whose refused passwords are remembered, so
// a flood from many addresses cannot grow the map without limit: when it is
// full of live records, further addresses are not counted.
const maxTracked = 65536

// guard decides which control connections are let in. Loop-only, except
// its shares, which are safe from any goroutine (a handshake gives its
// unit back from its own).
//
// Sessions, passive listeners and TLS handshakes are each a fair.Share:
// under contention every address gets its part and a reserve stays for
// addresses that hold little; alone, an address may use nearly all of it.
// MaxPerIP and PassivePerIP are absolute caps on top, off by default.
type guard struct {
	maxPerIP          int
	passivePerIP      int
	banAfter          int
	banWindow, banFor time.Duration

	sessions   *fair.Share
	passive    *fair.Share // sessions holding a passive listener
	handshakes *fair.Share // TLS handshakes in progress
	fails      map[netip.Addr]*failRecord
	lastPrune  time.Time
	expiry     time.Time // no record in fails expires before it
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

// newGuard makes the guard; the capacities of its shares come from cfg
// (MaxSessions, PassiveCapacity, MaxHandshakes; 0: no limit).
func newGuard(cfg Config) guard {
	return guard{
		maxPerIP: cfg.MaxPerIP, passivePerIP: cfg.PassivePerIP,
		banAfter: cfg.BanAfter, banWindow: cfg.BanWindow, banFor: cfg.BanDuration,
		sessions:   fair.NewShare(cfg.MaxSessions),
		passive:    fair.NewShare(cfg.PassiveCapacity),
		handshakes: fair.NewShare(cfg.MaxHandshakes),
		fails:      make(map[netip.Addr]*failRecord),
	}
}

// admit takes a session for ip, or returns the reply that refuses it (and
// counts a refusal of its own in m; the share counts its own).
func (g *guard) admit(ip netip.Addr, now time.Time, m *meter) string {
	if r := g.fails[ip]; r != nil && now.Before(r.bannedUntil) {
		m.refused[refuseBan].Add(1)
		return "421 Too many failed logins from your address; try again later.\r\n"
	}
	if g.maxPerIP > 0 && g.sessions.Held(ip) >= g.maxPerIP {
		m.refused[refuseSessionsPerIP].Add(1)
		return "421 Too many sessions from your address; try again later.\r\n"
	}
	if !g.sessions.Take(ip) {
		return "421 Too many sessions; try again later.\r\n"
	}
	return ""
}

// closed gives back a session admitted for ip, and its passive slot if it
// held one.
func (g *guard) closed(ip netip.Addr, passive bool) {
	g.sessions.Give(ip)
	if passive {
		g.passive.Give(ip)
	}
}

// takePassive gives a session of ip the right to hold a passive listener
// until it closes; false when ip is over its part of the passive
// listeners, or holds PassivePerIP of them. (A session holds at most one
// listener: a new PASV replaces the old one.)
func (g *guard) takePassive(ip netip.Addr, m *meter) bool {
	if g.passivePerIP > 0 && g.passive.Held(ip) >= g.passivePerIP {
		m.refused[refusePassivePerIP].Add(1)
		return false
	}
	return g.passive.Take(ip)
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
