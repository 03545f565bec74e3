package reactor

import (
	"sync/atomic"
	"testing"
	"time"
)

// testTrimmer runs a trimmer with short periods; it returns the trimmer,
// the count of trims, and a switch for "handshakes in progress".
func testTrimmer(t *testing.T, quiet time.Duration) (*trimmer, *atomic.Int64, *atomic.Bool) {
	t.Helper()
	tr := newTrimmer()
	tr.quiet, tr.every, tr.minHandshakes = quiet, 400*time.Millisecond, 3
	var trims atomic.Int64
	var busy atomic.Bool
	tr.free = func() { trims.Add(1) }
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.run(stop, busy.Load)
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	return tr, &trims, &busy
}

// waitTrims waits up to a few seconds for trims to reach want, then
// checks it stays there a little longer.
func waitTrims(t *testing.T, trims *atomic.Int64, want int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for trims.Load() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if got := trims.Load(); got != want {
		t.Fatalf("%d trims, want %d", got, want)
	}
}

func TestTrimAfterBurst(t *testing.T) {
	tr, trims, _ := testTrimmer(t, 50*time.Millisecond)

	// Too few handshakes: no trim.
	tr.handshakeEnded()
	tr.handshakeEnded()
	waitTrims(t, trims, 0)

	// The third makes a burst; the trim follows the quiet period.
	tr.handshakeEnded()
	waitTrims(t, trims, 1)

	// Another burst right away: not before `every` has passed since.
	for range 5 {
		tr.handshakeEnded()
	}
	waitTrims(t, trims, 1)
	time.Sleep(400 * time.Millisecond)
	for range 3 {
		tr.handshakeEnded()
	}
	waitTrims(t, trims, 2)
}

// A steady stream of handshakes, or one still in progress, never trims.
func TestTrimNeedsQuiet(t *testing.T) {
	tr, trims, busy := testTrimmer(t, 300*time.Millisecond)
	for range 20 { // one every 10 ms, well under the quiet period
		tr.handshakeEnded()
		time.Sleep(10 * time.Millisecond)
		if trims.Load() != 0 {
			t.Fatal("trimmed during a steady stream of handshakes")
		}
	}
	busy.Store(true)
	time.Sleep(400 * time.Millisecond) // the quiet period passes while busy
	waitTrims(t, trims, 0)
	busy.Store(false)
	tr.handshakeEnded()
	waitTrims(t, trims, 1)
}

// Every control-connection handshake is counted, failed ones too.
func TestTrimCountsHandshakes(t *testing.T) {
	ts, ccfg := startTLSServer(t, nil)
	before := ts.srv.trim.count.Load()
	for range 3 {
		cl := dial(t, ts.addr)
		cl.upgrade(ccfg, cl.c)
		cl.expect("QUIT", "221 ")
	}
	cl := dial(t, ts.addr)
	cl.expect("AUTH TLS", "234 ")
	cl.c.Write([]byte("not a ClientHello\r\n"))
	expectClosed(t, cl.c, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for ts.srv.trim.count.Load()-before < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := ts.srv.trim.count.Load() - before; n != 4 {
		t.Fatalf("%d handshakes counted, want 4", n)
	}
}
