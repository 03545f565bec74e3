// The slow-get scenario: many downloads of one large file by clients that read it slowly, and what they cost the server in memory and kernel TCP buffers.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Slow-get bounds.
const (
	slowChunkMin = 4 << 10  // bytes a slow client asks of one read, at least
	slowChunkMax = 64 << 10 // and at most (a quarter second's worth in between)
	// slowDrain bounds the wait for the server's send queues to empty once
	// the transfers are aborted.
	slowDrain = 10 * time.Second
)

// SlowResult holds what only slow-get measures. Memory figures are bytes.
type SlowResult struct {
	Requested int    `json:"requested"`
	Running   int    `json:"running"`             // transfers still reading when sampled
	Completed int    `json:"completed,omitempty"` // transfers that reached the end of the file before the sample
	Sources   int    `json:"sources"`
	File      string `json:"file"`
	Rate      int64  `json:"rate"`   // bytes/s each client reads
	RcvBuf    int    `json:"rcvbuf"` // SO_RCVBUF asked of each data connection (0: not set)
	// StartSeconds is how long it took until every transfer had its first
	// bytes (or had failed).
	StartSeconds float64 `json:"start_seconds"`
	// The server's processes (with Config.PID): before the sessions, and
	// at the sample.
	Before Memory `json:"memory_before,omitzero"`
	During Memory `json:"memory,omitzero"`
	// The server's TCP sockets at the sample (with Config.PID), and once
	// every transfer was aborted and the server's send queues emptied (or
	// slowDrain passed: DrainSeconds).
	Sockets      SockMem `json:"sockets,omitzero"`
	SocketsAfter SockMem `json:"sockets_after,omitzero"`
	DrainSeconds float64 `json:"drain_seconds,omitempty"`
	// TCP memory of the whole system (/proc/net/sockstat: both ends of
	// every connection, every process) before the sessions and at the
	// sample.
	SysTCPBefore int64 `json:"sys_tcp_before,omitempty"`
	SysTCP       int64 `json:"sys_tcp,omitempty"`
	// SysTCPPressure and SysTCPLimit are net.ipv4.tcp_mem's pressure
	// threshold and hard limit, in bytes: past the first the kernel holds
	// every socket's buffers down, past the second it refuses them.
	SysTCPPressure int64 `json:"sys_tcp_pressure,omitempty"`
	SysTCPLimit    int64 `json:"sys_tcp_limit,omitempty"`
	// Pressure is how often, and how long, the kernel was under TCP
	// memory pressure from before the sessions to the sample (system-wide:
	// /proc/net/netstat).
	Pressure TCPPressure `json:"pressure,omitzero"`
	// AbortReplies counts the replies to the transfers once their data
	// connections were closed, by code.
	AbortReplies map[int]int `json:"abort_replies,omitempty"`
	// Healthy: afterwards a new session logged in and answered NOOP.
	Healthy bool `json:"healthy"`
}

// per divides v among the running transfers.
func (s *SlowResult) per(v int64) float64 { return float64(v) / float64(max(1, s.Running)) }

// TCPPerTransfer is the kernel memory of the server's sockets per running
// transfer, or when the server's sockets are unknown the growth of the
// system's TCP memory per transfer (system is then true).
func (s *SlowResult) TCPPerTransfer() (v float64, system bool) {
	if s.Sockets.Sockets > 0 {
		return s.per(s.Sockets.Mem), false
	}
	return s.per(s.SysTCP - s.SysTCPBefore), true
}

// pressureNote says when the kernel held TCP buffers down during the run:
// the system's TCP memory reached net.ipv4.tcp_mem's hard limit, or it
// was under pressure; "" when neither.
func (s *SlowResult) pressureNote() string {
	b := func(v int64) string { return FormatBytes(float64(v)) }
	switch {
	case s.SysTCPLimit > 0 && s.SysTCP >= s.SysTCPLimit:
		return fmt.Sprintf("the system's TCP memory reached net.ipv4.tcp_mem's hard limit (%s): the kernel refused sockets more buffers, so the figures are the limit's, not the server's own need", b(s.SysTCPLimit))
	case s.Pressure.Entered > 0 || s.Pressure.Spent > 0:
		times := "once"
		if s.Pressure.Entered != 1 {
			times = fmt.Sprintf("%d times", s.Pressure.Entered)
		}
		return fmt.Sprintf("the kernel was under TCP memory pressure for %.1fs of the run (entered %s; net.ipv4.tcp_mem's pressure threshold is %s, its limit %s): it held every socket's buffers down, so the figures are below the server's own need",
			s.Pressure.Spent.Seconds(), times, b(s.SysTCPPressure), b(s.SysTCPLimit))
	}
	return ""
}

