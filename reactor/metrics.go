// Metrics: the reactor's counters as plain atomics, the protocol.Meter its sessions count through, and their snapshots.
package reactor

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/rftpd/rftpd/protocol"
)

// The counters are written on the loop and read by whoever asks for
// Stats, so each is an atomic: on the loop a count is one atomic add into
// a fixed array, with no lock and no allocation (BenchmarkMeterCommand).
// Prometheus is not imported here; cmd/rftpd turns the snapshots into
// metrics at scrape time.

// numBuckets is the number of finite bounds of each latency histogram.
const numBuckets = 16

// commandBounds are the bounds of the command latency histograms: a
// command answered on the loop takes no time by the loop's clock; one
// answered after a worker takes its queueing and the work.
var commandBounds = [numBuckets]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// transferBounds are the bounds of the transfer duration histograms.
var transferBounds = [numBuckets]time.Duration{
	time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour,
}

// histogram counts durations into fixed buckets; observe is lock- and
// allocation-free.
type histogram struct {
	counts [numBuckets + 1]atomic.Uint64 // the last: above every bound
	sum    atomic.Uint64                 // nanoseconds
}

func (h *histogram) observe(bounds *[numBuckets]time.Duration, d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < numBuckets && d > bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(uint64(d))
}

// Histogram is a histogram's snapshot, in Prometheus's form.
type Histogram struct {
	Bounds []float64 // upper bounds, in seconds
	Counts []uint64  // cumulative: observations at or below each bound
	Count  uint64    // every observation
	Sum    float64   // their sum, in seconds
}

func (h *histogram) read(bounds *[numBuckets]time.Duration) Histogram {
	out := Histogram{Bounds: make([]float64, numBuckets), Counts: make([]uint64, numBuckets)}
	for i := range numBuckets {
		out.Count += h.counts[i].Load()
		out.Bounds[i] = bounds[i].Seconds()
		out.Counts[i] = out.Count
	}
	out.Count += h.counts[numBuckets].Load()
	out.Sum = time.Duration(h.sum.Load()).Seconds()
	return out
}

// Direction is a transfer's direction.
type Direction uint8

const (
	Download Direction = iota // RETR
	Upload                    // STOR, APPE, STOU
	Listing                   // LIST, NLST, MLSD
	NumDirections
)

// String names d for metrics labels.
func (d Direction) String() string {
	return [...]string{"download", "upload", "listing"}[min(d, Listing)]
}

func directionOf(k protocol.XferKind) Direction {
	switch k {
	case protocol.XferRetr:
		return Download
	case protocol.XferStor, protocol.XferAppe, protocol.XferStou:
		return Upload
	}
	return Listing
}

// LoginResult is how a password check ended.
type LoginResult uint8

const (
	LoginOK          LoginResult = iota // logged in
	LoginRefused                        // wrong user or password
	LoginTLSRequired                    // the account must log in over TLS
	LoginError                          // the check could not be made (busy, failed)
	NumLoginResults
)

// String names r for metrics labels.
func (r LoginResult) String() string {
	return [...]string{"ok", "refused", "tls_required", "error"}[min(r, LoginError)]
}

// ReplyClasses names the reply classes Stats counts commands by.
var ReplyClasses = [4]string{"2xx", "3xx", "4xx", "5xx"}

// refusal is a refusal the reactor counts itself; the shares count theirs.
type refusal uint8

const (
	refuseDraining      refusal = iota // a session while shutting down
	refuseBan                          // a session from a banned address
	refuseSessionsPerIP                // a session over MaxPerIP
	refusePassivePerIP                 // a passive listener over PassivePerIP
	numRefusals
)

// meter holds the reactor's counters; it is the Meter of every session.
type meter struct {
	commands  [protocol.VerbOther + 1][len(ReplyClasses)]atomic.Uint64
	cmdTime   [protocol.VerbOther + 1]histogram
	xfers     [NumDirections][protocol.NumXferResults]atomic.Uint64
	xferBytes [NumDirections]atomic.Uint64
	xferTime  [NumDirections]histogram
	logins    [NumLoginResults]atomic.Uint64
	refused   [numRefusals]atomic.Uint64
	tlsStart  atomic.Uint64
	tlsOK     atomic.Uint64
	tlsFailed atomic.Uint64
}

// Command counts a command's final reply (protocol.Meter). Loop-only.
func (m *meter) Command(verb, code int, took time.Duration) {
	if verb < 0 || verb > protocol.VerbOther {
		verb = protocol.VerbOther
	}
	c := code/100 - 2
	if c < 0 || c >= len(ReplyClasses) {
		return // the session never sends one
	}
	m.commands[verb][c].Add(1)
	m.cmdTime[verb].observe(&commandBounds, took)
}

// Transfer counts a transfer's end (protocol.Meter). Loop-only.
func (m *meter) Transfer(kind protocol.XferKind, r protocol.XferResult, bytes int64, took time.Duration) {
	d := directionOf(kind)
	if r >= protocol.NumXferResults {
		r = protocol.XferFailed
	}
	m.xfers[d][r].Add(1)
	m.xferBytes[d].Add(uint64(max(bytes, 0)))
	m.xferTime[d].observe(&transferBounds, took)
}

// login counts a password check's answer. Loop-only.
func (m *meter) login(ev protocol.EvLogin) {
	r := LoginError
	switch {
	case errors.Is(ev.Err, protocol.ErrTLSRequired):
		r = LoginTLSRequired
	case ev.Err != nil:
	case ev.OK:
		r = LoginOK
	default:
		r = LoginRefused
	}
	m.logins[r].Add(1)
}

