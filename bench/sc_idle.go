// The idle scenario: many logged-in sessions held at once, server memory per session, then a NOOP round.
package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Idle-scenario bounds.
const (
	fileReserve     = 64  // descriptors kept for everything but sessions (and a transfer per worker)
	maxOpeners      = 256 // sessions opened in parallel
	maxStreakErrors = 1000
	serverReserve   = 16 // descriptors a server needs besides its sessions (listener, logs, epoll)
)

// FileLimitError says that a run needs more open files than this process may hold.
type FileLimitError struct {
	Need, Soft, Hard uint64
	Sessions         int
}

func (e *FileLimitError) Error() string {
	return fmt.Sprintf("bench: %d sessions need about %d open files in ftpbench, but this process may hold at most %d (hard limit %d, RLIMIT_NOFILE; the soft limit was raised to it and even root cannot go further here). "+
		"Hold at most %d sessions per ftpbench process, or run several processes",
		e.Sessions, e.Need, e.Soft, e.Hard, maxSessions(e.Soft))
}

func maxSessions(soft uint64) uint64 {
	if soft <= fileReserve {
		return 0
	}
	return soft - fileReserve
}

// checkFiles raises the open-file limit and fails clearly when sessions
// control connections (plus a reserve) cannot fit under it.
func checkFiles(cfg Config, sessions int) error {
	soft, hard, err := RaiseFileLimit()
	if err != nil {
		if soft == 0 {
			return nil // unknown limit: let the dials report it
		}
		cfg.logf("cannot raise the open-file limit from %d to %d: %v", soft, hard, err)
	}
	need := uint64(sessions) + fileReserve
	if need > soft {
		return &FileLimitError{Need: need, Soft: soft, Hard: hard, Sessions: sessions}
	}
	return nil
}

// population is a set of idle logged-in sessions.
type population struct {
	conns   []*Conn
	failed  int
	stopped string // why opening stopped early, if it did
	errs    errorCounter
	seconds float64
	sources int
}

func (p *population) held() int { return len(p.conns) }

// close closes the sessions; a nil p has none.
func (p *population) close() {
	if p == nil {
		return
	}
	var wg sync.WaitGroup
	ch := make(chan *Conn)
	for range min(maxOpeners, len(p.conns)) {
		wg.Go(func() {
			for c := range ch {
				c.Close()
			}
		})
	}
	for _, c := range p.conns {
		ch <- c
	}
	close(ch)
	wg.Wait()
	p.conns = nil
}

