// Session: the per-connection server-PI, its inputs (lines, events, time) and its queue.
package protocol

import (
	"bytes"
	"time"
)

// endpoint is the data endpoint the next transfer will use.
type endpoint uint8

const (
	endpointNone    endpoint = iota // no PASV/EPSV/PORT/EPRT since the last transfer
	endpointPassive                 // a passive listener was announced (227/229)
	endpointActive                  // the client's address was accepted (PORT/EPRT)
)

// queuedLine is a line received while a request was in flight.
type queuedLine struct {
	line    []byte // a copy: the caller reuses its buffer
	tooLong bool   // stands for a line the reactor discarded (LineTooLong)
	at      int64  // when it arrived, in Unix nanoseconds (with a Meter only)
}

// Session is one control connection's protocol interpreter. It is not safe
// for concurrent use: the reactor calls it only on the event loop.
//
// Between calls an idle session holds no buffers: Output's slices are handed
// over by TakeOutput and the queue is released once it drains.
type Session struct {
	cfg  *Config
	info ConnInfo
	out  Output

	state state
	mOpen uint8 // the Meter's marks: markCmd, markAbor, markQuit (meter.go)
	mVerb uint8 // the verb index of markCmd's command

	// OPTS HASH's choice, 0 for SHA-256, the default (cmd_hash.go; placed
	// in what was padding).
	hashAlgo HashAlgo

	queue []queuedLine

	// FTPS (RFC 4217).
	secure  bool // the control connection is protected
	pbsz    bool // PBSZ was given since it became protected
	protP   bool // PROT P: data connections are protected
	authP   bool // the AUTH in progress was SSL or TLS-P: PROT P once secured
	tlsData bool // the login must use PROT P for transfers (EvLogin.TLSData)
	greeted bool // the 220 greeting went out (after EvTLS on an implicit listener)

	// Login.
	user     string // from USER; kept for STAT after login
	perms    Perm   // from EvLogin
	mAborMs  uint32 // markAbor's arrival (meter.go; placed in what was padding)
	failures int    // refused passwords in this session

	// Transfer parameters and pending arguments.
	cwd      string // absolute, clean
	binary   bool   // TYPE I (false: TYPE A, the RFC 959 default)
	epsvAll  bool   // EPSV ALL: PORT, EPRT and PASV refused
	hidden   Facts  // facts OPTS MLST deselected (zero: all are returned)
	modeZ    bool   // MODE Z: data connections carry a zlib stream
	zLevel   int8   // OPTS MODE Z LEVEL (0: the configured default)
	endpoint endpoint
	rest     int64  // REST offset for the next RETR/STOR
	rnfr     string // source accepted by RNFR, for the next command only

	// RANG's range for the next command only, nil when none (cmd_hash.go).
	rang *byteRange

	// The command running now, and the one waiting on a worker with its
	// arguments.
	cur       *command
	wait      *command
	waitPath  string
	waitPath2 string

	// The transfer in flight.
	xferKind     XferKind
	mQuitMs      uint32    // markQuit's arrival (meter.go; placed in what was padding)
	progress     *progress // the transfer's EvTransferStart.Progress and STAT's samples of it; nil: none
	abortCmd     bool      // ABOR received: it is answered after the transfer's reply
	abortTimeout bool      // the data or stall timer fired and sent ReqAbort
	abortSlow    bool      // ... because the transfer moved less than MinRate

	// Endings deferred until what is in flight has its reply (placed
	// beside the flags above, in what was padding).
	quitPending     bool // QUIT during a transfer: 221 after it
	shutdownPending bool // Shutdown while busy: 421 after it

	lastBytes int64 // Progress at the last stall check
	rateBytes int64 // Progress at the start of the current rate window

	// Timers (zero: not armed).
	loginDeadline time.Time
	failDeadline  time.Time // when the delayed 530 of a refused login is due
	dataDeadline  time.Time // data connection set-up, then the stall check while transferring
	rateDeadline  time.Time // the end of the current MinRate window while transferring
	lastDone      time.Time // when the last command completed: idle timer base

	// Diagnostics for tests.
	ignored int   // events that arrived in a state not expecting them
	dropped int   // lines queued behind AUTH, dropped unanswered (cmdAUTH)
	bug     error // an illegal transition, see setState

	// Metering (meter.go), with a Config.Meter only: the time of the call
	// being handled and markCmd's arrival, in Unix nanoseconds.
	mNow int64
	mAt  int64
}

