// The standard suite: the steps `make bench` and `make bench-compare` run, about seven minutes of measuring in all.
package bench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Step is one row of a suite: a scenario with its own load.
type Step struct {
	Label       string // the row's name, e.g. "noop 500 of 10k"
	Scenario    string
	Concurrency int
	Duration    time.Duration
	Sessions    int     // idle; slow-get: transfers
	Hold        int     // noop, large-get: idle sessions held while it runs
	Rate        float64 // paced operations per second (0: back to back)
	Count       int64   // stop after this many operations (0: Duration only)
	PutSize     int64   // large-put: the file's size (0: Config.LargeSize)
	// SingleProcess marks a step that only servers holding every session in
	// one process run: a process per session cannot reach it here.
	SingleProcess bool
	// TLS marks a step run over explicit FTPS (AUTH TLS, PROT P) with
	// Config.TLSConfig; without one it is skipped.
	TLS bool
	// DataUnsent, when set, is rftpd's limits.data_unsent for this step:
	// the step runs only against rftpd, on an instance started with it.
	DataUnsent int
	// AtomicUploads marks a step run only against rftpd, on an instance
	// with its default uploads: atomic (a temporary file renamed over the
	// target) and durable (synced before 226). Every other step runs rftpd
	// with uploads written in place and not synced, as the peers write
	// them, so that the rows compare like for like; these rows show what
	// the defaults cost beside them.
	AtomicUploads bool
	// StatCacheOff marks a step run only against rftpd, on an instance
	// with its stat cache off (stat_cache = "0s"), and with it the listing
	// cache, which lives by the stat cache's lifetime: the noop step asks
	// SIZE of one file over and over, which rftpd's cache answers on its
	// event loop, and the list step lists one folder over and over, which
	// it sends again from memory; these rows show what each costs without.
	StatCacheOff bool
	// Pin marks a single-stream step: RunSuite runs it with the server and
	// the load generator placed as Config.Pin says (see Placement).
	// Steps of many streams or sessions run where the scheduler puts them.
	Pin bool
	// Interleave marks a step whose servers compare closely: ftpbench
	// compare runs it in rounds, each against every server and a second
	// rftpd (the control) back to back, rather than in each server's turn
	// through the suite, minutes apart. A large transfer's cost per GiB
	// drifts with the machine from one minute to the next by more than
	// such servers differ; the ratios within each round do not, and the
	// control's show how fine a difference they resolve.
	Interleave bool
}

