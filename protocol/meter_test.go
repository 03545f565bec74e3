// Tests of the Meter hook: which reply of which command is counted, and when.
package protocol

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// recMeter records what a Session tells its Meter, as "VERB code took".
type recMeter struct {
	cmds  []string
	xfers []string
}

func (m *recMeter) Command(verb, code int, took time.Duration) {
	m.cmds = append(m.cmds, fmt.Sprintf("%s %d %v", verbNames[verb], code, took))
}

func (m *recMeter) Transfer(kind XferKind, r XferResult, bytes int64, took time.Duration) {
	m.xfers = append(m.xfers, fmt.Sprintf("%d %s %d %v", kind, r, bytes, took))
}

// meterRun drives a metered session: lines and events at offsets from
// scriptStart. It returns the session and its meter.
type meterRun struct {
	t   *testing.T
	m   *recMeter
	s   *Session
	cfg Config
}

func newMeterRun(t *testing.T, edit func(*Config)) *meterRun {
	r := &meterRun{t: t, m: &recMeter{}, cfg: testConfig()}
	r.cfg.Meter = r.m
	if edit != nil {
		edit(&r.cfg)
	}
	r.s = NewSession(&r.cfg, testConn, scriptStart)
	r.s.TakeOutput()
	return r
}

func at(d time.Duration) time.Time { return scriptStart.Add(d) }

// line sends l at d and returns the reply bytes.
func (r *meterRun) line(d time.Duration, l string) string {
	r.s.Line([]byte(l), at(d))
	return string(r.s.TakeOutput().Reply)
}

func (r *meterRun) event(d time.Duration, ev Event) string {
	r.s.Event(ev, at(d))
	return string(r.s.TakeOutput().Reply)
}

func (r *meterRun) tick(d time.Duration) string {
	r.s.Tick(at(d))
	return string(r.s.TakeOutput().Reply)
}

// login logs in at 0 and forgets what it counted.
func (r *meterRun) login() {
	r.line(0, "USER bob")
	r.line(0, "PASS x")
	r.event(0, EvLogin{OK: true, Perms: PermRead | PermWrite | PermDelete | PermRename | PermMkdir})
	if r.s.state != stIdle {
		r.t.Fatalf("not logged in: %s", stateName(r.s.state))
	}
	r.m.cmds, r.m.xfers = nil, nil
}

// passive opens an EPSV endpoint at 0 and forgets what it counted.
func (r *meterRun) passive() {
	r.line(0, "EPSV")
	r.event(0, EvPassive{Addr: netip.MustParseAddrPort("192.0.2.1:40000")})
	r.m.cmds, r.m.xfers = nil, nil
}

func (r *meterRun) want(cmds, xfers []string) {
	r.t.Helper()
	if !reflect.DeepEqual(r.m.cmds, cmds) {
		r.t.Errorf("commands:\n got %q\nwant %q", r.m.cmds, cmds)
	}
	if !reflect.DeepEqual(r.m.xfers, xfers) {
		r.t.Errorf("transfers:\n got %q\nwant %q", r.m.xfers, xfers)
	}
	if r.s.bug != nil {
		r.t.Errorf("session bug: %v", r.s.bug)
	}
}

const ms = time.Millisecond

func TestMeterSimpleCommands(t *testing.T) {
	r := newMeterRun(t, nil)
	r.line(0, "NOOP")
	r.line(ms, "XPWD")          // before login: 530
	r.line(2*ms, "FROB")        // unknown
	r.line(3*ms, "")            // empty
	r.s.LineTooLong(at(4 * ms)) // too long
	r.line(5*ms, "USER bob")    // 331 is final
	r.want([]string{"NOOP 200 0s", "PWD 530 0s", "other 500 0s", "other 500 0s", "other 500 0s", "USER 331 0s"}, nil)
}

func TestMeterGreetingAndTimeoutsNotCounted(t *testing.T) {
	r := newMeterRun(t, nil)
	if got := r.tick(time.Minute); !strings.HasPrefix(got, "421 Login timeout") {
		t.Fatalf("login timeout: %q", got)
	}
	r.want(nil, nil)

	r = newMeterRun(t, nil)
	r.login()
	if got := r.tick(r.cfg.IdleTimeout); !strings.HasPrefix(got, "421 Idle timeout") {
		t.Fatalf("idle timeout: %q", got)
	}
	r.want(nil, nil)

	r = newMeterRun(t, nil)
	r.login()
	r.s.Shutdown(at(time.Second))
	r.want(nil, nil)
}

