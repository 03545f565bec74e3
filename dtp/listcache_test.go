// Tests of the listing cache: repeats sent from memory, never stale for changes made through the server, bounded.
package dtp

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// TestListCacheRepeats: a folder listed again within the stat cache's
// lifetime is sent from memory, byte for byte the same, for LIST, NLST,
// MLSD and a pattern alike; each kind, option and pattern is a listing of
// its own.
func TestListCacheRepeats(t *testing.T) {
	e := newEnv(t, nil)
	for i := range 30 {
		e.write(fmt.Sprintf("d/f%02d.txt", i), []byte(strings.Repeat("x", i)))
	}
	e.write("d/.dot", nil)
	reqs := []protocol.ReqTransfer{
		{Kind: protocol.XferList, Path: "/d"},
		{Kind: protocol.XferList, Path: "/d", Flags: protocol.ListAll},
		{Kind: protocol.XferNlst, Path: "/d"},
		{Kind: protocol.XferMlsd, Path: "/d"},
		{Kind: protocol.XferMlsd, Path: "/d", Hide: protocol.FactSize},
		{Kind: protocol.XferNlst, Path: "/d/f1*", Glob: true},
		{Kind: protocol.XferNlst, Path: "/d/f2*", Glob: true},
	}
	first := make([][]byte, len(reqs))
	for i, r := range reqs {
		got, _, done := e.download(r)
		mustOK(t, done.Err)
		first[i] = got
	}
	for i := range reqs {
		for j := range i {
			if bytes.Equal(first[i], first[j]) {
				t.Errorf("listings %d and %d are the same: one was sent in place of the other", j, i)
			}
		}
	}
	if n := e.srv.Stats().ListCacheHits; n != 0 {
		t.Fatalf("%d hits before any repeat", n)
	}
	for i, r := range reqs {
		got, _, done := e.download(r)
		mustOK(t, done.Err)
		if !bytes.Equal(got, first[i]) {
			t.Errorf("repeat of %#v:\n%q\nwant\n%q", r, got, first[i])
		}
	}
	if n := e.srv.Stats().ListCacheHits; n != uint64(len(reqs)) {
		t.Fatalf("%d hits, want %d", n, len(reqs))
	}
	// In MODE Z the same listing, deflated each time.
	for range 2 {
		got, _, done := e.download(protocol.ReqTransfer{Kind: protocol.XferList, Path: "/d", Deflate: 6})
		mustOK(t, done.Err)
		if plain := inflate(t, got); !bytes.Equal(plain, first[0]) {
			t.Fatalf("MODE Z LIST:\n%q\nwant\n%q", plain, first[0])
		}
	}
	if n := e.srv.Stats().ListCacheHits; n != uint64(len(reqs))+2 {
		t.Fatalf("%d hits, want %d", n, len(reqs)+2)
	}
}

// TestListCacheSeesChanges: every change made through the server, and an
// upload, shows in the next listing; a change beside the server shows
// once the stat cache's lifetime has passed, and not before.
func TestListCacheSeesChanges(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StatCache = time.Hour // nothing expires during the test's first part
	e := newEnv(t, &cfg)
	e.write("a", []byte("one"))
	e.write("o", []byte("other"))
	nlst := func() []string { return e.raw(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: "/"}) }
	list := func() []string { return e.raw(protocol.ReqTransfer{Kind: protocol.XferList, Path: "/"}) }
	changes := []struct {
		r    protocol.ReqFile
		want []string
	}{
		{protocol.ReqFile{Op: protocol.OpMkdir, Path: "/new"}, []string{"a", "new", "o"}},
		{protocol.ReqFile{Op: protocol.OpRmdir, Path: "/new"}, []string{"a", "o"}},
		{protocol.ReqFile{Op: protocol.OpRename, Path: "/o", Path2: "/p"}, []string{"a", "p"}},
		{protocol.ReqFile{Op: protocol.OpRename, Path: "/p", Path2: "/o"}, []string{"a", "o"}},
		{protocol.ReqFile{Op: protocol.OpDelete, Path: "/o"}, []string{"a"}},
	}
	for _, c := range changes {
		nlst()
		hits := e.srv.Stats().ListCacheHits
		nlst()
		if e.srv.Stats().ListCacheHits != hits+1 {
			t.Fatalf("before %v: a repeat was not sent from the cache", c.r.Op)
		}
		if ev := e.op(c.r); ev.Err != nil {
			t.Fatalf("%v: %v", c.r.Op, ev.Err)
		}
		if got := nlst(); !slices.Equal(got, c.want) {
			t.Fatalf("after %v: %q, want %q", c.r.Op, got, c.want)
		}
	}
	// A mode or a time shows in LIST.
	before := list()
	list()
	if ev := e.op(protocol.ReqFile{Op: protocol.OpSetTime, Path: "/a", Time: time.Unix(1e9, 0)}); ev.Err != nil {
		t.Fatal(ev.Err)
	}
	if after := list(); slices.Equal(after, before) || !strings.Contains(after[0], "2001") {
		t.Fatalf("after MFMT: %q (before: %q)", after, before)
	}
	list()
	if _, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/a"}, []byte("longer contents")); done.Err != nil {
		t.Fatal(done.Err)
	}
	if got := list(); len(got) != 1 || !strings.Contains(got[0], fmt.Sprint(len("longer contents"))) {
		t.Fatalf("after an upload: %q", got)
	}
	// Beside the server: not seen while the listing is young.
	nlst()
	e.write("beside", nil)
	if got := nlst(); slices.Contains(got, "beside") {
		t.Fatalf("a file made beside the server showed within the lifetime: %q (the listing was not cached)", got)
	}
}