// Stats is a snapshot of the reactor's counters since it started (and of
// a few gauges). Each number is exact; they are not read at one instant.
type Stats struct {
	Commands  []CommandStats // by verb index, protocol.Verbs()
	Transfers [NumDirections]TransferStats
	Logins    [NumLoginResults]uint64
	Refusals  []Refusal
	// TLS handshakes of control connections (AUTH TLS, implicit FTPS)
	// started, and how those that ended did.
	TLSHandshakes struct{ Started, Succeeded, Failed uint64 }
	// Sessions holding a passive listener, and how many may (0: no limit).
	PassiveInUse, PassiveCapacity int
	Sessions                      int // open control connections
}

// CommandStats counts one verb's final replies by class (ReplyClasses).
type CommandStats struct {
	Verb    string
	Replies [len(ReplyClasses)]uint64
	Time    Histogram
}

// TransferStats counts one direction's transfers by result
// (protocol.XferResult), their bytes and durations.
type TransferStats struct {
	Results [protocol.NumXferResults]uint64
	Bytes   uint64
	Time    Histogram
}

// Refusal counts what was refused, and why.
type Refusal struct {
	What   string // session, passive, tls_handshake
	Reason string // draining, ban, per_ip, share
	Count  uint64
}

// Stats reads the counters; safe from any goroutine, never waits on the loop.
func (s *Server) Stats() Stats {
	m := s.meter
	st := Stats{
		Commands:        make([]CommandStats, protocol.VerbOther+1),
		PassiveInUse:    s.guard.passive.Used(),
		PassiveCapacity: s.guard.passive.Capacity(), // s.cfg is the loop's (Reload changes it)
		Sessions:        s.Sessions(),
	}
	verbs := protocol.Verbs()
	for v := range st.Commands {
		c := &st.Commands[v]
		c.Verb = verbs[v]
		for k := range c.Replies {
			c.Replies[k] = m.commands[v][k].Load()
		}
		c.Time = m.cmdTime[v].read(&commandBounds)
	}
	for d := range st.Transfers {
		t := &st.Transfers[d]
		for r := range t.Results {
			t.Results[r] = m.xfers[d][r].Load()
		}
		t.Bytes = m.xferBytes[d].Load()
		t.Time = m.xferTime[d].read(&transferBounds)
	}
	for r := range st.Logins {
		st.Logins[r] = m.logins[r].Load()
	}
	st.Refusals = []Refusal{
		{"session", "draining", m.refused[refuseDraining].Load()},
		{"session", "ban", m.refused[refuseBan].Load()},
		{"session", "per_ip", m.refused[refuseSessionsPerIP].Load()},
		{"session", "share", s.guard.sessions.Refused()},
		{"passive", "per_ip", m.refused[refusePassivePerIP].Load()},
		{"passive", "share", s.guard.passive.Refused()},
		{"tls_handshake", "share", s.guard.handshakes.Refused()},
	}
	st.TLSHandshakes.Started = m.tlsStart.Load()
	st.TLSHandshakes.Succeeded = m.tlsOK.Load()
	st.TLSHandshakes.Failed = m.tlsFailed.Load()
	return st
}

// Phases counts the open sessions by phase and by whether their control
// connection is protected by TLS ([phase][0]: plain, [1]: TLS). It asks
// the loop, which walks its sessions; it gives up when ctx ends first.
func (s *Server) Phases(ctx context.Context) ([protocol.NumPhases][2]int, error) {
	var out [protocol.NumPhases][2]int
	done := make(chan [protocol.NumPhases][2]int, 1)
	err := s.roundTrip(func() {
		var n [protocol.NumPhases][2]int
		for cn := range s.conns {
			tls := 0
			if cn.tls != nil && cn.tls.ready {
				tls = 1
			}
			n[cn.sess.Phase()][tls]++
		}
		done <- n
	})
	if errors.Is(err, errNoLoop) {
		return out, nil
	} else if err != nil {
		return out, err
	}
	select {
	case out = <-done:
		return out, nil
	case <-ctx.Done():
		return out, ctx.Err()
	}
}

// ErrNotRunning: the server is not serving (not started, stopped, or its
// loop is gone).
var ErrNotRunning = errors.New("reactor: not running")

// errNoLoop: the loop is not known yet (the first OnOpen makes it known),
// so it has no session either.
var errNoLoop = errors.New("reactor: no connection yet")

// roundTrip posts fn into the loop.
func (s *Server) roundTrip(fn func()) error {
	if !s.Running() {
		return ErrNotRunning
	}
	if s.loop.Load() == nil {
		return errNoLoop
	}
	if !s.execute(fn) {
		return ErrNotRunning
	}
	return nil
}

// Running reports whether the server serves: Serve has bound its
// listeners and neither stopped nor lost its loop.
func (s *Server) Running() bool {
	select {
	case <-s.ready:
	default:
		return false
	}
	select {
	case <-s.dead:
		return false
	case <-s.stop:
		return false
	default:
		return true
	}
}

// Alive checks that the loop answers within ctx: it runs nothing but a
// round trip.
func (s *Server) Alive(ctx context.Context) error {
	done := make(chan struct{}, 1)
	err := s.roundTrip(func() { done <- struct{}{} })
	if errors.Is(err, errNoLoop) {
		return nil // serving, and no connection has come yet
	} else if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Accepting reports whether new sessions are admitted: the server runs
// and Shutdown has not begun its drain.
func (s *Server) Accepting() bool {
	return s.Running() && !s.stopping.Load()
}