func TestMeterWorkerCommand(t *testing.T) {
	r := newMeterRun(t, nil)
	r.login()
	r.line(10*ms, "CWD /a")
	r.event(25*ms, EvFile{Op: OpStat, Info: FileInfo{Mode: 1 << 31}})
	r.line(30*ms, "DELE /a/f")
	r.event(31*ms, EvFile{Op: OpDelete})
	r.want([]string{"CWD 250 15ms", "DELE 250 1ms"}, nil)
}

func TestMeterRefusedPassAfterDelay(t *testing.T) {
	r := newMeterRun(t, func(c *Config) { c.LoginFailDelay = time.Second; c.MaxLoginFailures = 2 })
	r.line(0, "USER bob")
	r.line(ms, "PASS bad")
	r.event(3*ms, EvLogin{})
	r.line(5*ms, "NOOP") // queued behind the delayed 530
	r.want([]string{"USER 331 0s"}, nil)
	if got := r.tick(3*ms + time.Second); got != "530 Login incorrect.\r\n200 NOOP ok.\r\n" {
		t.Fatalf("after the delay: %q", got)
	}
	r.want([]string{"USER 331 0s", "PASS 530 1.002s", "NOOP 200 998ms"}, nil)

	// The second failure closes the session: 530 counts, its 421 does not.
	r.m.cmds = nil
	r.line(2*time.Second, "USER bob")
	r.line(2*time.Second, "PASS bad")
	r.event(2*time.Second, EvLogin{})
	if got := r.tick(4 * time.Second); !strings.Contains(got, "530 Login incorrect.\r\n421 ") {
		t.Fatalf("second failure: %q", got)
	}
	r.want([]string{"USER 331 0s", "PASS 530 2s"}, nil)
}

func TestMeterLoginTimeoutAnswersWaitingPass(t *testing.T) {
	r := newMeterRun(t, nil)
	r.line(0, "USER bob")
	r.line(time.Second, "PASS x")
	r.tick(time.Minute) // the check never came back
	r.want([]string{"USER 331 0s", "PASS 421 59s"}, nil)
}

func TestMeterPipelined(t *testing.T) {
	r := newMeterRun(t, nil)
	r.login()
	r.line(0, "CWD /a")
	r.line(ms, "NOOP")
	r.line(2*ms, "PWD")
	r.line(3*ms, "MKD /b") // waits on a worker in turn
	r.line(4*ms, "SYST")
	r.want(nil, nil)
	r.event(10*ms, EvFile{Op: OpStat, Info: FileInfo{Mode: 1 << 31}})
	r.want([]string{"CWD 250 10ms", "NOOP 200 9ms", "PWD 257 8ms"}, nil)
	r.event(20*ms, EvFile{Op: OpMkdir, Info: FileInfo{Mode: 1 << 31}})
	r.want([]string{"CWD 250 10ms", "NOOP 200 9ms", "PWD 257 8ms", "MKD 257 17ms", "SYST 215 16ms"}, nil)
}

func TestMeterTransfer(t *testing.T) {
	r := newMeterRun(t, nil)
	r.login()
	r.passive()
	if got := r.line(0, "RETR f"); got != "" {
		t.Fatalf("RETR: %q", got)
	}
	if got := r.event(5*ms, EvTransferStart{Size: 100}); !strings.HasPrefix(got, "150 ") {
		t.Fatalf("start: %q", got)
	}
	r.want(nil, nil) // 150 is not final
	r.line(10*ms, "STAT")
	r.line(11*ms, "NOOP") // queued behind the transfer
	r.want([]string{"STAT 213 0s"}, nil)
	r.event(2*time.Second, EvTransferDone{Bytes: 100})
	r.want([]string{"STAT 213 0s", "RETR 226 2s", "NOOP 200 1.989s"}, []string{"1 ok 100 2s"})

	// An upload refused by the DTP before any data moved.
	r.m.cmds, r.m.xfers = nil, nil
	r.passive()
	r.line(3*time.Second, "STOR g")
	r.event(3*time.Second+ms, EvTransferDone{Err: ErrBusy})
	r.want([]string{"STOR 450 1ms"}, []string{"2 failed 0 1ms"})

	// A listing.
	r.m.cmds, r.m.xfers = nil, nil
	r.passive()
	r.line(4*time.Second, "LIST")
	r.event(4*time.Second, EvTransferStart{Size: -1})
	r.event(4*time.Second+3*ms, EvTransferDone{Bytes: 42})
	r.want([]string{"LIST 226 3ms"}, []string{"5 ok 42 3ms"})
}

