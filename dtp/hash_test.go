// Tests of hashing: the sums against Go's own, ranges, errors, cancellation, the pool's bound and the rate caps.
package dtp

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// uncapped is a config without rate caps, for the tests of the sums.
func uncapped() *Config {
	c := DefaultConfig()
	c.HashRate, c.HashRatePerSession = 0, 0
	return &c
}

// refSum is the checksum Go's packages give for data.
func refSum(algo protocol.HashAlgo, data []byte) []byte {
	switch algo {
	case protocol.HashSHA256:
		s := sha256.Sum256(data)
		return s[:]
	case protocol.HashSHA512:
		s := sha512.Sum512(data)
		return s[:]
	case protocol.HashSHA1:
		s := sha1.Sum(data)
		return s[:]
	case protocol.HashMD5:
		s := md5.Sum(data)
		return s[:]
	case protocol.HashCRC32:
		return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
	}
	panic("unknown algorithm")
}

var allAlgos = []protocol.HashAlgo{protocol.HashSHA256, protocol.HashSHA512, protocol.HashSHA1, protocol.HashMD5, protocol.HashCRC32}

// hashOf asks for a hash and waits for its answer.
func (e *env) hashOf(r protocol.ReqHash) protocol.EvHash {
	e.t.Helper()
	e.do(r)
	return expect[protocol.EvHash](e.t, e.ev)
}

// TestHashMatrix compares every algorithm with Go's packages on files of
// 0 B, 1 B, 4 KiB and a size that spans several read chunks, over the
// whole file and over ranges.
func TestHashMatrix(t *testing.T) {
	e := newEnv(t, uncapped())
	sizes := []int{0, 1, 4 << 10, 3*hashChunk + 7}
	for _, size := range sizes {
		data := make([]byte, size)
		rand.Read(data)
		name := fmt.Sprintf("f%d", size)
		e.write(name, data)
		type rng struct{ start, end int64 } // end -1: to the end
		ranges := []rng{{0, -1}, {0, int64(size)}, {0, 0}}
		if size > 0 {
			ranges = append(ranges, rng{int64(size) - 1, -1}, rng{int64(size), -1}, rng{0, 1})
		}
		if size > 2 {
			ranges = append(ranges, rng{1, int64(size) - 1}, rng{int64(size) / 3, int64(size) / 2})
		}
		for _, algo := range allAlgos {
			for _, r := range ranges {
				ev := e.hashOf(protocol.ReqHash{Path: "/" + name, Algo: algo, Start: r.start, End: r.end})
				end := r.end
				if end < 0 {
					end = int64(size)
				}
				if ev.Err != nil {
					t.Fatalf("%s algo %d [%d,%d): %v", name, algo, r.start, r.end, ev.Err)
				}
				if want := refSum(algo, data[r.start:end]); !bytes.Equal(ev.Sum, want) {
					t.Fatalf("%s algo %d [%d,%d): sum %x, want %x", name, algo, r.start, r.end, ev.Sum, want)
				}
				if ev.Start != r.start || ev.End != end {
					t.Fatalf("%s algo %d [%d,%d): range [%d,%d)", name, algo, r.start, r.end, ev.Start, ev.End)
				}
			}
		}
	}
}