// TestListCacheLifetime: a change beside the server shows once the stat
// cache's lifetime has passed.
func TestListCacheLifetime(t *testing.T) {
	cfg := DefaultConfig()
	cfg.StatCache = 50 * time.Millisecond
	e := newEnv(t, &cfg)
	e.write("a", nil)
	nlst := func() []string { return e.raw(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: "/"}) }
	nlst()
	e.write("b", nil)
	deadline := time.Now().Add(wait)
	for !slices.Equal(nlst(), []string{"a", "b"}) {
		if time.Now().After(deadline) {
			t.Fatalf("a file made beside the server never showed: %q", nlst())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestListCacheOff: ListCache 0, StatCache 0 or a storage hook: every
// listing reads its folder.
func TestListCacheOff(t *testing.T) {
	for name, set := range map[string]func(*Config){
		"ListCache 0": func(c *Config) { c.ListCache = 0 },
		"StatCache 0": func(c *Config) { c.StatCache = 0 },
		"OpHook":      func(c *Config) { c.OpHook = func(string) error { return nil } },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			set(&cfg)
			e := newEnv(t, &cfg)
			e.write("a", nil)
			e.raw(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: "/"})
			e.write("b", nil)
			if got := e.raw(protocol.ReqTransfer{Kind: protocol.XferNlst, Path: "/"}); !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("%q: the second listing was not read from the folder", got)
			}
			if n := e.srv.Stats().ListCacheHits; n != 0 {
				t.Fatalf("%d hits", n)
			}
		})
	}
	cfg := DefaultConfig()
	cfg.ListCache = -1
	if _, err := New(cfg, nil); err == nil || !strings.Contains(err.Error(), "ListCache") {
		t.Fatalf("ListCache -1: %v", err)
	}
}