// StandardSuite measures every scenario once, with the loads the issue's
// targets name: 10,000 and 15,000 idle sessions, 500 active among 10,000,
// one large stream, 1,000 slow downloads. It takes about eight minutes
// with a 1 GiB large file.
//
// 15,000 is about the most rftpd admits here: a process may hold at most
// 20,000 open files, and of its descriptors rftpd keeps an eighth for
// transfers and a sixteenth for passive listeners, and shares what
// sessions may use between client addresses with a reserve for
// newcomers (fair.NewBudget): about 15,180 sessions from 16 addresses.
//
// The uploads (small-put, large-put 1, mixed) write in place and unsynced
// against rftpd, as against the peers; small-put and large-put 1 run once
// more with rftpd's defaults, atomic and durable (Step.AtomicUploads).
//
// "500 active" is measured twice. Back to back, 500 closed-loop clients
// queue behind each other (Little's law: latency = 500 / throughput), so
// that row shows throughput under saturation. Paced at 20 commands/s per
// active session (10,000/s in all, a busy interactive load), it shows the
// latency an active session sees while 10,000 are connected: the target.
//
// Two steps take loads other benchmarks of FTP servers use. "put 300 ×
// 10 MiB" starts 300 uploads of 10 MiB at once, one per session, and
// ends when the last is stored: its rate is 3,000 MiB over that time.
// "large-get 1 beside 300 idle" is one download while 300 logged-in
// sessions sit idle: a server should not slow one stream down for
// sessions that do nothing.
//
// The 1,000 slow downloads (64 KiB/s each) run twice against rftpd: with
// its default data_unsent (256 KiB), and with 64 KiB, to show that the
// kernel memory a slow download holds follows the setting.
var StandardSuite = []Step{
	{Label: "idle 10k", Scenario: "idle", Concurrency: 64, Sessions: 10000},
	{Label: "idle 15k", Scenario: "idle", Concurrency: 64, Sessions: 15000, SingleProcess: true},
	{Label: "login", Scenario: "login", Concurrency: 16, Duration: 30 * time.Second},
	{Label: "noop", Scenario: "noop", Concurrency: 16, Duration: 20 * time.Second},
	{Label: "noop stat_cache off", Scenario: "noop", Concurrency: 16, Duration: 20 * time.Second, StatCacheOff: true},
	{Label: "noop 500 of 10k", Scenario: "noop", Concurrency: 500, Hold: 9500, Duration: 20 * time.Second},
	{Label: "noop 500 of 10k at 20/s each", Scenario: "noop", Concurrency: 500, Hold: 9500, Rate: 10000, Duration: 20 * time.Second},
	{Label: "small-get", Scenario: "small-get", Concurrency: 16, Duration: 30 * time.Second},
	{Label: "small-put", Scenario: "small-put", Concurrency: 16, Duration: 30 * time.Second},
	{Label: "large-get 1", Scenario: "large-get", Concurrency: 1, Duration: 20 * time.Second, Pin: true, Interleave: true},
	{Label: "large-get 4", Scenario: "large-get", Concurrency: 4, Duration: 20 * time.Second, Interleave: true},
	{Label: "large-get 1 beside 300 idle", Scenario: "large-get", Concurrency: 1, Hold: 300, Duration: 20 * time.Second, Pin: true, Interleave: true},
	{Label: "large-put 1", Scenario: "large-put", Concurrency: 1, Duration: 20 * time.Second, Pin: true, Interleave: true},
	{Label: "put 300 × 10 MiB", Scenario: "large-put", Concurrency: 300, Count: 300, PutSize: 10 << 20, Duration: time.Minute},
	{Label: "small-put atomic durable", Scenario: "small-put", Concurrency: 16, Duration: 20 * time.Second, AtomicUploads: true},
	{Label: "large-put 1 atomic durable", Scenario: "large-put", Concurrency: 1, Duration: 20 * time.Second, Pin: true, AtomicUploads: true},
	{Label: "list", Scenario: "list", Concurrency: 8, Duration: 20 * time.Second},
	{Label: "list stat_cache off", Scenario: "list", Concurrency: 8, Duration: 10 * time.Second, StatCacheOff: true},
	{Label: "mixed", Scenario: "mixed", Concurrency: 16, Duration: 30 * time.Second},
	{Label: "slow-get 1000", Scenario: "slow-get", Concurrency: 64, Sessions: 1000, Duration: 10 * time.Second},
	{Label: "slow-get 1000 data_unsent 64K", Scenario: "slow-get", Concurrency: 64, Sessions: 1000, Duration: 10 * time.Second, DataUnsent: 64 << 10},
	{Label: "idle 10k TLS", Scenario: "idle", Concurrency: 64, Sessions: 10000, TLS: true},
	{Label: "login TLS", Scenario: "login", Concurrency: 16, Duration: 30 * time.Second, TLS: true},
	{Label: "large-get 1 TLS", Scenario: "large-get", Concurrency: 1, Duration: 20 * time.Second, TLS: true, Pin: true, Interleave: true},
}

// PairedStep is large-get 1 measured in rounds that each run it against
// rftpd, the ceiling and a second, identical ceiling back to back, in an
// order that goes through all six. On a shared machine one stream's rate
// swings by a factor of two from minute to minute, for the ceiling too; a
// suite run measures each server minutes apart, while a round's three
// parts, seconds long, see nearly the same machine. The large-get target's
// figure is the median over the rounds of rftpd's rate divided by the mean
// of the two ceilings'; the two ceilings' ratio to each other shows how
// fine a difference the rounds can resolve.
var PairedStep = Step{Label: "large-get 1 paired", Scenario: "large-get", Concurrency: 1, Duration: 2 * time.Second, Pin: true}

// PairedControl is the server name of the second ceiling in PairedStep's
// rounds.
const PairedControl = "ceiling 2"

// PairedOrder returns the order, as indexes into rftpd, ceiling and
// PairedControl, in which round n (from 1) runs them: six rounds in a row
// go through every order once, so each server runs first, second and
// third equally often.
func PairedOrder(n int) [3]int {
	orders := [6][3]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}}
	return orders[((n-1)%6+6)%6]
}

// RoundStep is st as one of rounds rounds of a run: each round gets the
// step's duration over rounds, so that a run spends about as long on the
// step as one turn per server would, but at least two seconds (or the
// step's duration, when shorter).
func RoundStep(st Step, rounds int) Step {
	if rounds > 1 {
		st.Duration = max(min(2*time.Second, st.Duration), st.Duration/time.Duration(rounds))
	}
	return st
}

// SplitInterleaved splits steps into those each server runs in its turn
// and those run against every server back to back (Step.Interleave),
// each keeping its order.
func SplitInterleaved(steps []Step) (turns, rounds []Step) {
	for _, s := range steps {
		if s.Interleave {
			rounds = append(rounds, s)
		} else {
			turns = append(turns, s)
		}
	}
	return turns, rounds
}

// FilterSteps returns the steps whose label contains one of words (all of
// them when words is empty).
func FilterSteps(steps []Step, words []string) []Step {
	var out []Step
	for _, s := range steps {
		if Selected(s.Label, words) {
			out = append(out, s)
		}
	}
	return out
}