// NewSession starts a session; its greeting is in the first TakeOutput.
func NewSession(cfg *Config, info ConnInfo, now time.Time) *Session {
	if cfg == nil {
		c := DefaultConfig()
		cfg = &c
	}
	s := &Session{cfg: cfg, info: info, cwd: "/", lastDone: now}
	if cfg.LoginTimeout > 0 {
		s.loginDeadline = now.Add(cfg.LoginTimeout)
	}
	if cfg.Implicit {
		// TLS first: the greeting goes out through it, after EvTLS.
		s.emit(ReqStartTLS{})
		s.setState(stTLS)
		return s
	}
	s.greeted = true
	s.reply(codeServiceReady, cfg.Banner)
	return s
}

// queueLimit is the number of lines that may wait behind a busy command:
// MaxQueued, at least 1 so that ABOR, STAT and QUIT can reach a transfer.
func (s *Session) queueLimit() int {
	if s.cfg.MaxQueued < 1 {
		return 1
	}
	return s.cfg.MaxQueued
}

// Ready reports whether the session takes another line now. It is false while
// MaxQueued commands wait behind one in progress: the caller must keep the
// line and offer it again after the next Event. It is also false once the
// session is closing or has accepted a QUIT, when lines would be ignored.
func (s *Session) Ready() bool {
	return s.state != stClosing && s.state != stTLS && !s.quitPending && len(s.queue) < s.queueLimit()
}

// Line handles one command line: CRLF removed, Telnet sequences already
// stripped, at most the reactor's line limit long. It is processed at once
// or queued behind a command that waits on a worker (ABOR, STAT and QUIT are
// handled at once during a transfer). line is not retained.
func (s *Session) Line(line []byte, now time.Time) {
	s.input(queuedLine{line: line}, now)
}

// LineTooLong tells the session that a line over the limit was discarded;
// it answers 500 in that line's turn.
func (s *Session) LineTooLong(now time.Time) {
	s.input(queuedLine{tooLong: true}, now)
}

// input runs or queues one line.
func (s *Session) input(q queuedLine, now time.Time) {
	if s.state == stClosing || s.quitPending {
		return
	}
	s.clock(now)
	q.at = s.mNow
	if !stateTable[s.state].busy {
		s.run(q, now)
		s.settle(now)
		return
	}
	if stateTable[s.state].xfer && !q.tooLong {
		if c := urgentCommand(q.line); c != nil && !(c.verb == "ABOR" && s.abortCmd) {
			s.runUrgent(q, c, now) // the handlers know a transfer is in flight
			return
		}
	}
	if len(s.queue) >= s.queueLimit() {
		// The reactor should have waited for Ready; refuse rather than grow.
		s.reply(codeNotAvailable, "Too many commands queued, closing control connection.")
		s.close()
		return
	}
	q.line = bytes.Clone(q.line)
	s.queue = append(s.queue, q)
}

// run executes one line (or the too-long marker) now.
func (s *Session) run(q queuedLine, now time.Time) {
	if q.tooLong {
		s.rnfr = ""
		s.markLine(q.at)
		s.reply(codeSyntaxError, "Line too long.")
		return
	}
	s.markLine(q.at)
	s.execute(q.line, now)
}

// settle runs after anything that may have ended a wait: once nothing is in
// flight it sends a deferred 221 or 421, or runs the queued lines in order
// until one of them waits again.
func (s *Session) settle(now time.Time) {
	for s.state != stClosing && !stateTable[s.state].busy {
		s.lastDone = now
		switch {
		case s.quitPending:
			s.unmark(markQuit, s.mQuitMs, "QUIT")
			s.reply(codeClosingControl, "Goodbye.")
			s.close()
			return
		case s.shutdownPending:
			s.reply(codeNotAvailable, "Server shutting down.")
			s.close()
			return
		case len(s.queue) == 0:
			s.queue = nil // an idle session keeps no queue storage
			return
		}
		q := s.queue[0]
		s.queue[0] = queuedLine{}
		s.queue = s.queue[1:]
		s.run(q, now)
	}
}

// close ends the session: Close is set and everything after is ignored.
func (s *Session) close() {
	s.setState(stClosing)
	s.mOpen = 0 // what was not answered now never will be
	s.out.Close = true
	s.queue = nil
	s.progress = nil
}

// emit queues a request for the DTP.
func (s *Session) emit(r Request) {
	s.out.Requests = append(s.out.Requests, r)
}

// await emits r and enters the waiting state st; the running command's done
// handler gets the answer, with path and path2 kept for it. Every path a
// command hands the DTP passes here, so this is where a reserved name is
// refused (refuseReserved) and nothing is emitted.
func (s *Session) await(st state, r Request, path, path2 string) {
	if s.refuseReserved(path, path2) {
		return
	}
	s.wait = s.cur
	s.waitPath, s.waitPath2 = path, path2
	s.emit(r)
	s.setState(st)
}