// TestListCacheRules: the budget counts what is held and what is being
// captured, frees what a given-up capture took, never keeps a listing of
// more than a quarter of it, and makes room by dropping what can no longer
// be used; a capture that began before a change is not kept; an entry
// lives for the stat cache's lifetime.
func TestListCacheRules(t *testing.T) {
	root, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	st := newStatCache(time.Second)
	c := newListCache(st, 64<<10)
	key := func(dir string) listKey { return listKey{root: root, dir: dir, kind: protocol.XferNlst} }
	t0 := time.Now()
	fill := func(dir string, n int) *listCapture {
		lc := c.capture(key(dir), st.generation(), t0)
		for range n / 1000 {
			lc.add(bytes.Repeat([]byte("x"), 1000))
		}
		return lc
	}

	lc := fill("a", 8000)
	lc.keep()
	b, ok := c.get(key("a"), t0.Add(time.Second-time.Nanosecond))
	if !ok || len(b.b) != 8000 {
		t.Fatalf("within the lifetime: %v", ok)
	}
	c.release(b)
	for _, at := range []time.Time{t0.Add(time.Second), t0.Add(-time.Nanosecond)} {
		if _, ok := c.get(key("a"), at); ok {
			t.Fatalf("sent at %v a listing of %v", at, t0)
		}
	}
	if _, ok := c.get(key("b"), t0); ok {
		t.Fatal("sent another folder's listing")
	}
	// A listing sent slowly ages from when its folder was read.
	slow := c.capture(key("slow"), st.generation(), t0.Add(-time.Second))
	slow.add([]byte("x"))
	slow.keep()
	if _, ok := c.get(key("slow"), t0); ok {
		t.Fatal("a listing read a lifetime ago was sent again")
	}
	held := c.used.Load()
	if held < 8000 || held > 16<<10 {
		t.Fatalf("%d bytes counted for a listing of 8000", held)
	}

	// Over a quarter of the budget: given up, and its bytes freed.
	big := fill("big", 17000)
	if !big.off || c.used.Load() != held {
		t.Fatalf("a capture past a quarter of the budget: off %v, %d bytes counted (was %d)", big.off, c.used.Load(), held)
	}
	big.keep()
	if _, ok := c.get(key("big"), t0); ok {
		t.Fatal("kept a listing past a quarter of the budget")
	}

	// Begun before a change: not kept, and its bytes freed.
	late := fill("late", 3000)
	st.changed()
	late.keep()
	if _, ok := c.get(key("late"), t0); ok {
		t.Fatal("kept a listing begun before a change")
	}
	if _, ok := c.get(key("a"), t0); ok {
		t.Fatal("sent a listing from before a change")
	}
	if c.used.Load() != held {
		t.Fatalf("%d bytes counted, want %d (the stale entry's alone)", c.used.Load(), held)
	}

	// Full: the stale entry makes room, then whole entries do; the count
	// never passes the budget.
	for i := range 20 {
		lc := fill(fmt.Sprint("d", i), 12000)
		if c.used.Load() > c.max {
			t.Fatalf("%d bytes counted, over the budget of %d", c.used.Load(), c.max)
		}
		lc.keep()
	}
	last, ok := c.get(key("d19"), t0)
	if !ok {
		t.Fatal("the last listing was not kept")
	}
	if c.used.Load() > c.max {
		t.Fatalf("%d bytes counted, over the budget of %d", c.used.Load(), c.max)
	}

	// A listing still being sent stays counted once dropped, until its
	// send is done: slow clients cannot make the cache hold more than its
	// budget.
	before := c.used.Load()
	st.changed()
	c.reserve(c.max) // drops every entry; fails, as d19's bytes are in use
	if got := c.used.Load(); got != last.cost {
		t.Fatalf("%d bytes counted with one dropped listing still being sent, want its %d (was %d)", got, last.cost, before)
	}
	c.release(last)
	if got := c.used.Load(); got != 0 {
		t.Fatalf("%d bytes counted once its send was done, want 0", got)
	}

	// Captures given up free all they took.
	c2 := newListCache(newStatCache(time.Second), 64<<10)
	for i := range 5 {
		lc := c2.capture(key(fmt.Sprint(i)), 0, t0)
		lc.add(make([]byte, 5000))
		lc.abandon()
		lc.abandon() // twice is once
	}
	if n := c2.used.Load(); n != 0 {
		t.Fatalf("%d bytes counted after every capture was given up", n)
	}

	// Empty listings (a pattern that matches nothing) cost their key: no
	// number of distinct patterns holds more than the budget.
	c3 := newListCache(newStatCache(time.Second), 64<<10)
	for i := range 2000 {
		g, ok := protocol.ParseGlob(fmt.Sprintf("%s%d*", strings.Repeat("p", 200), i))
		if !ok {
			t.Fatal("not a pattern")
		}
		k := key("d")
		k.glob = g
		c3.capture(k, 0, t0).keep()
	}
	if n, most := len(c3.entries), int(c3.max/entryCost(listKey{dir: "d", glob: protocol.Glob{}})); n == 0 || n > most || c3.used.Load() > c3.max {
		t.Fatalf("%d empty listings held, %d bytes counted; at most %d and %d", n, c3.used.Load(), most, c3.max)
	}

	if newListCache(nil, 1<<20) != nil || newListCache(st, 0) != nil {
		t.Fatal("a cache without a stat cache or a budget")
	}
	var off *listCache // off: every method is a no-op
	if _, ok := off.get(key("a"), t0); ok || off.hitCount() != 0 {
		t.Fatal("a nil cache answered")
	}
	nc := off.capture(key("a"), 0, t0)
	nc.add([]byte("x"))
	nc.keep()
	nc.abandon()
}