// holdSessions opens n logged-in sessions spread over the source addresses,
// at most maxOpeners (and at least cfg.Concurrency) at a time, and returns
// them. It gives up after maxStreakErrors failures in a row.
func holdSessions(ctx context.Context, cfg Config, n int) *population {
	sources := cfg.Target.Sources(cfg.Sources)
	p := &population{sources: len(sources)}
	openers := min(maxOpeners, max(cfg.Concurrency, 32), n)
	var next, streak atomic.Int64
	var mu sync.Mutex
	conns := make([]*Conn, 0, n)
	start := time.Now()
	stopProgress := startProgress(ctx, cfg, func(elapsed time.Duration) Progress {
		mu.Lock()
		defer mu.Unlock()
		return Progress{Scenario: "idle", Phase: "opening sessions", Elapsed: elapsed, Done: len(conns), Of: n, Errors: p.errs.n.Load()}
	})
	var wg sync.WaitGroup
	for range openers {
		wg.Go(func() {
			for ctx.Err() == nil && streak.Load() < maxStreakErrors {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				c, err := openSession(ctx, cfg, cfg.Target, sources[int(i)%len(sources)])
				if err != nil {
					if ctx.Err() == nil {
						p.errs.add(err)
					}
					streak.Add(1)
					continue
				}
				streak.Store(0)
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stopProgress()
	p.seconds = time.Since(start).Seconds()
	p.conns = conns
	p.failed = n - len(conns)
	if streak.Load() >= maxStreakErrors {
		p.stopped = fmt.Sprintf("stopped opening after %d failures in a row", maxStreakErrors)
	}
	return p
}

func runIdle(ctx context.Context, cfg Config) (*Result, error) {
	n := cfg.Sessions
	ir := &IdleResult{Requested: n}
	r := &Result{Unit: "sessions", Concurrency: min(maxOpeners, max(cfg.Concurrency, 32), n), Idle: ir}
	var serverNote string
	if cfg.PID > 0 {
		if lim, err := ProcessFileLimit(cfg.ProcRoot, cfg.PID); err == nil {
			ir.ServerFileLim = lim
			if lim >= 0 && int64(n)+serverReserve > lim {
				serverNote = fmt.Sprintf("the server (pid %d) may hold at most %d open files, so about %d sessions fit in one server process and %d cannot all be held",
					cfg.PID, lim, lim-serverReserve, n)
				r.Notes = append(r.Notes, serverNote)
			}
		}
	}
	if err := checkFiles(cfg, n); err != nil {
		if serverNote != "" {
			err = fmt.Errorf("%w; also, %s", err, serverNote)
		}
		return nil, err
	}
	if serverNote != "" {
		cfg.logf("idle: %s", serverNote)
	}
	soft, _, _ := RaiseFileLimit()
	ir.FileLimit = soft
	if cfg.PID > 0 {
		before, _, err := PSS(cfg.ProcRoot, cfg.PID)
		if err != nil {
			return nil, err
		}
		ir.PSSBefore = before
	}

	pop := holdSessions(ctx, cfg, n)
	defer pop.close()
	ir.Held, ir.Sources, ir.OpenSeconds = pop.held(), pop.sources, pop.seconds
	r.Errors = int64(pop.failed)
	r.ErrorKinds = pop.errs.snapshot()
	if pop.stopped != "" {
		r.Notes = append(r.Notes, pop.stopped)
	}
	cfg.logf("idle: %d of %d sessions open in %.1fs; holding them %v", ir.Held, n, ir.OpenSeconds, cfg.HoldTime)
	sleepCtx(ctx, cfg.HoldTime, time.Now().Add(cfg.HoldTime))

	if cfg.PID > 0 && ctx.Err() == nil {
		after, procs, err := PSS(cfg.ProcRoot, cfg.PID)
		if err != nil {
			r.Errors++
			if r.ErrorKinds == nil {
				r.ErrorKinds = map[string]int64{}
			}
			r.ErrorKinds[errorKind(err)]++
		} else {
			ir.PSSAfter, ir.Processes = after, procs
			if ir.Held > 0 {
				ir.PSSPerSession = float64(after-ir.PSSBefore) / float64(ir.Held)
			}
		}
	}

	// Every held session must still answer NOOP.
	lat := NewHistogram()
	errs := &errorCounter{}
	var ok, next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range min(r.Concurrency, max(1, len(pop.conns))) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(pop.conns)) {
					return
				}
				t0 := time.Now()
				if _, err := pop.conns[i].Expect("NOOP", 200); err != nil {
					errs.add(fmt.Errorf("NOOP after holding: %w", err))
					continue
				}
				lat.RecordDuration(time.Since(t0))
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	ir.NoopOK = int(ok.Load())
	ir.NoopFailed = ir.Held - ir.NoopOK
	r.Errors += int64(ir.NoopFailed)
	if k := errs.snapshot(); k != nil {
		if r.ErrorKinds == nil {
			r.ErrorKinds = map[string]int64{}
		}
		for m, v := range k {
			r.ErrorKinds[m] += v
		}
	}
	r.Ops = int64(ir.Held)
	r.Seconds = ir.OpenSeconds
	if ir.OpenSeconds > 0 {
		r.OpsPerSec = float64(ir.Held) / ir.OpenSeconds
	}
	r.Latency = lat.Summary()
	r.Notes = append(r.Notes,
		fmt.Sprintf("%d of %d sessions held over %d source addresses; rate is sessions opened per second", ir.Held, n, ir.Sources),
		fmt.Sprintf("latency is one NOOP on every held session (%d answered, %d in %.2fs)", ir.NoopOK, ir.NoopFailed, time.Since(start).Seconds()))
	if cfg.PID > 0 && ir.PSSAfter > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("server PSS %s before, %s with the sessions (%d processes): %s per session (%s with the base included; a server that kept memory from earlier sessions shows less than a fresh one)",
			FormatBytes(float64(ir.PSSBefore)), FormatBytes(float64(ir.PSSAfter)), ir.Processes, FormatBytes(ir.PSSPerSession), FormatBytes(float64(ir.PSSAfter)/float64(max(1, ir.Held)))))
	}
	return r, nil
}
