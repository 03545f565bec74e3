// Checksums of stored files (HASH and its X forms) on a pool of their own, at a capped rate.
package dtp

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// Hashing reads whole files, up to terabytes, for a one-line answer. It
// gets its own pool (Config.HashWorkers, Config.HashQueue) so that a
// client hashing a large tree holds at most those workers, never the
// storage workers every other command needs; and its reads are paced by
// two token buckets, one for all hashes (Config.HashRate) and one per
// session (Config.HashRatePerSession), so hashing cannot take all of the
// disk either. Waiting for tokens happens on the hashing worker, and
// ReqAbort (or the session's end) cuts both the wait and the read short.

// hashChunk is the most a hash reads at a time, and the size of the
// buffers the workers share (one per worker at most).
const hashChunk = 256 << 10

var hashBufs = sync.Pool{New: func() any { b := make([]byte, hashChunk); return &b }}

// newHash returns the hash.Hash of algo.
func newHash(algo protocol.HashAlgo) (hash.Hash, error) {
	switch algo {
	case protocol.HashSHA256:
		return sha256.New(), nil
	case protocol.HashSHA512:
		return sha512.New(), nil
	case protocol.HashSHA1:
		return sha1.New(), nil
	case protocol.HashMD5:
		return md5.New(), nil
	case protocol.HashCRC32:
		return crc32.NewIEEE(), nil
	}
	return nil, fmt.Errorf("dtp: unknown hash algorithm %d", algo)
}

// Job states: a hash is queued until a worker takes it, and a queued hash
// that is aborted is answered by the abort itself (a worker may be far
// off when every one is busy with a large file).
const (
	hashQueued int32 = iota
	hashRunning
	hashAnswered
)

// hashJob is a session's hash in flight.
type hashJob struct {
	state  atomic.Int32
	ctx    context.Context
	cancel context.CancelFunc
	post   func(protocol.Event)
}

// hashAborted is EvHash's error for a hash stopped by ReqAbort or the
// session's end.
var hashAborted = fmt.Errorf("dtp: hash: %w", protocol.ErrAborted)

// hash queues r on the hashing pool.
func (s *Server) hash(sess *Session, r protocol.ReqHash, post func(protocol.Event)) {
	ctx, cancel := context.WithCancel(context.Background())
	job := &hashJob{ctx: ctx, cancel: cancel, post: post}
	sess.mu.Lock()
	old := sess.hashing
	closed := sess.closed
	if !closed {
		sess.hashing = job
	}
	sess.mu.Unlock()
	if old != nil {
		old.stop() // the session sends one at a time; a leftover is stale
	}
	if closed {
		cancel()
		post(protocol.EvHash{Err: hashAborted})
		return
	}
	if !s.hashes.submit(sess.info.Remote.Addr(), func() { s.runHashJob(sess, job, r) }) {
		sess.dropHash(job)
		cancel()
		post(protocol.EvHash{Err: fmt.Errorf("dtp: hash: %w", protocol.ErrBusy)})
	}
}

// runHashJob runs on a hashing worker.
func (s *Server) runHashJob(sess *Session, job *hashJob, r protocol.ReqHash) {
	if !job.state.CompareAndSwap(hashQueued, hashRunning) {
		return // aborted while queued: already answered
	}
	id := sess.holdIdentity()
	ev := s.hashFile(job.ctx, sess, id, r)
	releaseIdentity(id)
	sess.dropHash(job)
	job.cancel()
	job.state.Store(hashAnswered)
	job.post(ev)
}

// stop cancels the job; a job still queued is answered at once.
func (job *hashJob) stop() {
	job.cancel()
	if job.state.CompareAndSwap(hashQueued, hashAnswered) {
		job.post(protocol.EvHash{Err: hashAborted})
	}
}

// dropHash forgets job if it is still the session's hash in flight.
func (sess *Session) dropHash(job *hashJob) {
	sess.mu.Lock()
	if sess.hashing == job {
		sess.hashing = nil
	}
	sess.mu.Unlock()
}

// stopHash cancels the session's hash in flight, if any (ReqAbort,
// ReqLogout, CloseSession).
func (sess *Session) stopHash() {
	sess.mu.Lock()
	job := sess.hashing
	sess.hashing = nil
	sess.mu.Unlock()
	if job != nil {
		job.stop()
	}
}

