// Tests of the pools: bounded, refusing, never blocking; events in order.
package dtp

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

func TestPoolRefusesWhenFull(t *testing.T) {
	p := newPool(2, 3)
	release := make(chan struct{})
	var ran atomic.Int32
	block := func() { <-release; ran.Add(1) }
	fill(t, p, 2, 2, block) // both workers busy
	fill(t, p, 3, 0, block) // the queue full
	start := time.Now()
	if p.submit(netip.MustParseAddr("127.2.0.1"), block) {
		t.Fatal("a full pool took a task")
	}
	if time.Since(start) > time.Second {
		t.Fatal("submit blocked")
	}
	close(release)
	p.close()
	if ran.Load() != 5 {
		t.Fatalf("%d tasks ran", ran.Load())
	}
	if p.submit(netip.Addr{}, func() {}) {
		t.Fatal("a closed pool took a task")
	}
}

// TestPoolSharesSlots: one address that queues slow tasks is refused
// before the pool is full, and another address's task still gets in.
func TestPoolSharesSlots(t *testing.T) {
	p := newPool(4, 60) // 64 slots, 16 in reserve
	release := make(chan struct{})
	block := func() { <-release }
	hog := netip.MustParseAddr("127.0.0.2")
	n := 0
	for p.submit(hog, block) {
		n++
	}
	if n != 48 {
		t.Fatalf("one address queued %d tasks of 64, want 48", n)
	}
	if !p.submit(netip.MustParseAddr("127.0.0.3"), block) {
		t.Fatal("a second address was refused")
	}
	close(release)
	p.close()
	if p.slots.Used() != 0 {
		t.Fatalf("%d slots still held after every task ran", p.slots.Used())
	}
}

// TestPoolServesAddressesInTurn: tasks wait in one queue per address and
// are served in turn, so one address that queued many cannot delay
// another's by more than one of its own; within an address, in order.
func TestPoolServesAddressesInTurn(t *testing.T) {
	p := newPool(1, 100)
	release := make(chan struct{})
	fill(t, p, 1, 1, func() { <-release }) // the only worker busy
	var mu sync.Mutex
	var order []string
	task := func(name string) func() {
		return func() { mu.Lock(); order = append(order, name); mu.Unlock() }
	}
	hog, other, third := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("::1")
	for i := range 20 {
		if !p.submit(hog, task(fmt.Sprintf("h%d", i))) {
			t.Fatalf("hog's task %d refused", i)
		}
	}
	if !p.submit(other, task("o0")) || !p.submit(third, task("t0")) || !p.submit(other, task("o1")) {
		t.Fatal("a task was refused")
	}
	if n := p.waiting(); n != 23 {
		t.Fatalf("%d tasks waiting, want 23", n)
	}
	close(release)
	p.close()
	want := []string{"h0", "o0", "t0", "h1", "o1", "h2"}
	if len(order) != 23 || !slices.Equal(order[:len(want)], want) {
		t.Fatalf("served %v, want it to start %v", order, want)
	}
	for i, name := range order[len(want):] {
		if name != fmt.Sprintf("h%d", i+3) {
			t.Fatalf("served %v: the hog's tasks out of order", order)
		}
	}
	if p.slots.Used() != 0 || len(p.queues) != 0 || p.ring.len() != 0 || p.waiting() != 0 {
		t.Fatalf("after the last task: %d slots held, %d queues, %d in the ring", p.slots.Used(), len(p.queues), p.ring.len())
	}
}

// TestFifo: order kept through interleaved pushes and pops, and the
// backing array stays near the most the queue ever held.
func TestFifo(t *testing.T) {
	var q fifo[int]
	next, want := 0, 0
	for round := range 1000 {
		for range round%7 + 1 {
			q.push(next)
			next++
		}
		for range round%5 + 1 {
			if q.len() == 0 {
				break
			}
			if v := q.pop(); v != want {
				t.Fatalf("popped %d, want %d", v, want)
			}
			want++
		}
	}
	if q.len() != next-want {
		t.Fatalf("len %d, want %d", q.len(), next-want)
	}
	if live := q.len(); cap(q.items) > 4*live+16 {
		t.Fatalf("backing array of %d for %d live items", cap(q.items), live)
	}
	for q.len() > 0 {
		if v := q.pop(); v != want {
			t.Fatalf("popped %d, want %d", v, want)
		}
		want++
	}
	q.push(1)
	q.reset()
	if q.len() != 0 {
		t.Fatal("reset left items")
	}
}

// fillFrom numbers the addresses fill submits from.
var fillFrom int

// fill submits n tasks and waits until started of them have started on a
// worker: the workers then hold them, and the rest wait in the queue.
func fill(t *testing.T, p *pool, n, started int, f func()) {
	t.Helper()
	begun := make(chan struct{}, n)
	for i := range n {
		// Each task from an address of its own: this is about the
		// pool's size, not its shares.
		fillFrom++
		if !p.submit(netip.AddrFrom4([4]byte{127, 1, byte(fillFrom >> 8), byte(fillFrom)}), func() { begun <- struct{}{}; f() }) {
			t.Fatalf("task %d refused", i)
		}
	}
	for range started {
		select {
		case <-begun:
		case <-time.After(wait):
			t.Fatalf("a worker did not take its task within %v", wait)
		}
	}
}