// Event delivers a worker's answer to an earlier request. An event the
// current state does not expect is ignored (see state.go).
func (s *Session) Event(ev Event, now time.Time) {
	s.clock(now)
	ev, kind, ok := kindOf(ev)
	if !ok || stateTable[s.state].expects&kind == 0 {
		s.ignored++
		return
	}
	switch e := ev.(type) {
	case EvTransferStart:
		if s.abortCmd || s.abortTimeout {
			s.ignored++ // too late: ReqAbort is on its way and 150 would mislead
			return
		}
		s.transferStarted(e, now)
		return
	case EvTransferDone:
		s.transferDone(e)
	case EvTLS:
		s.tlsDone(e)
		if s.state == stClosing {
			return
		}
	default:
		waiting := s.state
		if waiting != stCheckPass {
			s.setState(stIdle) // donePASS picks the state after a login itself
		}
		if c := s.wait; c != nil && c.done != nil {
			c.done(s, ev, now)
		}
		if s.state == waiting { // no done handler moved on: never stay stuck
			s.setState(stAwaitUser)
		}
		s.wait = nil
		s.waitPath, s.waitPath2 = "", ""
	}
	s.settle(now)
}

// Tick lets the session act on its timers; call it at or after Deadline.
// An early call does nothing.
func (s *Session) Tick(now time.Time) {
	if s.state == stClosing {
		return
	}
	s.clock(now)
	if !s.loginDeadline.IsZero() && !now.Before(s.loginDeadline) {
		s.reply(codeNotAvailable, "Login timeout, closing control connection.")
		s.close()
		return
	}
	if !s.failDeadline.IsZero() && !now.Before(s.failDeadline) {
		s.failDeadline = time.Time{}
		s.loginRefused(now)
		if s.state == stClosing {
			return
		}
	}
	if d := s.idleDeadline(); !d.IsZero() && !now.Before(d) {
		s.reply(codeNotAvailable, "Idle timeout, closing control connection.")
		s.close()
		return
	}
	if !s.dataDeadline.IsZero() && !now.Before(s.dataDeadline) {
		s.dataDeadline = time.Time{}
		switch {
		case s.abortCmd || s.abortTimeout:
		case s.state == stXferPending:
			s.abortTimeout = true
			s.emit(ReqAbort{})
		case s.state == stXferring && s.progress != nil:
			if b := s.progress.read(); b != s.lastBytes {
				s.lastBytes = b
				s.dataDeadline = now.Add(s.cfg.StallTimeout)
				return
			}
			s.abortTimeout = true
			s.emit(ReqAbort{})
		}
	}
	if !s.rateDeadline.IsZero() && !now.Before(s.rateDeadline) {
		s.rateDeadline = time.Time{}
		if s.state != stXferring || s.progress == nil || s.abortCmd || s.abortTimeout {
			return
		}
		b := s.progress.read()
		if float64(b-s.rateBytes) < float64(s.cfg.MinRate)*s.cfg.RateWindow.Seconds() {
			s.abortTimeout, s.abortSlow = true, true
			s.emit(ReqAbort{})
			return
		}
		s.rateBytes = b
		s.rateDeadline = now.Add(s.cfg.RateWindow)
	}
}

// idleDeadline is when the idle timer fires: IdleTimeout after the last
// command completed, and never while something is in flight.
func (s *Session) idleDeadline() time.Time {
	if s.cfg.IdleTimeout <= 0 || stateTable[s.state].busy || s.state == stClosing {
		return time.Time{}
	}
	return s.lastDone.Add(s.cfg.IdleTimeout)
}

// Deadline is when the session next needs Tick (zero: no timer): the
// earliest of the login deadline (until logged in), the idle deadline
// (nothing in flight), the data connection set-up or stall deadline and the
// due time of a delayed login refusal.
func (s *Session) Deadline() time.Time {
	if s.state == stClosing {
		return time.Time{}
	}
	d := s.loginDeadline
	for _, t := range [...]time.Time{s.idleDeadline(), s.dataDeadline, s.rateDeadline, s.failDeadline} {
		if !t.IsZero() && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	return d
}

// Shutdown asks the session to end for a server shutdown: an idle session
// answers 421 and closes at once; one with a request in flight (a transfer,
// a password check, a file op) closes after that request's reply. Queued
// lines are dropped.
func (s *Session) Shutdown(now time.Time) {
	if s.state == stClosing {
		return
	}
	s.clock(now)
	s.shutdownPending = true
	s.settle(now)
}

// TakeOutput returns what the session produced since the last call and
// resets it. The returned slices belong to the caller: the session keeps no
// reference to them.
func (s *Session) TakeOutput() Output {
	o := s.out
	s.out = Output{}
	return o
}
