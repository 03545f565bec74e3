// Bandwidth limits: token buckets for the server, client addresses, users and sessions, shared fairly by the transfers under them.
package dtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/dtp/fair"
	"github.com/rftpd/rftpd/protocol"
)

// Rates are the bandwidth limits, in bytes per second, of downloads (RETR)
// and uploads (STOR, APPE, STOU) apart; 0 is no limit. Each applies to the
// bytes on the data connection (after TLS and MODE Z, before TYPE A
// conversion is undone), and every limit that applies to a transfer holds
// at once, so the tightest one sets its pace. Listings are not limited.
type Rates struct {
	Download, Upload                     int64 // the whole server
	DownloadPerIP, UploadPerIP           int64 // each client address (an IPv6 /64 counts as one, as in fair.Key)
	DownloadPerSession, UploadPerSession int64 // each control connection (it runs one transfer at a time)
}

// A user's own limits come from the accounts file (download_rate,
// upload_rate) and hold for all of that user's sessions together.

// Each limit is a token bucket, kept as the time at which it runs empty
// when every byte already paid for has been sent (the generic cell rate
// algorithm): paying n bytes moves that time on by n/rate, and the payer
// waits until it is no longer in the future. An idle bucket saves up
// burstTime divided by the transfers under it (or the payment at hand,
// if larger): a lone transfer whose waits oversleep, or whose copying
// takes a while, loses nothing as long as that stays under burstTime,
// and none of many transfers sharing a bucket can get more than two full
// slices ahead of its turn after a pause.
//
// Transfers pay after each slice they move, and a slice is about
// sliceTime's worth of their part of the tightest limit (the limit's rate
// divided by the transfers under it), at least sliceMin and at most the
// copy loop's normal slice. Payments queue in arrival order, so transfers
// sharing a bucket take turns slice by slice: with equal slices each gets
// an equal part, however many wait.
const (
	burstTime = 100 * time.Millisecond
	sliceTime = 50 * time.Millisecond
	sliceMin  = 16 << 10
)

// dirDown and dirUp index the download and upload limits.
const (
	dirDown = iota
	dirUp
)

// levels of limits, in the order a transfer pays them: the narrowest
// first, so that the wider buckets (shared by more transfers) see only
// the bytes the narrower ones have let through.
const (
	levelSession = iota
	levelUser
	levelIP
	levelGlobal
	levels
)

// bucketKey names one bucket in the rate table.
type bucketKey struct {
	dir   int
	level int
	addr  netip.Addr // levelIP: fair.Key of the client
	user  string     // levelUser
	sess  *Session   // levelSession
}

// bucket is one token bucket and the transfers using it.
type bucket struct {
	key   bucketKey
	users atomic.Int32 // transfers holding it (rateTable)
	share atomic.Int64 // rate / users: a transfer's fair part, for its slice size

	mu   sync.Mutex
	rate int64     // bytes per second, > 0
	tat  time.Time // when the bucket is empty once everything paid for has been sent
}

// setRate changes the bucket's rate. Debts run up at the old rate are
// forgiven, so a faster rate takes effect at once.
func (b *bucket) setRate(rate int64, now time.Time) {
	b.mu.Lock()
	if rate != b.rate {
		b.rate = rate
		if b.tat.After(now) {
			b.tat = now
		}
	}
	b.share.Store(rate / int64(max(b.users.Load(), 1)))
	b.mu.Unlock()
}

// pay takes n bytes from the bucket at now and returns when the payer may
// go on: at or before now when the bucket had them.
func (b *bucket) pay(n int64, now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := time.Duration(float64(n) / float64(b.rate) * float64(time.Second))
	saved := max(d, burstTime/time.Duration(max(b.users.Load(), 1)))
	start := b.tat
	if full := now.Add(-saved); start.Before(full) {
		start = full
	}
	b.tat = start.Add(d)
	return b.tat
}

// rateTable holds the buckets in use, each once: made by the first
// transfer under it, dropped with the last, so it holds at most a few
// buckets per transfer in flight.
type rateTable struct {
	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

// acquire returns the bucket of k at rate, made if need be, counting one
// more transfer under it.
func (rt *rateTable) acquire(k bucketKey, rate int64, now time.Time) *bucket {
	rt.mu.Lock()
	b := rt.buckets[k]
	if b == nil {
		if rt.buckets == nil {
			rt.buckets = make(map[bucketKey]*bucket)
		}
		b = &bucket{key: k}
		rt.buckets[k] = b
	}
	b.users.Add(1)
	rt.mu.Unlock()
	b.setRate(rate, now)
	return b
}

// release counts one transfer less under b; the last one drops it.
func (rt *rateTable) release(b *bucket) {
	rt.mu.Lock()
	if b.users.Add(-1) == 0 {
		delete(rt.buckets, b.key)
	}
	rt.mu.Unlock()
	b.mu.Lock()
	b.share.Store(b.rate / int64(max(b.users.Load(), 1)))
	b.mu.Unlock()
}

// size is the number of buckets in the table, for tests.
func (rt *rateTable) size() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.buckets)
}