// TestHashRanges checks the clamp of RANG's ranges and the refusals.
func TestHashRanges(t *testing.T) {
	e := newEnv(t, uncapped())
	data := []byte("0123456789")
	e.write("ten", data)
	e.write("d/x", nil)

	ev := e.hashOf(protocol.ReqHash{Path: "/ten", Algo: protocol.HashMD5, Start: 4, End: 1000, Clamp: true})
	if ev.Err != nil || ev.Start != 4 || ev.End != 10 || !bytes.Equal(ev.Sum, refSum(protocol.HashMD5, data[4:])) {
		t.Fatalf("clamped: %+v", ev)
	}
	for _, c := range []struct {
		r    protocol.ReqHash
		want error
	}{
		{protocol.ReqHash{Path: "/ten", Algo: protocol.HashMD5, Start: 4, End: 11}, protocol.ErrBadOffset},
		{protocol.ReqHash{Path: "/ten", Algo: protocol.HashMD5, Start: 11, End: -1}, protocol.ErrBadOffset},
		{protocol.ReqHash{Path: "/ten", Algo: protocol.HashMD5, Start: 11, End: 20, Clamp: true}, protocol.ErrBadOffset},
		{protocol.ReqHash{Path: "/nope", Algo: protocol.HashMD5, End: -1}, fs.ErrNotExist},
		{protocol.ReqHash{Path: "/d", Algo: protocol.HashMD5, End: -1}, protocol.ErrIsDir},
		{protocol.ReqHash{Path: "/", Algo: protocol.HashMD5, End: -1}, protocol.ErrIsDir},
		{protocol.ReqHash{Path: "/ten", Algo: 0, End: -1}, nil},
	} {
		ev := e.hashOf(c.r)
		if c.want == nil {
			if ev.Err == nil {
				t.Errorf("%+v: no error", c.r)
			}
			continue
		}
		if !errors.Is(ev.Err, c.want) {
			t.Errorf("%+v: %v, want %v", c.r, ev.Err, c.want)
		}
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(e.dir, "out")); err != nil {
		t.Fatal(err)
	}
	if ev := e.hashOf(protocol.ReqHash{Path: "/out", Algo: protocol.HashMD5, End: -1}); ev.Err == nil {
		t.Fatalf("a symlink out of the root was hashed: %+v", ev)
	}
}

// TestHashNeedsLogin: a session without identity gets a permission error.
func TestHashNeedsLogin(t *testing.T) {
	e := newEnv(t, uncapped())
	e.write("f", []byte("x"))
	e.do(protocol.ReqLogout{})
	if ev := e.hashOf(protocol.ReqHash{Path: "/f", Algo: protocol.HashMD5, End: -1}); !errors.Is(ev.Err, protocol.ErrPermission) {
		t.Fatalf("after logout: %+v", ev)
	}
}

// sparse makes a file of size bytes that takes no disk space.
func (e *env) sparse(name string, size int64) {
	e.t.Helper()
	e.write(name, nil)
	if err := os.Truncate(filepath.Join(e.dir, name), size); err != nil {
		e.t.Fatal(err)
	}
}

// otherSession logs a second session in from remote.
func (e *env) otherSession(remote string) (*Session, *collector) {
	e.t.Helper()
	sess := e.srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: netip.MustParseAddrPort(remote)})
	c := newCollector()
	e.t.Cleanup(func() { e.srv.CloseSession(sess) })
	e.srv.Do(sess, protocol.ReqLogin{User: "u", Pass: "secret"}, c.post)
	if ev := expect[protocol.EvLogin](e.t, c); !ev.OK {
		e.t.Fatalf("login: %#v", ev)
	}
	return sess, c
}

// TestHashAbort: ReqAbort stops a hash that waits for tokens, promptly,
// and so do REIN and the session's end.
func TestHashAbort(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HashRatePerSession = 1 << 20 // a 1 GiB file would take 17 minutes
	e := newEnv(t, &cfg)
	e.sparse("big", 1<<30)
	for _, stop := range []protocol.Request{protocol.ReqAbort{}, protocol.ReqLogout{}} {
		e.do(protocol.ReqHash{Path: "/big", Algo: protocol.HashSHA256, End: -1})
		e.ev.none(t, 300*time.Millisecond)
		t0 := time.Now()
		e.do(stop)
		ev := expect[protocol.EvHash](t, e.ev)
		took := time.Since(t0)
		if !errors.Is(ev.Err, protocol.ErrAborted) {
			t.Fatalf("%T: %+v", stop, ev)
		}
		if took > 2*time.Second {
			t.Fatalf("%T took %v to stop the hash", stop, took)
		}
		t.Logf("%T stopped the hash after %d bytes in %v", stop, ev.End, took)
		e.ev.none(t, 50*time.Millisecond) // answered once
		if stop == (protocol.ReqLogout{}) {
			break
		}
	}
}

