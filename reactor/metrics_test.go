// Tests of the reactor's counters: what a real session counts, the loop's answers, and that counting costs no allocation.
package reactor

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

func verbIndex(t testing.TB, verb string) int {
	for i, v := range protocol.Verbs() {
		if v == verb {
			return i
		}
	}
	t.Fatalf("no verb %s", verb)
	return -1
}

// waitFor polls cond until it holds, for up to replyWait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(replyWait); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStatsCountASession(t *testing.T) {
	ts := startServer(t, serverOpts{})
	if err := ts.srv.Alive(context.Background()); err != nil {
		t.Fatalf("alive before the first connection: %v", err)
	}
	if n, err := ts.srv.Phases(context.Background()); err != nil || n != ([protocol.NumPhases][2]int{}) {
		t.Fatalf("phases before the first connection: %v %v", n, err)
	}
	cl := dial(t, ts.addr)
	cl.expect("USER anonymous", "331 ")
	cl.expect("PASS guest@", "230 ")
	cl.expect("NOOP", "200 ")
	cl.expect("FROB", "500 ")
	cl.expect("TYPE I", "200 ")
	d := cl.pasv()
	cl.expect("RETR hello.txt", "150 ")
	if b, err := io.ReadAll(d); err != nil || string(b) != "hello\n" {
		t.Fatalf("data %q %v", b, err)
	}
	if got := cl.reply(); !strings.HasPrefix(got, "226 ") {
		t.Fatalf("after RETR: %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), replyWait)
	defer cancel()
	n, err := ts.srv.Phases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n[protocol.PhaseIdle][0] != 1 {
		t.Fatalf("phases %v: want one plain idle session", n)
	}
	if err := ts.srv.Alive(ctx); err != nil {
		t.Fatal(err)
	}
	st := ts.srv.Stats()
	for _, c := range []struct {
		verb  string
		class int
		want  uint64
	}{{"USER", 1, 1}, {"PASS", 0, 1}, {"TYPE", 0, 1}, {"NOOP", 0, 1}, {"EPSV", 0, 1}, {"RETR", 0, 1}, {"other", 3, 1}, {"QUIT", 0, 0}} {
		got := st.Commands[verbIndex(t, c.verb)]
		if got.Verb != c.verb || got.Replies[c.class] != c.want || got.Time.Count != c.want {
			t.Errorf("%s: %+v, want %d of %s", c.verb, got, c.want, ReplyClasses[c.class])
		}
	}
	if st.Logins[LoginOK] != 1 || st.Logins[LoginRefused] != 0 {
		t.Errorf("logins %v", st.Logins)
	}
	dl := st.Transfers[Download]
	if dl.Results[protocol.XferOK] != 1 || dl.Bytes != 6 || dl.Time.Count != 1 {
		t.Errorf("downloads %+v", dl)
	}
	if st.Sessions != 1 {
		t.Errorf("sessions %d", st.Sessions)
	}
	cl.expect("QUIT", "221 ")
	waitFor(t, "the session to close", func() bool { return ts.srv.Sessions() == 0 })
	if got := ts.srv.Stats().Commands[verbIndex(t, "QUIT")].Replies[0]; got != 1 {
		t.Errorf("QUIT counted %d times", got)
	}
}

func TestStatsCountRefusals(t *testing.T) {
	ts := startServer(t, serverOpts{reactor: func(c *Config) { c.MaxPerIP = 1 }})
	dial(t, ts.addr)
	if got := dialFrom(t, "127.0.0.1", ts.addr).reply(); !strings.HasPrefix(got, "421 ") {
		t.Fatalf("second session from one address: %q", got)
	}
	waitFor(t, "the refusal", func() bool {
		for _, r := range ts.srv.Stats().Refusals {
			if r.What == "session" && r.Reason == "per_ip" {
				return r.Count == 1
			}
		}
		return false
	})
}

func TestAcceptingUntilShutdown(t *testing.T) {
	ts := startServer(t, serverOpts{})
	if !ts.srv.Accepting() || !ts.srv.Running() {
		t.Fatal("a started server is not accepting")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if ts.srv.Accepting() {
		t.Fatal("accepting after Shutdown")
	}
	if err := ts.srv.Alive(ctx); err == nil {
		t.Fatal("alive after Shutdown")
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{0, 100 * time.Microsecond, 101 * time.Microsecond, time.Second, time.Hour} {
		h.observe(&commandBounds, d)
	}
	got := h.read(&commandBounds)
	if got.Count != 5 || got.Counts[0] != 2 || got.Counts[1] != 3 || got.Counts[numBuckets-1] != 4 {
		t.Fatalf("histogram %+v", got)
	}
	if want := (time.Hour + time.Second + 201*time.Microsecond).Seconds(); got.Sum != want {
		t.Fatalf("sum %v, want %v", got.Sum, want)
	}
}

func TestMeterAllocatesNothing(t *testing.T) {
	var m meter
	if n := testing.AllocsPerRun(100, func() {
		m.Command(3, 250, 3*time.Millisecond)
		m.Transfer(protocol.XferStor, protocol.XferOK, 1<<20, time.Second)
	}); n != 0 {
		t.Fatalf("%v allocations per count", n)
	}
}

// BenchmarkMeterCommand is what counting one command costs the loop: two
// atomic adds for its class and bucket, one for the histogram's sum.
func BenchmarkMeterCommand(b *testing.B) {
	var m meter
	var pm protocol.Meter = &m // as the session calls it
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		pm.Command(i%protocol.VerbOther, 200+i%4*100, time.Duration(i)*time.Microsecond)
	}
}

// BenchmarkSessionNOOP runs NOOP through a session with and without the
// reactor's meter: the difference is the metering of one command. (The
// one allocation is the reply buffer the reactor is handed.)
func BenchmarkSessionNOOP(b *testing.B) {
	for _, metered := range []bool{false, true} {
		name := "plain"
		if metered {
			name = "metered"
		}
		b.Run(name, func(b *testing.B) {
			cfg := protocol.DefaultConfig()
			if metered {
				cfg.Meter = &meter{}
			}
			now := time.Now()
			s := protocol.NewSession(&cfg, protocol.ConnInfo{}, now)
			s.TakeOutput()
			noop := []byte("NOOP")
			b.ReportAllocs()
			for b.Loop() {
				s.Line(noop, now)
				s.TakeOutput()
			}
		})
	}
}
