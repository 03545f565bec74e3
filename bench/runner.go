// The worker loop shared by the scenarios: sessions, bounded operation loops, counters, errors, progress.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Progress is a snapshot of a running scenario.
type Progress struct {
	Scenario string
	Phase    string // "" while measuring; otherwise what is being set up
	Elapsed  time.Duration
	Duration time.Duration
	Ops      int64
	Errors   int64
	Bytes    int64
	Done     int // set-up phases: how far
	Of       int
}

// maxErrorKinds bounds the distinct error messages a result keeps; the rest
// are counted under "other".
const maxErrorKinds = 16

// errorCounter counts errors and keeps the most common messages.
type errorCounter struct {
	n     atomic.Int64
	mu    sync.Mutex
	kinds map[string]int64
}

var portRE = regexp.MustCompile(`((?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-fA-F:]+\]):\d+`)

// errorKind removes what varies between occurrences (port numbers) from an
// error message.
func errorKind(err error) string {
	return portRE.ReplaceAllString(err.Error(), "$1:*")
}

func (e *errorCounter) add(err error) {
	e.n.Add(1)
	k := errorKind(err)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.kinds == nil {
		e.kinds = map[string]int64{}
	}
	if _, ok := e.kinds[k]; !ok && len(e.kinds) >= maxErrorKinds {
		k = "other"
	}
	e.kinds[k]++
}

func (e *errorCounter) snapshot() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.kinds) == 0 {
		return nil
	}
	out := make(map[string]int64, len(e.kinds))
	for k, v := range e.kinds {
		out[k] = v
	}
	return out
}

// worker is one concurrent client of a job.
type worker struct {
	id   int
	cfg  Config
	src  net.IP
	conn *Conn
	sink *Sink
	rng  *rand.Rand
	file *os.File // upload source (each worker has its own file offset)
	seq  int64    // operations this worker started
	dir  int      // mixed: the folder the session is in (-1: not known)
	bad  bool     // prepare failed: the worker does not run
	// noMLSD: the server answered MLSD with 500/502 (vsftpd has none);
	// listings fall back to LIST.
	noMLSD bool
	held   atomic.Pointer[Conn]
}

func (w *worker) setConn(c *Conn) {
	w.conn = c
	w.held.Store(c)
}

func (w *worker) drop() {
	if w.conn != nil {
		w.conn.Close()
	}
	w.setConn(nil)
}

// job describes a scenario for runJob.
type job struct {
	name   string
	unit   string
	target Target
	// session: workers keep a logged-in session between operations, set
	// up before the clock starts.
	session bool
	// prepare runs once per worker before anything else (open files).
	prepare func(w *worker) error
	// op is one measured operation; it returns the bytes it moved.
	op func(ctx context.Context, w *worker) (int64, error)
	// perStream records each operation's throughput for StreamBytesPerSec.
	perStream bool
	// notes returns extra lines for the result once the run is over.
	notes func() []string
}