// TestHashCloseSession: the session's end stops its hash.
func TestHashCloseSession(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HashRatePerSession = 1 << 20
	e := newEnv(t, &cfg)
	e.sparse("big", 1<<30)
	sess, c := e.otherSession("127.0.0.2:40000")
	e.srv.Do(sess, protocol.ReqHash{Path: "/big", Algo: protocol.HashMD5, End: -1}, c.post)
	c.none(t, 100*time.Millisecond)
	e.srv.CloseSession(sess)
	if ev := expect[protocol.EvHash](t, c); !errors.Is(ev.Err, protocol.ErrAborted) {
		t.Fatalf("%+v", ev)
	}
	// A hash asked for after the end is refused at once.
	e.srv.Do(sess, protocol.ReqHash{Path: "/big", Algo: protocol.HashMD5, End: -1}, c.post)
	if ev := expect[protocol.EvHash](t, c); !errors.Is(ev.Err, protocol.ErrAborted) {
		t.Fatalf("after close: %+v", ev)
	}
}

// TestHashPoolBound: one worker and one queue slot; a third hash is
// refused with ErrBusy, and an abort answers a queued hash at once while
// the worker is still busy with another session's.
func TestHashPoolBound(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HashWorkers, cfg.HashQueue = 1, 1
	cfg.HashRatePerSession = 1 << 20
	e := newEnv(t, &cfg)
	e.sparse("big", 1<<30)
	big := protocol.ReqHash{Path: "/big", Algo: protocol.HashCRC32, End: -1}
	e.do(big) // runs
	e.ev.none(t, 100*time.Millisecond)
	s2, c2 := e.otherSession("127.0.0.2:40000")
	e.srv.Do(s2, big, c2.post) // queued
	s3, c3 := e.otherSession("127.0.0.3:40000")
	e.srv.Do(s3, big, c3.post) // refused
	if ev := expect[protocol.EvHash](t, c3); !errors.Is(ev.Err, protocol.ErrBusy) {
		t.Fatalf("third hash: %+v", ev)
	}
	c2.none(t, 100*time.Millisecond)
	t0 := time.Now()
	e.srv.Do(s2, protocol.ReqAbort{}, c2.post)
	if ev := expect[protocol.EvHash](t, c2); !errors.Is(ev.Err, protocol.ErrAborted) || time.Since(t0) > time.Second {
		t.Fatalf("queued hash after ABOR: %+v in %v", ev, time.Since(t0))
	}
	c2.none(t, 50*time.Millisecond)
	e.do(protocol.ReqAbort{})
	if ev := expect[protocol.EvHash](t, e.ev); !errors.Is(ev.Err, protocol.ErrAborted) {
		t.Fatalf("running hash after ABOR: %+v", ev)
	}
	// The worker is free again once it has let go of both aborted hashes
	// (the queued one holds its place until the worker takes it off).
	deadline := time.Now().Add(wait)
	for st := e.srv.Stats().Hash; st.Running+st.Queued > 0; st = e.srv.Stats().Hash {
		if time.Now().After(deadline) {
			t.Fatalf("the hash pool still holds %+v after the aborts", st)
		}
		time.Sleep(time.Millisecond)
	}
	e.sparse("small", 10)
	if ev := e.hashOf(protocol.ReqHash{Path: "/small", Algo: protocol.HashCRC32, End: -1}); ev.Err != nil {
		t.Fatalf("after the aborts: %+v", ev)
	}
}

// capBound is the least time reading n bytes can take under a bucket of
// rate bytes/s that starts full (one chunk), with a margin for timer
// granularity. Only lower bounds are asserted: a busy machine is slower,
// never faster.
func capBound(n, rate int64) time.Duration {
	return time.Duration(float64(n-hashChunk) / float64(rate) * 0.9 * float64(time.Second))
}

