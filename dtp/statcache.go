// The stat cache: SIZE, MDTM and MLST of a file stated moments ago, answered on the loop.
package dtp

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// A fleet that polls one file (MDTM or SIZE of the latest firmware, every
// few seconds from thousands of devices) asks the same stat over and over.
// Each answer from a worker costs a hand-off to another thread and back
// and three system calls (openat2, fstat, close), several times what the
// loop spends on the command itself. The stat cache keeps what a worker
// found for a short while (Config.StatCache), and the loop answers a
// repeat from it (StatNow) with no system call and no hand-off.
//
// It is never stale for changes made through this server: every change
// (MKD, RMD, DELE, RNTO, SITE CHMOD, MFMT, and each upload when it starts
// and when it ends) moves the cache's generation on, and an entry of an
// older generation is not used. A stat that ran while a change was under
// way carries the generation of its start, so it is not used either. (An
// upload's file grows between its two changes: a SIZE of it may lag by up
// to Config.StatCache until the upload ends.)
// Changes made beside rftpd (another process writing the tree) show once
// an entry is older than Config.StatCache.
//
// It holds at most statCacheMax entries; when full it is emptied and fills
// again with what is asked.
type statCache struct {
	ttl time.Duration
	gen atomic.Uint64 // moved on by every change

	mu      sync.Mutex
	entries map[statKey]statEntry
}

const statCacheMax = 1024

type statKey struct {
	root *os.Root
	rel  string
}

type statEntry struct {
	info protocol.FileInfo
	gen  uint64
	at   time.Time
}

// newStatCache returns a cache keeping entries for ttl; nil (no cache)
// when ttl is not positive.
func newStatCache(ttl time.Duration) *statCache {
	if ttl <= 0 {
		return nil
	}
	return &statCache{ttl: ttl, entries: make(map[statKey]statEntry)}
}

// changed moves the generation on: every entry is out of date. A nil
// cache ignores it.
func (c *statCache) changed() {
	if c != nil {
		c.gen.Add(1)
	}
}

// generation is what a stat starting now records with its result.
func (c *statCache) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.gen.Load()
}

// put records info for rel under root, found by a stat that started at
// generation gen, at now.
func (c *statCache) put(root *os.Root, rel string, info protocol.FileInfo, gen uint64, now time.Time) {
	if c == nil || gen != c.gen.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= statCacheMax {
		clear(c.entries)
	}
	c.entries[statKey{root, rel}] = statEntry{info: info, gen: gen, at: now}
}

// get returns what a stat of rel under root found, if it is of the
// current generation and younger than the cache's ttl at now.
func (c *statCache) get(root *os.Root, rel string, now time.Time) (protocol.FileInfo, bool) {
	if c == nil {
		return protocol.FileInfo{}, false
	}
	gen := c.gen.Load()
	c.mu.Lock()
	e, ok := c.entries[statKey{root, rel}]
	c.mu.Unlock()
	if !ok || !c.fresh(e.gen, gen, e.at, now) {
		return protocol.FileInfo{}, false
	}
	return e.info, true
}

// fresh reports whether an answer found at time at, in generation was,
// may still be given at now, in generation gen: the stat cache's rule,
// which the listing cache follows too.
func (c *statCache) fresh(was, gen uint64, at, now time.Time) bool {
	return was == gen && now.Sub(at) < c.ttl && !now.Before(at)
}

// cacheable reports whether r's answer may come from the stat cache: a
// plain stat (in TYPE A, SIZE reads the file to count its bytes).
func cacheable(r protocol.ReqFile) bool {
	return r.Op == protocol.OpStat && !r.ASCII
}

// StatNow is the fast path of a ReqFile for the event loop: a stat that
// the cache can answer is answered here, with no system call and no trip
// through a worker. Otherwise it reports false, and the request goes to Do.
func (s *Server) StatNow(sess *Session, req protocol.Request) (protocol.EvFile, bool) {
	r, ok := req.(protocol.ReqFile)
	if !ok || s.statc == nil || !cacheable(r) {
		return protocol.EvFile{}, false
	}
	id := sess.identity()
	if id == nil || id.root == nil {
		return protocol.EvFile{}, false
	}
	rel := relPath(r.Path)
	if checkRel(rel) != nil {
		return protocol.EvFile{}, false
	}
	info, ok := s.statc.get(id.root, rel, time.Now())
	if !ok {
		return protocol.EvFile{}, false
	}
	s.statHits.Add(1)
	info.Name = baseName(r.Path)
	return protocol.EvFile{Op: r.Op, Info: info}, true
}