// hashFile computes r's checksum for id.
func (s *Server) hashFile(ctx context.Context, sess *Session, id *identity, r protocol.ReqHash) protocol.EvHash {
	ev := protocol.EvHash{Start: r.Start}
	fail := func(err error) protocol.EvHash {
		ev.Err = storageErr(err)
		if errors.Is(err, context.Canceled) {
			ev.Err = hashAborted
		}
		return ev
	}
	h, err := newHash(r.Algo)
	if err != nil {
		return fail(err)
	}
	if err := id.allow(protocol.PermRead); err != nil {
		return fail(err)
	}
	if err := s.hook("hash"); err != nil {
		return fail(err)
	}
	rel := relPath(r.Path)
	if err := checkRel(rel); err != nil {
		return fail(err)
	}
	src, err := openSource(id, rel)
	if err != nil {
		return fail(err)
	}
	defer src.close()
	switch {
	case src.mode.IsDir():
		return fail(fmt.Errorf("dtp: hash: %w", protocol.ErrIsDir))
	case !src.mode.IsRegular():
		return fail(errNotRegular)
	}
	end := r.End
	switch {
	case end < 0 || (r.Clamp && end > src.size):
		end = src.size
	case end > src.size:
		return fail(fmt.Errorf("dtp: hash: range end %d beyond the %d bytes of the file: %w", end, src.size, protocol.ErrBadOffset))
	}
	if r.Start > end || r.Start < 0 {
		return fail(fmt.Errorf("dtp: hash: range start %d beyond the %d bytes of the file: %w", r.Start, src.size, protocol.ErrBadOffset))
	}
	n, err := s.hashRange(ctx, sess, src.file(), h, r.Start, end)
	ev.End = r.Start + n
	if err != nil {
		return fail(err)
	}
	ev.Sum = h.Sum(nil)
	return ev
}

// hashRange feeds h the bytes [start, end) of f, paced by the buckets. A
// file that shrinks meanwhile ends the range early. It reports how many
// bytes h got.
func (s *Server) hashRange(ctx context.Context, sess *Session, f io.ReaderAt, h hash.Hash, start, end int64) (int64, error) {
	bp := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(bp)
	buf := *bp
	caps := s.hashCaps.Load() // a hash keeps the caps it started under
	mine := sess.hashBucket(caps.perSession)
	off := start
	for off < end {
		n := min(int64(len(buf)), end-off)
		if err := pace(ctx, n, mine, caps.global); err != nil {
			return off - start, err
		}
		m, err := f.ReadAt(buf[:n], off)
		h.Write(buf[:m])
		off += int64(m)
		s.hashed.Add(int64(m))
		if err == io.EOF {
			break
		}
		if err != nil {
			return off - start, err
		}
	}
	return off - start, nil
}

// hashBucket is the session's own bucket for rate bytes/s (nil: no cap),
// made at its first hash and kept, so that a string of small hashes is
// paced as one large one; a new rate (a reload) makes a new one.
func (sess *Session) hashBucket(rate int64) *byteBucket {
	if rate <= 0 {
		return nil
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.hashRate == nil || sess.hashRateOf != rate {
		sess.hashRate, sess.hashRateOf = newByteBucket(rate), rate
	}
	return sess.hashRate
}

// hashCaps are the caps on hashes' reads: a bucket all of them share
// (nil: no cap) and each session's rate (0: no cap).
type hashCaps struct {
	global     *byteBucket
	perSession int64
}

// SetHashRates changes Config.HashRate and HashRatePerSession for the
// hashes that start from now on; those running keep their caps.
func (s *Server) SetHashRates(global, perSession int64) {
	c := &hashCaps{perSession: perSession}
	if global > 0 {
		c.global = newByteBucket(global)
	}
	s.hashCaps.Store(c)
}

// HashedBytes reports the bytes read by hashes since the server started.
func (s *Server) HashedBytes() int64 { return s.hashed.Load() }

// pace waits until n bytes may be read under every bucket given (nil ones
// are no cap), or until ctx ends.
func pace(ctx context.Context, n int64, buckets ...*byteBucket) error {
	now := time.Now()
	var d time.Duration
	for _, b := range buckets {
		if b != nil {
			d = max(d, b.reserve(n, now))
		}
	}
	if err := ctx.Err(); err != nil {
		refund(n, buckets)
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		refund(n, buckets)
		return ctx.Err()
	}
}

// refund gives back tokens reserved for bytes that will not be read.
func refund(n int64, buckets []*byteBucket) {
	for _, b := range buckets {
		if b != nil {
			b.refund(n)
		}
	}
}

// byteBucket is a token bucket of bytes: rate tokens a second, at most burst
// saved up. reserve takes tokens even when there are too few, and says how
// long the taker must wait for the debt to be paid; takers are thus served
// in the order they came, each waiting on its own goroutine.
type byteBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens a second
	burst  float64
	tokens float64
	last   time.Time
}

// newByteBucket makes a full bucket of rate bytes/s holding one chunk, so an
// idle hasher starts at once but never runs ahead by more than a chunk.
func newByteBucket(rate int64) *byteBucket {
	return &byteBucket{rate: float64(rate), burst: hashChunk, tokens: hashChunk, last: time.Now()}
}

// reserve takes n tokens at now and returns how long to wait before
// using them.
func (b *byteBucket) reserve(n int64, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// refund returns n tokens.
func (b *byteBucket) refund(n int64) {
	b.mu.Lock()
	b.tokens = min(b.burst, b.tokens+float64(n))
	b.mu.Unlock()
}
