// Metering: the optional hook told of each command's final reply and each transfer's end, and the session's phase.
package protocol

import (
	"errors"
	"time"
)

// Meter is told, on the caller's goroutine (the reactor's event loop), of
// every command's final reply and every transfer's end. Its methods must
// not block; they are called from inside Line, Event, Tick and Shutdown.
//
// A command counts once, when its final reply goes out: the first reply of
// code 200 or more after its line (a 150 before a transfer's data is not
// final). took runs from the line's arrival, which for a line that waited
// in the queue is when it was read, not when it ran: a CWD answered after
// its worker, a refused PASS answered after LoginFailDelay, a RETR answered
// 226 after its transfer. During a transfer ABOR, STAT and QUIT are served
// at once and counted on their own: ABOR with the reply that follows the
// transfer's (226 or 225), QUIT with the 221 that follows it. Lines that
// get no reply (queued when the session closed, dropped behind AUTH) are
// not counted, nor are replies to no command: the greeting, timeouts of an
// idle session, a shutdown's 421. A reply that closes the session while a
// command waits (a login timeout during a password check) is that
// command's final reply.
type Meter interface {
	// Command: the command whose verb is Verbs()[verb] got its final reply
	// code, took after its line arrived.
	Command(verb int, code int, took time.Duration)
	// Transfer: a transfer command's request ended (EvTransferDone) after
	// moving bytes, took after the command's line arrived.
	Transfer(kind XferKind, result XferResult, bytes int64, took time.Duration)
}

// XferResult is how a transfer ended.
type XferResult uint8

const (
	XferOK      XferResult = iota // all data moved: 226
	XferAborted                   // ABOR, or the data, stall or rate timer stopped it
	XferFailed                    // refused or failed: no data connection, storage error, busy
	NumXferResults
)

// String names r for metrics labels.
func (r XferResult) String() string {
	switch r {
	case XferOK:
		return "ok"
	case XferAborted:
		return "aborted"
	}
	return "failed"
}

// verbNames is Verbs(): the dispatch table's verbs in order, then "other".
var verbNames = func() []string {
	v := make([]string, 0, len(commands)+1)
	for i := range commands {
		v = append(v, commands[i].verb)
	}
	return append(v, "other")
}()

// VerbOther is the index Meter.Command gets for an unknown verb, an empty
// or malformed line and a line over the length limit: the number of rows
// in the dispatch table (a literal, for the handlers refer to it; the
// blank declaration below fails to compile when the table's size differs).
const VerbOther = 54

var _ = [1]struct{}{}[len(commands)-VerbOther]

// Verbs returns the verb of each index Meter.Command may be given: the
// dispatch table's verbs (an alias such as XCWD counts as its verb), then
// "other" at VerbOther. The slice is the caller's.
func Verbs() []string { return append([]string(nil), verbNames...) }

// Phase is a coarse view of a session's state, for metrics.
type Phase uint8

const (
	PhaseLogin    Phase = iota // not logged in: greeting, USER, PASS, a password check, AUTH's handshake
	PhaseIdle                  // logged in, nothing in flight
	PhaseBusy                  // waiting on a worker: a file op, a STAT listing, a passive listener
	PhaseTransfer              // a transfer is pending or moving data
	PhaseClosing               // closing
	NumPhases
)

// String names p for metrics labels.
func (p Phase) String() string {
	return [...]string{"login", "idle", "busy", "transfer", "closing"}[min(p, PhaseClosing)]
}

// Phase reports the session's phase.
func (s *Session) Phase() Phase {
	st := stateTable[s.state]
	switch {
	case s.state == stClosing:
		return PhaseClosing
	case !st.loggedIn:
		return PhaseLogin
	case st.xfer:
		return PhaseTransfer
	case st.busy:
		return PhaseBusy
	}
	return PhaseIdle
}

// The marks a session keeps for its Meter: the commands whose final reply
// is due. markCmd is the command running now, or waiting on a worker or
// transfer (mVerb, mAt); markAbor and markQuit are an ABOR and a QUIT
// received during a transfer, answered after it (mAborMs, mQuitMs).
const (
	markCmd uint8 = 1 << iota
	markAbor
	markQuit
)

// clock records now for the replies that follow (reply has no time of its
// own). Only with a Meter: without one no mark is ever set.
func (s *Session) clock(now time.Time) {
	if s.cfg.Meter != nil {
		s.mNow = now.UnixNano()
	}
}

// markLine opens the command mark for a line that arrived at at (Unix
// nanoseconds); execute names the verb once it has parsed the line.
func (s *Session) markLine(at int64) {
	if s.cfg.Meter != nil {
		s.mOpen |= markCmd
		s.mVerb = uint8(VerbOther)
		s.mAt = at
	}
}

// metered closes the command mark with its final reply code.
func (s *Session) metered(code replyCode) {
	s.mOpen &^= markCmd
	s.cfg.Meter.Command(int(s.mVerb), int(code), time.Duration(max(s.mNow-s.mAt, 0)))
}

// millis is a Unix time in nanoseconds as 32-bit milliseconds, which wrap
// every 49 days: enough for how long an ABOR or QUIT waits on a transfer.
func millis(ns int64) uint32 { return uint32(ns / int64(time.Millisecond)) }

// runUrgent runs an ABOR, STAT or QUIT that arrived during a transfer,
// with a mark of its own: the transfer's stays for the transfer's reply.
// An ABOR or QUIT whose answer waits for the transfer keeps its arrival in
// markAbor or markQuit.
func (s *Session) runUrgent(q queuedLine, c *command, now time.Time) {
	if s.cfg.Meter == nil {
		s.run(q, now)
		return
	}
	open, verb, at := s.mOpen&markCmd, s.mVerb, s.mAt
	s.run(q, now)
	if s.mOpen&markCmd != 0 { // no final reply yet
		switch c.verb {
		case "ABOR":
			s.mOpen |= markAbor
			s.mAborMs = millis(s.mNow)
		case "QUIT":
			s.mOpen |= markQuit
			s.mQuitMs = millis(s.mNow)
		}
	}
	s.mOpen = s.mOpen&^markCmd | open
	s.mVerb, s.mAt = verb, at
}

// unmark makes the deferred ABOR or QUIT (markAbor, markQuit) the command
// the next final reply belongs to.
func (s *Session) unmark(m uint8, ms uint32, verb string) {
	if s.mOpen&m == 0 {
		return
	}
	s.mOpen = s.mOpen&^m | markCmd
	s.mVerb = commandByVerb[verb].id
	s.mAt = s.mNow - int64(millis(s.mNow)-ms)*int64(time.Millisecond)
}

// meterTransfer tells the Meter how the transfer in flight ended.
func (s *Session) meterTransfer(e EvTransferDone) {
	if s.cfg.Meter == nil || s.mOpen&markCmd == 0 {
		return
	}
	r := XferFailed
	switch {
	case e.Err == nil:
		r = XferOK
	case errors.Is(e.Err, ErrAborted):
		r = XferAborted
	}
	s.cfg.Meter.Transfer(s.xferKind, r, e.Bytes, time.Duration(max(s.mNow-s.mAt, 0)))
}