// slowXfer is one slow download.
type slowXfer struct {
	data    atomic.Pointer[net.Conn] // the data connection while it is read
	bytes   atomic.Int64
	running atomic.Bool // its first bytes came
	ended   atomic.Bool // it stopped before the sample: completed, or failed
	done    atomic.Bool // it read to the end of the file
	reply   int         // the reply once the client closed the data connection (0: none)
}

// read reads d at rate bytes/s with reads of len(buf) until the file ends,
// stop is closed (then it returns no error whatever the read said) or a
// read fails. first is called once, with the first bytes.
func (x *slowXfer) read(d net.Conn, rate int64, buf []byte, timeout time.Duration, stop <-chan struct{}, first func()) (int64, error) {
	start := time.Now()
	var got int64
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for {
		d.SetReadDeadline(time.Now().Add(timeout))
		k, err := d.Read(buf)
		if k > 0 {
			if got == 0 {
				first()
			}
			got += int64(k)
			x.bytes.Add(int64(k))
		}
		if stopped() {
			return got, nil
		}
		if err == io.EOF {
			x.done.Store(true)
			return got, nil
		}
		if err != nil {
			return got, err
		}
		due := start.Add(time.Duration(float64(got) / float64(rate) * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-stop:
				t.Stop()
				return got, nil
			case <-t.C:
			}
		}
	}
}