// openSession dials t from src, logs in and switches to TYPE I (image):
// the default, TYPE A, converts line endings and rules out sendfile.
func openSession(ctx context.Context, cfg Config, t Target, src net.IP) (*Conn, error) {
	c, err := DialTarget(ctx, t, src, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	if err := c.Login(t.User, t.Pass); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Expect("TYPE I", 200); err != nil {
		c.Close()
		return nil, err
	}
	if cfg.ModeZ > 0 {
		if err := c.EnableModeZ(cfg.ModeZ); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// sleepCtx waits d or until ctx ends or deadline passes.
func sleepCtx(ctx context.Context, d time.Duration, deadline time.Time) {
	if until := time.Until(deadline); until < d {
		d = until
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// runJob runs j with cfg.Concurrency workers until cfg.Duration passes or
// cfg.Count operations were started. Sessions are opened before the clock
// starts; an operation that fails counts an error and its session is
// replaced.
func runJob(ctx context.Context, cfg Config, j job) *Result {
	sources := j.target.Sources(cfg.Sources)
	errs := &errorCounter{}
	lat := NewHistogram()
	thr := NewHistogram()
	var ops, bytes, claimed atomic.Int64

	workers := make([]*worker, cfg.Concurrency)
	for i := range workers {
		workers[i] = &worker{
			id:   i,
			cfg:  cfg,
			src:  sources[i%len(sources)],
			sink: NewSink(cfg.Splice),
			rng:  rand.New(rand.NewPCG(uint64(i), 0x6674706265e6368)),
			dir:  -1,
		}
	}
	defer func() {
		for _, w := range workers {
			w.drop()
			w.sink.Close()
			if w.file != nil {
				w.file.Close()
			}
		}
	}()
	// Cancellation closes the control connections so nothing waits for a
	// command's timeout.
	stopClose := context.AfterFunc(ctx, func() {
		for _, w := range workers {
			if c := w.held.Load(); c != nil {
				c.Close()
			}
		}
	})
	defer stopClose()

	// Set-up: per-worker preparation and sessions, before the clock starts.
	setupStart := time.Now()
	setupDeadline := setupStart.Add(cfg.Timeout)
	var setupDone atomic.Int64
	stopProgress := startProgress(ctx, cfg, func(elapsed time.Duration) Progress {
		return Progress{Scenario: j.name, Phase: "connecting", Elapsed: elapsed, Done: int(setupDone.Load()), Of: len(workers), Errors: errs.n.Load()}
	})
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			defer setupDone.Add(1)
			if j.prepare != nil {
				if err := j.prepare(w); err != nil {
					errs.add(fmt.Errorf("prepare: %w", err))
					w.bad = true
					return
				}
			}
			if j.session && ctx.Err() == nil && time.Now().Before(setupDeadline) {
				c, err := openSession(ctx, cfg, j.target, w.src)
				if err != nil {
					errs.add(err)
					return
				}
				w.setConn(c)
			}
		})
	}
	wg.Wait()
	stopProgress()

	cpu0, cpuErr := serverCPU(cfg)
	self0, selfErr := ownCPU()
	busy := func() time.Duration { return 0 }
	if cfg.SharedCPU {
		busy = busySince(procRoot(cfg), cfg.Pin.Server)
	}
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	stopProgress = startProgress(ctx, cfg, func(elapsed time.Duration) Progress {
		return Progress{Scenario: j.name, Elapsed: elapsed, Duration: cfg.Duration, Ops: ops.Load(), Errors: errs.n.Load(), Bytes: bytes.Load()}
	})
	for _, w := range workers {
		if w.bad {
			continue
		}
		wg.Go(func() {
			backoff := 10 * time.Millisecond
			// With a rate, each worker starts its operations on its own
			// schedule (staggered), and latency counts from the scheduled
			// start, so a late server is not hidden by a late client.
			var interval time.Duration
			var next time.Time
			if cfg.Rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(len(workers)) / cfg.Rate)
				next = start.Add(interval * time.Duration(w.id) / time.Duration(len(workers)))
			}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if interval > 0 {
					sleepCtx(ctx, time.Until(next), deadline)
					if ctx.Err() != nil || !time.Now().Before(deadline) {
						return
					}
				}
				if cfg.Count > 0 && claimed.Add(1) > cfg.Count {
					return
				}
				if j.session && w.conn == nil {
					c, err := openSession(ctx, cfg, j.target, w.src)
					if err != nil {
						if ctx.Err() == nil {
							errs.add(err)
						}
						claimed.Add(-1)
						sleepCtx(ctx, backoff, deadline)
						backoff = min(2*backoff, time.Second)
						continue
					}
					w.setConn(c)
				}
				w.seq++
				t0 := time.Now()
				if interval > 0 {
					t0 = next
					next = next.Add(interval)
				}
				n, err := j.op(ctx, w)
				d := time.Since(t0)
				bytes.Add(n)
				if err != nil {
					if ctx.Err() == nil {
						errs.add(err)
					}
					w.drop()
					continue
				}
				backoff = 10 * time.Millisecond
				ops.Add(1)
				lat.RecordDuration(d)
				if j.perStream && d > 0 {
					thr.Record(int64(float64(n) / d.Seconds()))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, cpuErr1 := serverCPU(cfg)
	self1, selfErr1 := ownCPU()
	shared := busy()
	stopProgress()

	r := &Result{
		Concurrency: cfg.Concurrency,
		Mode:        cfg.Mode.String(),
		Seconds:     elapsed.Seconds(),
		Ops:         ops.Load(),
		Unit:        j.unit,
		Bytes:       bytes.Load(),
		Latency:     lat.Summary(),
		Errors:      errs.n.Load(),
		ErrorKinds:  errs.snapshot(),
		Rate:        cfg.Rate,
	}
	if s := elapsed.Seconds(); s > 0 {
		r.OpsPerSec = float64(r.Ops) / s
		r.BytesPerSec = float64(r.Bytes) / s
	}
	if j.perStream {
		r.StreamBytesPerSec = float64(thr.Quantile(0.5))
	}
	if selfErr == nil && selfErr1 == nil && self1 > self0 {
		r.ClientCPU = (self1 - self0).Seconds()
	}
	r.SharedCPU = shared.Seconds()
	// A forking server's CPU count can fall when a session process exits
	// unreaped by the tree (its time then goes elsewhere): no figure then.
	if cfg.PID > 0 && cpuErr == nil && cpuErr1 == nil && cpu1 > cpu0 {
		r.ServerCPU = (cpu1 - cpu0).Seconds()
		if r.Ops > 0 {
			r.ServerCPUPerOp = r.ServerCPU / float64(r.Ops)
			r.Notes = append(r.Notes, fmt.Sprintf("server CPU: %.2f cores, %s per %s",
				r.ServerCPU/elapsed.Seconds(), FormatLatency(int64(r.ServerCPUPerOp*1e9)), strings.TrimSuffix(j.unit, "s")))
		}
	}
	if cfg.Rate > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("paced at %s operations/s in all (latency from each scheduled start)", FormatRate(cfg.Rate)))
	}
	if len(sources) > 1 {
		r.Notes = append(r.Notes, fmt.Sprintf("sockets spread over %d source addresses", len(sources)))
	}
	if j.notes != nil {
		r.Notes = append(r.Notes, j.notes()...)
	}
	return r
}

// startProgress calls cfg.Progress about once a second until the returned
// function is called.
func startProgress(ctx context.Context, cfg Config, snap func(time.Duration) Progress) func() {
	if cfg.Progress == nil {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tk.C:
				cfg.Progress(snap(time.Since(start)))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// sortedKinds returns error kinds by count, most frequent first.
func sortedKinds(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}

// serverCPU reads the CPU time of cfg.PID and its descendants (0 without a PID).
func serverCPU(cfg Config) (time.Duration, error) {
	if cfg.PID <= 0 {
		return 0, nil
	}
	return CPUTime(procRoot(cfg), cfg.PID)
}

// ownCPU is the CPU time of this process alone: not of its descendants,
// which under ftpbench compare include the server being measured, nor of
// children it has reaped.
func ownCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

func procRoot(cfg Config) string {
	if cfg.ProcRoot == "" {
		return "/proc"
	}
	return cfg.ProcRoot
}