// rateState is the Server's part: the limits in force, the table of
// buckets, and the signal that wakes waiting transfers when limits change.
type rateState struct {
	rates atomic.Pointer[Rates]
	gen   atomic.Uint64 // moves on with every change of rates or accounts
	table rateTable

	wakeMu sync.Mutex
	wake   chan struct{} // closed and replaced by changed
}

// changed tells every limiter to look up its limits again, waking those
// that wait.
func (rs *rateState) changed() {
	rs.gen.Add(1)
	rs.wakeMu.Lock()
	if rs.wake != nil {
		close(rs.wake)
	}
	rs.wake = make(chan struct{})
	rs.wakeMu.Unlock()
}

// woken returns the channel the next change closes.
func (rs *rateState) woken() <-chan struct{} {
	rs.wakeMu.Lock()
	defer rs.wakeMu.Unlock()
	if rs.wake == nil {
		rs.wake = make(chan struct{})
	}
	return rs.wake
}

// SetRates puts r in force. Transfers in flight take the new limits at
// their next slice; those waiting for bytes at an old, slower rate stop
// waiting at once.
func (s *Server) SetRates(r Rates) {
	s.rl.rates.Store(&r)
	s.rl.changed()
}

// limiter paces one transfer by every limit that applies to it. Only the
// transfer's goroutine uses it. A transfer under no limit pays nothing:
// slice returns 0 and the copy loops take their unlimited path.
type limiter struct {
	rs   *rateState
	acc  func() *Accounts // the accounts in force, for the user's limits
	ctx  context.Context  // the transfer's: abort cancels a wait
	dir  int
	addr netip.Addr // fair.Key of the client
	user string     // "" for anonymous logins: no user limit
	sess *Session

	gen   uint64
	bks   []*bucket // in the order of levels
	timer *time.Timer
}

// newLimiter makes the limiter of t, a transfer of kind k by id over
// sess; nil for kinds that are never limited (listings).
func (s *Server) newLimiter(sess *Session, t *transfer, id *identity, k protocol.XferKind) *limiter {
	dir := dirDown
	switch k {
	case protocol.XferRetr:
	case protocol.XferStor, protocol.XferAppe, protocol.XferStou:
		dir = dirUp
	default:
		return nil
	}
	l := &limiter{rs: &s.rl, acc: s.accounts, ctx: t.ctx, dir: dir, addr: fair.Key(t.client), sess: sess}
	if id != nil && !id.anon {
		l.user = id.user
	}
	l.resolve()
	return l
}

// resolve looks the limits up again and holds the buckets they name.
func (l *limiter) resolve() {
	l.gen = l.rs.gen.Load()
	r := l.rs.rates.Load()
	if r == nil {
		r = &Rates{}
	}
	var want [levels]int64
	if l.dir == dirDown {
		want = [levels]int64{r.DownloadPerSession, 0, r.DownloadPerIP, r.Download}
	} else {
		want = [levels]int64{r.UploadPerSession, 0, r.UploadPerIP, r.Upload}
	}
	if l.user != "" {
		if a := l.acc(); a != nil {
			want[levelUser] = a.userRate(l.user, l.dir)
		}
	}
	now := time.Now()
	old := l.bks
	l.bks = nil
	for lv, rate := range want {
		if rate <= 0 {
			continue
		}
		k := bucketKey{dir: l.dir, level: lv}
		switch lv {
		case levelSession:
			k.sess = l.sess
		case levelUser:
			k.user = l.user
		case levelIP:
			k.addr = l.addr
		}
		l.bks = append(l.bks, l.rs.table.acquire(k, rate, now))
	}
	for _, b := range old {
		l.rs.table.release(b)
	}
}

// close gives the buckets back; the transfer has ended.
func (l *limiter) close() {
	if l == nil {
		return
	}
	for _, b := range l.bks {
		l.rs.table.release(b)
	}
	l.bks = nil
	if l.timer != nil {
		l.timer.Stop()
	}
}

// slice is how many bytes to move before the next payment, at most
// most; 0 when no limit applies (move as usual, pay nothing).
func (l *limiter) slice(most int) int {
	if l == nil {
		return 0
	}
	if l.rs.gen.Load() != l.gen {
		l.resolve()
	}
	if len(l.bks) == 0 {
		return 0
	}
	share := l.bks[0].share.Load()
	for _, b := range l.bks[1:] {
		share = min(share, b.share.Load())
	}
	n := max(share*int64(sliceTime)/int64(time.Second), sliceMin)
	return int(max(min(n, int64(most)), 1))
}

// errRateWait: the transfer was aborted while it waited for its limit.
var errRateWait = errors.New("dtp: aborted while waiting under a bandwidth limit")

