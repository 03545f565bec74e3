// Tests of the stat cache: repeats answered on the loop, never stale for changes made through the server.
package dtp

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

func statReq(p string) protocol.ReqFile { return protocol.ReqFile{Op: protocol.OpStat, Path: p} }

// TestStatNowAnswersRepeats: a stat a worker made answers the same
// question on the loop, named as asked; another path, a SIZE in TYPE A
// and a session that is not logged in still go to a worker.
func TestStatNowAnswersRepeats(t *testing.T) {
	e := newEnv(t, nil)
	e.write("d/f.bin", make([]byte, 1234))
	if _, ok := e.srv.StatNow(e.sess, statReq("/d/f.bin")); ok {
		t.Fatal("answered before any worker stated the file")
	}
	if ev := e.op(statReq("/d/f.bin")); ev.Err != nil || ev.Info.Size != 1234 {
		t.Fatalf("stat: %#v", ev)
	}
	ev, ok := e.srv.StatNow(e.sess, statReq("/d/./f.bin"))
	if !ok || ev.Err != nil || ev.Op != protocol.OpStat || ev.Info.Size != 1234 || ev.Info.Name != "f.bin" || !ev.Info.Mode.IsRegular() {
		t.Fatalf("repeat: %v %#v", ok, ev)
	}
	if n := e.srv.Stats().StatCacheHits; n != 1 {
		t.Fatalf("%d hits counted, want 1", n)
	}
	ascii := statReq("/d/f.bin")
	ascii.ASCII = true
	for _, r := range []protocol.Request{statReq("/d/other"), ascii, protocol.ReqFile{Op: protocol.OpDelete, Path: "/d/f.bin"}, protocol.ReqPassive{}} {
		if _, ok := e.srv.StatNow(e.sess, r); ok {
			t.Errorf("%#v answered from the cache", r)
		}
	}
	stranger := e.srv.NewSession(protocol.ConnInfo{Local: ctlLocal, Remote: ctlRemote})
	defer e.srv.CloseSession(stranger)
	if _, ok := e.srv.StatNow(stranger, statReq("/d/f.bin")); ok {
		t.Fatal("a session that is not logged in was answered")
	}
	// A failed stat is not kept.
	e.op(statReq("/missing"))
	if _, ok := e.srv.StatNow(e.sess, statReq("/missing")); ok {
		t.Fatal("a missing file's error came from the cache")
	}
}

// TestStatNowSeesChanges: every change made through the server, and each
// upload from its start, makes the cached stats unusable at once.
func TestStatNowSeesChanges(t *testing.T) {
	e := newEnv(t, nil)
	cached := func(p string) bool {
		e.t.Helper()
		if ev := e.op(statReq(p)); ev.Err != nil {
			e.t.Fatalf("stat %s: %v", p, ev.Err)
		}
		_, ok := e.srv.StatNow(e.sess, statReq(p))
		return ok
	}
	e.write("a", []byte("one"))
	e.write("o", []byte("other"))
	// Any change, to any file, makes every cached stat unusable.
	changes := []protocol.ReqFile{
		{Op: protocol.OpMkdir, Path: "/new"},
		{Op: protocol.OpRmdir, Path: "/new"},
		{Op: protocol.OpChmod, Path: "/o", Mode: 0o600},
		{Op: protocol.OpSetTime, Path: "/o", Time: time.Unix(1e9, 0)},
		{Op: protocol.OpRename, Path: "/o", Path2: "/p"},
		{Op: protocol.OpRename, Path: "/p", Path2: "/o"},
		{Op: protocol.OpSetTime, Path: "/a", Time: time.Unix(2e9, 0)},
	}
	for _, c := range changes {
		if !cached("/a") {
			t.Fatal("a repeat stat was not answered from the cache")
		}
		if ev := e.op(c); ev.Err != nil {
			t.Fatalf("%v: %v", c.Op, ev.Err)
		}
		if _, ok := e.srv.StatNow(e.sess, statReq("/a")); ok {
			t.Fatalf("after %v the cache still answered", c.Op)
		}
	}
	if !cached("/a") {
		t.Fatal("not cached")
	}
	if _, done := e.upload(protocol.ReqTransfer{Kind: protocol.XferStor, Path: "/a"}, []byte("longer contents")); done.Err != nil {
		t.Fatal(done.Err)
	}
	if _, ok := e.srv.StatNow(e.sess, statReq("/a")); ok {
		t.Fatal("after an upload the cache still answered")
	}
	if ev := e.op(statReq("/a")); ev.Info.Size != int64(len("longer contents")) {
		t.Fatalf("size after the upload: %d", ev.Info.Size)
	}
	if !cached("/a") {
		t.Fatal("not cached")
	}
	if ev := e.op(protocol.ReqFile{Op: protocol.OpDelete, Path: "/a"}); ev.Err != nil {
		t.Fatal(ev.Err)
	}
	if _, ok := e.srv.StatNow(e.sess, statReq("/a")); ok {
		t.Fatal("a deleted file's stat came from the cache")
	}
}

// TestStatCacheRules: an entry lives for the ttl; a stat that started
// before a change is not kept; a full cache empties; 0 turns it off; a
// storage hook (it must see every operation) turns it off.
func TestStatCacheRules(t *testing.T) {
	root, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	c := newStatCache(time.Second)
	t0 := time.Unix(1000, 0)
	info := protocol.FileInfo{Name: "x", Size: 7}
	c.put(root, "x", info, c.generation(), t0)
	if got, ok := c.get(root, "x", t0.Add(time.Second-time.Nanosecond)); !ok || got.Size != 7 {
		t.Fatalf("within the ttl: %v %#v", ok, got)
	}
	for _, at := range []time.Time{t0.Add(time.Second), t0.Add(-time.Nanosecond)} {
		if _, ok := c.get(root, "x", at); ok {
			t.Fatalf("answered at %v for an entry of %v", at, t0)
		}
	}
	if _, ok := c.get(root, "y", t0); ok {
		t.Fatal("answered another path")
	}
	gen := c.generation()
	c.changed()
	c.put(root, "late", info, gen, t0) // started before the change
	if _, ok := c.get(root, "late", t0); ok {
		t.Fatal("kept a stat that started before a change")
	}
	if _, ok := c.get(root, "x", t0); ok {
		t.Fatal("answered from before a change")
	}
	for i := range statCacheMax + 10 {
		c.put(root, fmt.Sprint(i), info, c.generation(), t0)
	}
	if n := c.size(); n > statCacheMax || n == 0 {
		t.Fatalf("%d entries, at most %d", n, statCacheMax)
	}
	if newStatCache(0) != nil {
		t.Fatal("a ttl of 0 made a cache")
	}
	var nilCache *statCache // off: every method is a no-op
	nilCache.changed()
	nilCache.put(root, "x", info, 0, t0)
	if _, ok := nilCache.get(root, "x", t0); ok || nilCache.size() != 0 {
		t.Fatal("a nil cache answered")
	}
	cfg := DefaultConfig()
	cfg.OpHook = func(string) error { return nil }
	e := newEnv(t, &cfg)
	e.write("f", []byte("z"))
	e.op(statReq("/f"))
	if _, ok := e.srv.StatNow(e.sess, statReq("/f")); ok {
		t.Fatal("answered from the cache with a storage hook set")
	}
}

// size reports the entries held.
func (c *statCache) size() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