// TestHashRatePerSession: one session's hash of N bytes under a cap of R
// bytes/s takes at least about N/R.
func TestHashRatePerSession(t *testing.T) {
	const n, rate = 12 << 20, 8 << 20
	cfg := DefaultConfig()
	cfg.HashRate, cfg.HashRatePerSession = 0, rate
	e := newEnv(t, &cfg)
	e.sparse("f", n)
	t0 := time.Now()
	ev := e.hashOf(protocol.ReqHash{Path: "/f", Algo: protocol.HashCRC32, End: -1})
	took := time.Since(t0)
	if ev.Err != nil || ev.End != n {
		t.Fatalf("%+v", ev)
	}
	if min := capBound(n, rate); took < min {
		t.Fatalf("%d bytes under %d bytes/s took %v, less than %v", n, rate, took, min)
	}
	t.Logf("%d MiB at a cap of %d MiB/s: %v (%.1f MiB/s)", n>>20, rate>>20, took, float64(n)/took.Seconds()/(1<<20))
}

// TestHashRateGlobal: two sessions' hashes share the global cap.
func TestHashRateGlobal(t *testing.T) {
	const n, rate = 6 << 20, 8 << 20
	cfg := DefaultConfig()
	cfg.HashRate, cfg.HashRatePerSession = rate, 0
	e := newEnv(t, &cfg)
	e.sparse("f", n)
	s2, c2 := e.otherSession("127.0.0.2:40000")
	r := protocol.ReqHash{Path: "/f", Algo: protocol.HashCRC32, End: -1}
	t0 := time.Now()
	e.do(r)
	e.srv.Do(s2, r, c2.post)
	for _, c := range []*collector{e.ev, c2} {
		if ev := expect[protocol.EvHash](t, c); ev.Err != nil || ev.End != n {
			t.Fatalf("%+v", ev)
		}
	}
	took := time.Since(t0)
	if min := capBound(2*n, rate); took < min {
		t.Fatalf("2×%d bytes under %d bytes/s took %v, less than %v", n, rate, took, min)
	}
	t.Logf("2×%d MiB at a global cap of %d MiB/s: %v", n>>20, rate>>20, took)
}

// TestBucket checks the token arithmetic with a fake clock.
func TestBucket(t *testing.T) {
	b := newByteBucket(1 << 20)
	now := b.last
	if d := b.reserve(hashChunk, now); d != 0 {
		t.Fatalf("a full bucket made a chunk wait %v", d)
	}
	if d := b.reserve(1<<20, now); d != time.Second {
		t.Fatalf("1 MiB more at 1 MiB/s: wait %v, want 1s", d)
	}
	b.refund(1 << 20) // back to empty
	if d := b.reserve(hashChunk, now.Add(time.Second/4)); d != 0 {
		t.Fatalf("a chunk after a quarter second: wait %v, want 0", d)
	}
	if d := b.reserve(hashChunk, now.Add(time.Second/4)); d != time.Second/4 {
		t.Fatalf("another chunk at once: wait %v, want 250ms", d)
	}
	// Saved-up tokens never exceed one chunk.
	if d := b.reserve(2*hashChunk, now.Add(time.Hour)); d <= 0 {
		t.Fatalf("an idle hour let 2 chunks through at once")
	}
}

// TestHashRatesReload: SetHashRates puts a new per-session cap in force
// for the next hash of a session that already hashed under the old one.
func TestHashRatesReload(t *testing.T) {
	const n = 12 << 20
	cfg := DefaultConfig()
	cfg.HashRate, cfg.HashRatePerSession = 0, 0
	e := newEnv(t, &cfg)
	e.sparse("f", n)
	if ev := e.hashOf(protocol.ReqHash{Path: "/f", Algo: protocol.HashCRC32, End: -1}); ev.Err != nil {
		t.Fatalf("%+v", ev)
	}
	const rate = 8 << 20
	e.srv.SetHashRates(0, rate)
	t0 := time.Now()
	ev := e.hashOf(protocol.ReqHash{Path: "/f", Algo: protocol.HashCRC32, End: -1})
	took := time.Since(t0)
	if ev.Err != nil || ev.End != n {
		t.Fatalf("%+v", ev)
	}
	if min := capBound(n, rate); took < min {
		t.Fatalf("after SetHashRates: %d bytes under %d bytes/s took %v, less than %v", n, rate, took, min)
	}
}