func TestStoragePoolBusy(t *testing.T) {
	release := make(chan struct{})
	cfg := DefaultConfig()
	cfg.FSWorkers, cfg.FSQueue = 1, 1
	cfg.OpHook = func(string) error { <-release; return nil }
	e := newEnv(t, &cfg)
	e.do(protocol.ReqFile{Op: protocol.OpStat, Path: "/"}) // runs, blocked in the hook
	deadline := time.Now().Add(wait)
	for e.srv.fs.waiting() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	e.do(protocol.ReqFile{Op: protocol.OpStat, Path: "/"}) // queued
	start := time.Now()
	e.do(protocol.ReqFile{Op: protocol.OpMkdir, Path: "/x"})
	e.do(protocol.ReqStatList{Path: "/"})
	e.do(protocol.ReqPassive{})
	if time.Since(start) > time.Second {
		t.Fatal("Do blocked")
	}
	// Refusals are answered at once, with the right event types.
	if ev := expect[protocol.EvFile](t, e.ev); ev.Op != protocol.OpMkdir || ev.Err != protocol.ErrBusy {
		t.Fatalf("got %#v", ev)
	}
	if ev := expect[protocol.EvStatList](t, e.ev); ev.Err != protocol.ErrBusy {
		t.Fatalf("got %#v", ev)
	}
	if ev := expect[protocol.EvPassive](t, e.ev); ev.Err != protocol.ErrBusy {
		t.Fatalf("got %#v", ev)
	}
	close(release)
	for range 2 {
		mustOK(t, expect[protocol.EvFile](t, e.ev).Err)
	}
}

func TestAuthPoolBusy(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AuthWorkers, cfg.AuthQueue = 1, 1
	e := newEnv(t, &cfg)
	// Occupy the only worker and the queue.
	release := make(chan struct{})
	fill(t, e.srv.auth, 1, 1, func() { <-release })
	fill(t, e.srv.auth, 1, 0, func() { <-release })
	e.do(protocol.ReqLogin{User: "u", Pass: "secret"})
	if ev := expect[protocol.EvLogin](t, e.ev); ev.Err != protocol.ErrBusy || ev.OK {
		t.Fatalf("got %#v", ev)
	}
	close(release)
}

// Start comes before Done for every transfer, and Done is last.
func TestEventOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.write("f", randomBytes(1<<20, 7))
	for range 20 {
		_, st, done := e.download(protocol.ReqTransfer{Kind: protocol.XferRetr, Path: "f"})
		mustOK(t, done.Err)
		if st.Size != 1<<20 {
			t.Fatal("bad start")
		}
	}
	e.ev.none(t, 10*time.Millisecond)
}

func TestConfigCheck(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.FSWorkers = 0 },
		func(c *Config) { c.AuthWorkers = 0 },
		func(c *Config) { c.FSQueue = -1 },
		func(c *Config) { c.MaxTransfers = 0 },
		func(c *Config) { c.StatListMax = 0 },
		func(c *Config) { c.PassiveLow = 1000 },
		func(c *Config) { c.PassiveLow, c.PassiveHigh = 2000, 1000 },
		func(c *Config) { c.TLS, c.TLSHandshakeTimeout = &TLS{}, 0 },
	} {
		cfg := DefaultConfig()
		mod(&cfg)
		if _, err := New(cfg, nil); err == nil {
			t.Fatalf("config %+v accepted", cfg)
		}
	}
}

// warm runs every function; one after another they share a goroutine, at
// once each gets its own; at most max wait, and they end after ttl or at
// close.
func TestWarmReusesGoroutines(t *testing.T) {
	w := newWarm(2, time.Hour)
	defer w.close()
	done := make(chan int, 10)
	for i := range 5 { // one after another
		w.run(func() { done <- i })
		if got := <-done; got != i {
			t.Fatalf("ran %d, want %d", got, i)
		}
		waitFor(t, func() bool { return w.waiting() == 1 })
	}
	if n := w.made.Load(); n != 1 {
		t.Fatalf("5 functions in a row started %d goroutines, want 1", n)
	}

	release := make(chan struct{})
	for range 4 { // at once: the waiting goroutine and 3 new ones
		w.run(func() { <-release; done <- 0 })
	}
	waitFor(t, func() bool { return w.waiting() == 0 })
	close(release)
	for range 4 {
		<-done
	}
	if n := w.made.Load(); n != 4 {
		t.Fatalf("%d goroutines started, want 4", n)
	}
	waitFor(t, func() bool { return w.waiting() == 2 }) // max; the others ended
	time.Sleep(20 * time.Millisecond)
	if n := w.waiting(); n != 2 {
		t.Fatalf("%d goroutines wait, max is 2", n)
	}
	w.close()
	waitFor(t, func() bool { return w.waiting() == 0 })
	w.run(func() { done <- 1 }) // after close, run still runs f
	<-done

	short := newWarm(4, 10*time.Millisecond)
	defer short.close()
	short.run(func() {})
	waitFor(t, func() bool { return short.waiting() == 1 })
	waitFor(t, func() bool { return short.waiting() == 0 }) // ttl passed
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