func TestMeterAbortDuringTransfer(t *testing.T) {
	r := newMeterRun(t, nil)
	r.login()
	r.passive()
	r.line(0, "RETR f")
	r.event(ms, EvTransferStart{Size: 100})
	r.line(time.Second, "ABOR")
	r.want(nil, nil)
	got := r.event(time.Second+20*ms, EvTransferDone{Bytes: 50, Err: ErrAborted})
	if !strings.HasPrefix(got, "426 ") || !strings.Contains(got, "\r\n226 ") {
		t.Fatalf("abort replies: %q", got)
	}
	r.want([]string{"RETR 426 1.02s", "ABOR 226 20ms"}, []string{"1 aborted 50 1.02s"})

	// ABOR that comes too late: 226 for the transfer, then 225 for ABOR.
	r.m.cmds, r.m.xfers = nil, nil
	r.passive()
	r.line(2*time.Second, "RETR f")
	r.event(2*time.Second, EvTransferStart{Size: 1})
	r.line(2*time.Second+ms, "ABOR")
	r.event(2*time.Second+3*ms, EvTransferDone{Bytes: 1})
	r.want([]string{"RETR 226 3ms", "ABOR 225 2ms"}, []string{"1 ok 1 3ms"})
}

func TestMeterQuitDuringTransfer(t *testing.T) {
	r := newMeterRun(t, nil)
	r.login()
	r.passive()
	r.line(0, "STOR f")
	r.event(0, EvTransferStart{Size: -1})
	r.line(ms, "ABOR")
	r.line(2*ms, "QUIT")
	r.line(3*ms, "NOOP") // ignored after QUIT
	got := r.event(50*ms, EvTransferDone{Bytes: 7, Err: ErrAborted})
	if !strings.HasSuffix(got, "226 Abort successful.\r\n221 Goodbye.\r\n") {
		t.Fatalf("replies: %q", got)
	}
	r.want([]string{"STOR 426 50ms", "ABOR 226 49ms", "QUIT 221 48ms"}, []string{"2 aborted 7 50ms"})
}

func TestMeterDataTimeout(t *testing.T) {
	r := newMeterRun(t, nil)
	r.login()
	r.passive()
	r.line(0, "RETR f")
	r.tick(r.cfg.DataTimeout) // no data connection: ReqAbort
	r.event(r.cfg.DataTimeout+ms, EvTransferDone{Err: fmt.Errorf("x: %w", ErrAborted)})
	r.want([]string{"RETR 425 30.001s"}, []string{"1 aborted 0 30.001s"})
}

func TestMeterPhase(t *testing.T) {
	r := newMeterRun(t, nil)
	check := func(want Phase) {
		t.Helper()
		if got := r.s.Phase(); got != want {
			t.Fatalf("phase %v, want %v", got, want)
		}
	}
	check(PhaseLogin)
	r.login()
	check(PhaseIdle)
	r.line(0, "CWD /a")
	check(PhaseBusy)
	r.event(0, EvFile{Op: OpStat, Info: FileInfo{Mode: 1 << 31}})
	r.passive()
	r.line(0, "RETR f")
	check(PhaseTransfer)
	r.line(0, "QUIT")
	r.event(0, EvTransferDone{Err: errors.New("gone")})
	check(PhaseClosing)
}

func TestVerbs(t *testing.T) {
	v := Verbs()
	if len(v) != VerbOther+1 || v[VerbOther] != "other" {
		t.Fatalf("Verbs() = %q", v)
	}
	for i := range commands {
		if v[commands[i].id] != commands[i].verb {
			t.Fatalf("index %d: %q, want %q", i, v[i], commands[i].verb)
		}
	}
}

// TestSessionSizeClass keeps the Meter's marks from growing every session:
// a Session still fits the allocator's 512-byte size class.
func TestSessionSizeClass(t *testing.T) {
	if n := reflect.TypeOf(Session{}).Size(); n > 512 {
		t.Fatalf("Session is %d bytes, over the 512-byte size class", n)
	}
}

// nopMeter counts nothing.
type nopMeter struct{}

func (nopMeter) Command(int, int, time.Duration)                     {}
func (nopMeter) Transfer(XferKind, XferResult, int64, time.Duration) {}

// BenchmarkNOOPMetered is BenchmarkNOOP with a Meter: the marks cost no
// allocation.
func BenchmarkNOOPMetered(b *testing.B) {
	cfg := testConfig()
	cfg.Meter = nopMeter{}
	s := NewSession(&cfg, testConn, scriptStart)
	s.TakeOutput()
	noop := []byte("NOOP")
	b.ReportAllocs()
	for b.Loop() {
		s.Line(noop, scriptStart)
		s.TakeOutput()
	}
}