// RftpdOnly reports whether s runs only against rftpd, on an instance
// started with settings of its own (DataUnsent, AtomicUploads,
// StatCacheOff).
func (s Step) RftpdOnly() bool { return s.DataUnsent > 0 || s.AtomicUploads || s.StatCacheOff }

// Selected reports whether a step labelled label runs under -steps words:
// when words is empty, or label contains one of them.
func Selected(label string, words []string) bool {
	if len(words) == 0 {
		return true
	}
	for _, w := range words {
		if w != "" && strings.Contains(label, w) {
			return true
		}
	}
	return false
}

// ScaleSuite returns steps with durations multiplied by f (at least one
// second), session counts by f (at least 10) and operation counts by f (at
// least one, with no more workers than operations): f = 0.1 is a smoke run.
func ScaleSuite(steps []Step, f float64) []Step {
	out := make([]Step, len(steps))
	for i, s := range steps {
		if f != 1 {
			s.Label += fmt.Sprintf(" ×%g", f)
		}
		s.Duration = max(time.Second, time.Duration(float64(s.Duration)*f))
		if s.Sessions > 0 {
			s.Sessions = max(10, int(float64(s.Sessions)*f))
		}
		if s.Hold > 0 {
			s.Hold = max(10, int(float64(s.Hold)*f))
			c := max(1, min(s.Concurrency, int(float64(s.Concurrency)*f)))
			s.Rate = s.Rate * float64(c) / float64(s.Concurrency) // the same pace per session
			s.Concurrency = c
		}
		if s.Count > 0 {
			s.Count = max(1, int64(float64(s.Count)*f))
			s.Concurrency = min(s.Concurrency, int(s.Count))
		}
		out[i] = s
	}
	return out
}

// RunSuite runs steps in order with cfg (each step overriding concurrency,
// duration, count, sessions, hold and rate, and a large-put's size; a TLS
// step also the targets' TLS)
// and returns a result per step that ran. A step marked Pin runs with the
// server's tree (cfg.PID) and this process pinned as cfg.Pin says, from
// before its sessions open until it ends, when both get their affinity
// back; its result says where it ran (Result.Placement). A step that
// cannot run at all is returned as an error after the others ran.
func RunSuite(ctx context.Context, steps []Step, cfg Config) ([]*Result, error) {
	var results []*Result
	var firstErr error
	for _, st := range steps {
		if ctx.Err() != nil {
			break
		}
		sc, ok := Lookup(st.Scenario)
		if !ok {
			return results, fmt.Errorf("bench: suite step %q: unknown scenario %q", st.Label, st.Scenario)
		}
		c := cfg
		if st.TLS {
			if cfg.TLSConfig == nil {
				continue // the server offers no TLS
			}
			for _, t := range []*Target{&c.Target, &c.PutTarget} {
				t.TLS, t.TLSConfig = TLSExplicit, cfg.TLSConfig
			}
		}
		c.Concurrency, c.Duration, c.Hold, c.Rate = st.Concurrency, st.Duration, st.Hold, st.Rate
		c.Count = st.Count
		if st.PutSize > 0 {
			c.LargeSize = st.PutSize
		}
		if st.Sessions > 0 {
			c.Sessions = st.Sessions
		}
		var pinned *Pinned
		var pinNote string
		if st.Pin && c.Pin.Active() {
			var err error
			if c.PID <= 0 {
				pinNote = fmt.Sprintf("placement %s asked, but the server's process is not known: the step ran unpinned", c.Pin.Placement)
			} else if pinned, err = Pin(procRoot(c), c.PID, c.Pin); err != nil {
				pinNote = fmt.Sprintf("placement %s asked, but pinning failed (%v): the step ran unpinned", c.Pin.Placement, err)
			}
			if pinNote != "" {
				c.withDefaults().logf("%s: %s", st.Label, pinNote)
			}
		}
		c.SharedCPU = pinned != nil && pinned.Plan.Placement == PinSame
		r, err := Run(ctx, sc, c)
		if uerr := pinned.Undo(); uerr != nil && firstErr == nil {
			firstErr = fmt.Errorf("bench: suite step %q: restoring the CPU affinity: %w", st.Label, uerr)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("bench: suite step %q: %w", st.Label, err)
			}
			continue
		}
		r.Step = st.Label
		if st.Pin {
			r.Placement = PinPlan{Placement: PinOff}.String()
			if pinned != nil {
				r.Placement = pinned.Plan.String()
			}
			r.Notes = append(r.Notes, "placement "+r.Placement)
			if pinNote != "" {
				r.Notes = append(r.Notes, pinNote)
			}
		}
		results = append(results, r)
	}
	return results, firstErr
}
