// The listing cache: a folder listed moments ago is sent again from memory.
package dtp

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// Mirror clients (lftp mirror, wget -m) list every folder of a tree, and a
// popular tree is listed by many at once; a fleet polls one folder for new
// firmware. Each listing of a folder of 1,000 files costs 1,000 stat calls
// (statx, a path lookup each): nearly all of what the server spends on it.
// The listing cache keeps the bytes of a complete listing for as long as
// the stat cache keeps a stat (Config.StatCache), under the stat cache's
// generations: every change made through rftpd makes every cached listing
// unusable at once, and a listing that ran while a change was under way is
// not kept. A change made beside rftpd shows once that time has passed.
//
// Its memory is bounded by Config.ListCache, which counts the listings held
// (their bytes and their keys, entryCost), those dropped that sends still
// use (listBuf), and those being captured: a listing is captured as it is
// sent, and the capture is given up (the listing goes on) as soon as the
// budget would be exceeded. A listing larger than a quarter of the budget
// is never kept.
type listCache struct {
	stat *statCache // generations and lifetime
	max  int64      // bytes at most: held, in use, being captured
	used atomic.Int64
	hits atomic.Uint64

	mu      sync.Mutex
	entries map[listKey]listEntry
}

// listKey is what a listing's bytes depend on.
type listKey struct {
	root   *os.Root
	dir    string
	kind   protocol.XferKind
	all    bool
	glob   protocol.Glob
	prefix string
	perms  protocol.Perm  // MLSD's perm fact
	facts  protocol.Facts // MLSD's facts shown
}

// listEntry is a kept listing; its bytes may still be on their way to
// clients after it is dropped.
type listEntry struct {
	buf *listBuf
	gen uint64
	at  time.Time
}

// listBuf is the bytes of a kept listing, shared by the sends that use
// them. Its cost stays counted in the budget until it is dropped and the
// last send is done with it, so the budget bounds the memory the listings
// take, however slowly their clients read.
type listBuf struct {
	b    []byte
	cost int64 // cap(b) and the key's entryCost
	refs int   // sends using it; under listCache.mu
	gone bool  // dropped from the cache; under listCache.mu
}

// newListCache returns a cache of at most max bytes living by stat's
// generations and lifetime; nil (no cache) when either is off.
func newListCache(stat *statCache, max int) *listCache {
	if stat == nil || max <= 0 {
		return nil
	}
	return &listCache{stat: stat, max: int64(max), entries: make(map[listKey]listEntry)}
}

// get returns a listing for k that is of the current generation and
// younger than the lifetime at now. Its bytes (buf.b) are not to be
// modified, and the caller hands buf back with release once sent.
func (c *listCache) get(k listKey, now time.Time) (*listBuf, bool) {
	if c == nil {
		return nil, false
	}
	gen := c.stat.gen.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || !c.stat.fresh(e.gen, gen, e.at, now) {
		return nil, false
	}
	e.buf.refs++
	c.hits.Add(1)
	return e.buf, true
}

// release hands back a listing that get returned.
func (c *listCache) release(buf *listBuf) {
	c.mu.Lock()
	defer c.mu.Unlock()
	buf.refs--
	if buf.gone && buf.refs == 0 {
		c.used.Add(-buf.cost)
	}
}

// hitCount is how many listings were sent from the cache.
func (c *listCache) hitCount() uint64 {
	if c == nil {
		return 0
	}
	return c.hits.Load()
}

// usedBytes is what the cache holds now, as its budget counts it.
func (c *listCache) usedBytes() int64 {
	if c == nil {
		return 0
	}
	return c.used.Load()
}

// limit is the budget; 0 when the cache is off.
func (c *listCache) limit() int64 {
	if c == nil {
		return 0
	}
	return c.max
}

// capture starts capturing a listing for k, whose reading of the folder
// began at generation gen, at time started; nil when the cache is off.
func (c *listCache) capture(k listKey, gen uint64, started time.Time) *listCapture {
	if c == nil {
		return nil
	}
	return &listCapture{c: c, key: k, gen: gen, started: started}
}

// reserve takes n bytes of the budget; when they are not free it first
// drops the entries that can no longer be used, then, if that is not
// enough, every entry (what sends still use stays counted until they end).
func (c *listCache) reserve(n int64) bool {
	if c.used.Add(n) <= c.max {
		return true
	}
	c.used.Add(-n)
	c.mu.Lock()
	gen, now := c.stat.gen.Load(), time.Now()
	for k, e := range c.entries {
		if !c.stat.fresh(e.gen, gen, e.at, now) {
			c.drop(k, e)
		}
	}
	if c.used.Load()+n > c.max {
		for k, e := range c.entries {
			c.drop(k, e)
		}
	}
	c.mu.Unlock()
	if c.used.Add(n) <= c.max {
		return true
	}
	c.used.Add(-n)
	return false
}

// drop removes k's entry e; its bytes leave the budget once no send uses
// them. c.mu is held.
func (c *listCache) drop(k listKey, e listEntry) {
	delete(c.entries, k)
	e.buf.gone = true
	if e.buf.refs == 0 {
		c.used.Add(-e.buf.cost)
	}
}

// entryCost is what an entry takes beside its bytes: its key's strings
// and the map's share. An empty listing (a pattern that matches nothing)
// is kept too, so this is what bounds their number.
func entryCost(k listKey) int64 {
	return int64(len(k.dir)+len(k.prefix)+len(k.glob.Pattern())) + 256
}

// listCapture collects the bytes of one listing as they are sent.
type listCapture struct {
	c       *listCache
	key     listKey
	gen     uint64
	started time.Time // the folder's reading began: the entry's age counts from it
	b       []byte
	held    int64 // bytes of the budget reserved for b
	off     bool  // given up
}

// add appends p, the listing's next bytes; past the budget the capture
// is given up and its bytes freed.
func (lc *listCapture) add(p []byte) {
	if lc == nil || lc.off || len(p) == 0 {
		return
	}
	if need := int64(len(lc.b) + len(p)); need > int64(cap(lc.b)) {
		most := lc.c.max / 4
		grow := min(max(need, 2*int64(cap(lc.b)), 4<<10), most)
		if need > most || !lc.c.reserve(grow-lc.held) {
			lc.abandon()
			return
		}
		nb := make([]byte, len(lc.b), grow)
		copy(nb, lc.b)
		lc.b, lc.held = nb, grow
	}
	lc.b = append(lc.b, p...)
}

// abandon gives the capture up.
func (lc *listCapture) abandon() {
	if lc == nil || lc.off {
		return
	}
	lc.off = true
	lc.c.used.Add(-lc.held)
	lc.b, lc.held = nil, 0
}

// keep stores the complete listing, if nothing changed since it began;
// else it is given up. An empty listing is kept too. Its age counts from
// when the folder's reading began, however long the client took to take
// it, so a change beside rftpd shows within the lifetime of that.
func (lc *listCapture) keep() {
	if lc == nil || lc.off {
		return
	}
	c := lc.c
	if lc.gen != c.stat.gen.Load() || !c.reserve(entryCost(lc.key)) {
		lc.abandon()
		return
	}
	// What is reserved is the buffer's capacity and the key's cost, which
	// the entry keeps.
	e := listEntry{buf: &listBuf{b: lc.b, cost: lc.held + entryCost(lc.key)}, gen: lc.gen, at: lc.started}
	c.mu.Lock()
	if old, ok := c.entries[lc.key]; ok {
		c.drop(lc.key, old)
	}
	c.entries[lc.key] = e
	c.mu.Unlock()
	lc.off, lc.b, lc.held = true, nil, 0 // the entry holds the reservations now
}