func runSlowGet(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Layout.SlowFile == "" {
		return nil, errors.New("bench: slow-get: the layout names no slow file (ftpbench mkdata makes slow/100MiB.bin)")
	}
	n := cfg.Sessions
	p := cfg.Target.Join(cfg.Layout.SlowFile)
	if err := checkFiles(cfg, 2*n); err != nil { // a control and a data connection each
		return nil, err
	}
	sources := cfg.Target.Sources(cfg.Sources)
	rcvbuf := max(cfg.SlowRcvBuf, 0)
	sr := &SlowResult{Requested: n, Sources: len(sources), File: p, Rate: cfg.SlowRate, RcvBuf: rcvbuf}
	openers := min(maxOpeners, max(cfg.Concurrency, 32), n)
	r := &Result{Unit: "transfers", Concurrency: n, Mode: cfg.Mode.String(), Slow: sr}
	root := procRoot(cfg)
	if cfg.PID > 0 {
		m, err := ProcessMemory(root, cfg.PID)
		if err != nil {
			return nil, err
		}
		sr.Before = m
	}
	page := int64(os.Getpagesize())
	if st, err := ReadSockstat(root); err == nil {
		sr.SysTCPBefore = st.MemPages * page
	}
	if _, pressure, high, err := ReadTCPMem(root); err == nil {
		sr.SysTCPPressure, sr.SysTCPLimit = pressure*page, high*page
	}
	pressure0, pressureErr := ReadTCPPressure(root)

	errs := &errorCounter{}
	lat := NewHistogram()
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	defer halt()
	xs := make([]*slowXfer, n)
	var settled atomic.Int64 // transfers running or failed
	slots := make(chan struct{}, openers)
	chunk := int(min(max(cfg.SlowRate/4, slowChunkMin), slowChunkMax))
	start := time.Now()
	var wg sync.WaitGroup
	for i := range xs {
		x := &slowXfer{}
		xs[i] = x
		src := sources[i%len(sources)]
		wg.Go(func() {
			var once sync.Once
			settle := func() { once.Do(func() { settled.Add(1); <-slots }) }
			defer settle()
			select {
			case slots <- struct{}{}:
			case <-stop:
				once.Do(func() { settled.Add(1) })
				return
			}
			c, err := openSession(ctx, cfg, cfg.Target, src)
			if err != nil {
				if ctx.Err() == nil {
					errs.add(err)
				}
				return
			}
			defer c.Close()
			c.rcvbuf = rcvbuf
			buf := make([]byte, chunk)
			t0 := time.Now()
			_, err = c.transfer(ctx, cfg.Mode, "RETR "+p, func(d net.Conn) (int64, error) {
				x.data.Store(&d)
				k, err := x.read(d, cfg.SlowRate, buf, cfg.Timeout, stop, func() {
					lat.RecordDuration(time.Since(t0))
					x.running.Store(true)
					settle()
				})
				x.ended.Store(true)
				// The control connection waited all along: its reply
				// gets a timeout of its own.
				c.c.SetDeadline(time.Now().Add(c.timeout))
				return k, err
			})
			x.ended.Store(true)
			var re *ReplyError
			switch {
			case err == nil:
				x.reply = 226
			case errors.As(err, &re) && re.Cmd == "RETR" && x.running.Load():
				x.reply = re.Code // the server's word on the closed data connection
			default:
				if ctx.Err() == nil {
					errs.add(err)
				}
				return
			}
			if err := c.Quit(); err != nil && ctx.Err() == nil {
				errs.add(fmt.Errorf("QUIT after the transfer: %w", err))
			}
		})
	}
	running := func() (run, done int) {
		for _, x := range xs {
			switch {
			case x.running.Load() && !x.ended.Load():
				run++
			case x.ended.Load() && x.done.Load():
				done++
			}
		}
		return
	}
	var delivered atomic.Int64 // bytes since the window opened
	var windowStart atomic.Int64
	bytesNow := func() int64 {
		var b int64
		for _, x := range xs {
			b += x.bytes.Load()
		}
		return b
	}
	stopProgress := startProgress(ctx, cfg, func(elapsed time.Duration) Progress {
		if windowStart.Load() == 0 {
			return Progress{Scenario: "slow-get", Phase: "starting transfers", Elapsed: elapsed, Done: int(settled.Load()), Of: n, Errors: errs.n.Load()}
		}
		run, _ := running()
		return Progress{Scenario: "slow-get", Elapsed: time.Since(time.Unix(0, windowStart.Load())), Duration: cfg.Duration,
			Ops: int64(run), Errors: errs.n.Load(), Bytes: bytesNow() - delivered.Load()}
	})
	for settled.Load() < int64(n) && ctx.Err() == nil {
		sleepCtx(ctx, 50*time.Millisecond, time.Now().Add(time.Second))
	}
	sr.StartSeconds = time.Since(start).Seconds()
	run0, _ := running()
	cfg.logf("slow-get: %d of %d transfers running after %.1fs; measuring for %v", run0, n, sr.StartSeconds, cfg.Duration)

	// The window: delivery is timed over it, memory sampled at its end.
	b0, t0 := bytesNow(), time.Now()
	delivered.Store(b0)
	windowStart.Store(t0.UnixNano())
	sleepCtx(ctx, cfg.Duration, t0.Add(cfg.Duration))
	elapsed := time.Since(t0)
	b1 := bytesNow()
	sr.Running, sr.Completed = running()
	if cfg.PID > 0 {
		if m, err := ProcessMemory(root, cfg.PID); err == nil {
			sr.During = m
		} else {
			errs.add(err)
		}
		if m, err := ServerSockets(root, cfg.PID); err == nil {
			sr.Sockets = m
		} else {
			errs.add(err)
		}
	}
	if st, err := ReadSockstat(root); err == nil {
		sr.SysTCP = st.MemPages * page
	}
	if p1, err := ReadTCPPressure(root); err == nil && pressureErr == nil {
		sr.Pressure = TCPPressure{Entered: p1.Entered - pressure0.Entered, Spent: p1.Spent - pressure0.Spent}
	}
	stopProgress()

	// Abort: close every data connection (unread data makes it a reset),
	// read the server's reply, QUIT.
	halt()
	for _, x := range xs {
		if d := x.data.Load(); d != nil {
			(*d).SetReadDeadline(time.Now()) // wakes a read in progress
		}
	}
	wg.Wait()
	for _, x := range xs {
		if x.reply != 0 {
			if sr.AbortReplies == nil {
				sr.AbortReplies = map[int]int{}
			}
			sr.AbortReplies[x.reply]++
		}
	}
	if cfg.PID > 0 {
		drained := time.Now()
		for {
			m, err := ServerSockets(root, cfg.PID)
			if err != nil {
				errs.add(fmt.Errorf("after the transfers: %w", err))
				break
			}
			sr.SocketsAfter = m
			if m.Queued == 0 || time.Since(drained) > slowDrain || ctx.Err() != nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		sr.DrainSeconds = time.Since(drained).Seconds()
	}
	if ctx.Err() == nil {
		if c, err := openSession(ctx, cfg, cfg.Target, sources[0]); err != nil {
			errs.add(fmt.Errorf("a new session after the transfers: %w", err))
		} else {
			if _, err := c.Expect("NOOP", 200); err != nil {
				errs.add(fmt.Errorf("a new session after the transfers: %w", err))
			} else {
				sr.Healthy = true
			}
			c.Quit()
		}
	}

	r.Ops = int64(sr.Running)
	r.Seconds = elapsed.Seconds()
	r.Bytes = b1 - b0
	if s := elapsed.Seconds(); s > 0 {
		r.BytesPerSec = float64(r.Bytes) / s
	}
	if sr.Running > 0 {
		r.StreamBytesPerSec = r.BytesPerSec / float64(sr.Running)
	}
	if sr.StartSeconds > 0 {
		r.OpsPerSec = float64(run0) / sr.StartSeconds
	}
	r.Latency = lat.Summary()
	r.Errors = errs.n.Load()
	r.ErrorKinds = errs.snapshot()
	r.Notes = append(r.Notes, slowNotes(sr, r.BytesPerSec, elapsed)...)
	return r, nil
}

// slowNotes describes a slow-get result: what ran, the server's memory and
// the kernel's TCP memory, in total and per running transfer.
func slowNotes(s *SlowResult, delivered float64, window time.Duration) []string {
	b := func(v int64) string { return FormatBytes(float64(v)) }
	per := func(v int64) string { return FormatBytes(s.per(v)) }
	buf := "the system's autotuned receive buffer"
	if s.RcvBuf > 0 {
		buf = "SO_RCVBUF " + b(int64(s.RcvBuf))
	}
	notes := []string{
		fmt.Sprintf("%d of %d transfers running over %d source addresses, each reading %s at %s/s (%s); all started in %.1fs; rate is transfers started per second, latency from EPSV to the first byte",
			s.Running, s.Requested, s.Sources, s.File, b(s.Rate), buf, s.StartSeconds),
		fmt.Sprintf("delivered %s/s in all over %.1fs: %s/s per running transfer", FormatBytes(delivered), window.Seconds(), FormatBytes(delivered/float64(max(1, s.Running)))),
	}
	if s.Completed > 0 {
		notes = append(notes, fmt.Sprintf("%d transfers reached the end of the file before the sample: use a larger file or a lower rate", s.Completed))
	}
	if s.During.Procs > 0 {
		procs := "1 process"
		if s.During.Procs != 1 {
			procs = fmt.Sprintf("%d processes", s.During.Procs)
		}
		m := fmt.Sprintf("server memory (%s): RSS %s before, %s during; PSS %s before, %s during: %s RSS and %s PSS per transfer, its session included",
			procs, b(s.Before.RSS), b(s.During.RSS), b(s.Before.PSS), b(s.During.PSS), per(s.During.RSS-s.Before.RSS), per(s.During.PSS-s.Before.PSS))
		if s.During.Procs > 1 {
			m += " (summed RSS counts a page shared by processes once in each)"
		}
		notes = append(notes, m)
	}
	if k := s.Sockets; k.Sockets > 0 {
		notes = append(notes, fmt.Sprintf("server TCP sockets: %d, %s of kernel memory (queues and reserves): %s per transfer; send queues %s per transfer, of which %s not yet sent",
			k.Sockets, b(k.Mem), per(k.Mem), per(k.Queued), per(k.Unsent)))
	}
	if s.SysTCP > 0 {
		notes = append(notes, fmt.Sprintf("system TCP memory (/proc/net/sockstat: both ends of every connection, every process; exact to 1 MiB per CPU): %s before, %s during: %s per transfer",
			b(s.SysTCPBefore), b(s.SysTCP), per(s.SysTCP-s.SysTCPBefore)))
		if n := s.pressureNote(); n != "" {
			notes = append(notes, n)
		}
	}
	var replies []string
	for _, code := range slices.Sorted(maps.Keys(s.AbortReplies)) {
		replies = append(replies, fmt.Sprintf("%d × %d", s.AbortReplies[code], code))
	}
	after := "after closing the data connections: replies " + strings.Join(replies, ", ")
	if len(replies) == 0 {
		after = "after closing the data connections: no replies"
	}
	if k := s.SocketsAfter; k.Sockets > 0 || s.DrainSeconds > 0 {
		after += fmt.Sprintf("; %.1fs later the server's %d sockets held %s in send queues and %s of kernel memory", s.DrainSeconds, k.Sockets, b(k.Queued), b(k.Mem))
	}
	if s.Healthy {
		after += "; a new session answered NOOP"
	}
	return append(notes, after)
}