// pay takes n bytes, just moved, from every bucket of the limiter in turn,
// waiting on the transfer's goroutine for each to have them. Abort ends
// the wait with an error; a change of limits ends it and pays again under
// the new ones.
func (l *limiter) pay(n int) error {
	if l == nil || n <= 0 {
		return nil
	}
	wake := l.rs.woken()
	if l.rs.gen.Load() != l.gen {
		l.resolve()
	}
	for i := 0; i < len(l.bks); i++ {
		now := time.Now()
		d := l.bks[i].pay(int64(n), now).Sub(now)
		if d <= 0 {
			continue
		}
		if l.timer == nil {
			l.timer = time.NewTimer(d)
		} else {
			l.timer.Reset(d)
		}
		select {
		case <-l.timer.C:
		case <-l.ctx.Done():
			l.timer.Stop()
			return errRateWait
		case <-wake:
			l.timer.Stop()
			wake = l.rs.woken()
			l.resolve()
			i = -1 // pay again under the new limits
		}
	}
	return nil
}

// limitedConn is a data connection whose reads and writes are paced by a
// limiter, for the copy loops that move bytes through user space (TYPE A,
// and what wraps the connection, such as MODE Z).
type limitedConn struct {
	net.Conn
	lim *limiter
}

// Write writes p in slices, paying for each.
func (c limitedConn) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		n := c.lim.slice(len(p))
		if n == 0 {
			w, err := c.Conn.Write(p)
			return total + w, err
		}
		w, err := c.Conn.Write(p[:n])
		total += w
		if perr := c.lim.pay(w); err == nil && perr != nil {
			err = perr
		}
		if err != nil {
			return total, err
		}
		p = p[w:]
	}
	return total, nil
}

// Read reads at most a slice and pays for it.
func (c limitedConn) Read(p []byte) (int, error) {
	n := c.lim.slice(len(p))
	if n == 0 {
		return c.Conn.Read(p)
	}
	r, err := c.Conn.Read(p[:n])
	if perr := c.lim.pay(r); err == nil && perr != nil {
		err = perr
	}
	return r, err
}

// dataOut is the connection a transfer's user-space copy loops use: the
// TLS one when protected (its transport is paced, see secure), else c,
// paced when the transfer has a limiter.
func (t *transfer) dataOut(c *net.TCPConn, tc *tls.Conn) net.Conn {
	if tc != nil {
		return tc
	}
	if t.lim != nil {
		return limitedConn{Conn: c, lim: t.lim}
	}
	return c
}

// ParseRate reads a bandwidth limit in bytes per second: an integer, or a
// number (decimals allowed) with one of the binary suffixes K, M, G (also
// written KiB, MiB, GiB, or k, m, g): "512K" is 524288, "1.5M" 1572864.
// An optional "/s" may follow. 0 is no limit. Units that could mean two
// things are refused: "MB" (10^6 or 2^20?) and anything with a lower-case
// "b" (bits or bytes?).
func ParseRate(s string) (int64, error) {
	v := strings.TrimSpace(s)
	v = strings.TrimSuffix(v, "/s")
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := v, ""
	if i >= 0 {
		num, unit = v[:i], strings.TrimSpace(v[i:])
	}
	mult := float64(1)
	switch unit {
	case "", "B":
	case "K", "k", "KiB":
		mult = 1 << 10
	case "M", "m", "MiB":
		mult = 1 << 20
	case "G", "g", "GiB":
		mult = 1 << 30
	case "KB", "kB", "MB", "GB":
		return 0, fmt.Errorf("rate %q: %s is ambiguous; write %sK or %sKiB (1024-based) or the bytes per second as a number", s, unit, num, num)
	default:
		if strings.Contains(unit, "b") {
			return 0, fmt.Errorf("rate %q: bits or bytes? Write bytes per second, with K, M or G (1024-based)", s)
		}
		return 0, fmt.Errorf("rate %q: want bytes per second, a number with K, M or G (1024-based), such as \"512K\" or \"10M\"", s)
	}
	if num == "" {
		return 0, fmt.Errorf("rate %q: no number", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("rate %q: %v", s, err)
	}
	r := f * mult
	if r >= 1<<62 {
		return 0, fmt.Errorf("rate %q: too large", s)
	}
	if r != 0 && r < 1 {
		return 0, fmt.Errorf("rate %q: under one byte per second", s)
	}
	return int64(r), nil
}

// rateValue reads a rate from a TOML value: an integer (bytes per second)
// or a string ParseRate takes.
func rateValue(v any) (int64, error) {
	switch v := v.(type) {
	case int64:
		if v < 0 {
			return 0, fmt.Errorf("rate %d: must not be negative", v)
		}
		return v, nil
	case string:
		return ParseRate(v)
	}
	return 0, fmt.Errorf("rate %v: want bytes per second, a number or a string such as \"10M\"", v)
}

// Rate is a bandwidth limit in a TOML file: bytes per second, written as
// an integer or as a string ParseRate takes ("10M").
type Rate int64

// UnmarshalTOML takes an integer or a string.
func (r *Rate) UnmarshalTOML(v any) error {
	n, err := rateValue(v)
	if err != nil {
		return err
	}
	*r = Rate(n)
	return nil
}
