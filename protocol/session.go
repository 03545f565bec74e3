// Session: the per-connection server-PI state machine.
package protocol

import "time"

// Session is one control connection's protocol interpreter. It is not safe
// for concurrent use: the reactor calls it only on the event loop.
type Session struct {
	cfg  *Config
	info ConnInfo
	out  Output
}

// NewSession starts a session; its greeting is in the first TakeOutput.
func NewSession(cfg *Config, info ConnInfo, now time.Time) *Session {
	s := &Session{cfg: cfg, info: info}
	return s
}

// Ready reports whether the session takes another line now. It is false while
// MaxQueued commands wait behind one in progress: the caller must keep the
// line and offer it again after the next Event.
func (s *Session) Ready() bool { return true }

// Line handles one command line: CRLF removed, Telnet sequences already
// stripped, at most the reactor's line limit long. It is processed at once
// or queued behind a command that waits on a worker (ABOR, STAT and QUIT are
// handled at once during a transfer).
func (s *Session) Line(line []byte, now time.Time) {}

// LineTooLong tells the session that a line over the limit was discarded;
// it answers 500.
func (s *Session) LineTooLong(now time.Time) {}

// Event delivers a worker's answer to an earlier request.
func (s *Session) Event(ev Event, now time.Time) {}

// Tick lets the session act on its timers; call it at or after Deadline.
func (s *Session) Tick(now time.Time) {}

// Deadline is when the session next needs Tick (zero: no timer).
func (s *Session) Deadline() time.Time { return time.Time{} }

// Shutdown asks the session to end for a server shutdown: an idle session
// answers 421 and closes at once; one with a transfer in flight closes after
// the transfer's reply.
func (s *Session) Shutdown(now time.Time) {}

// TakeOutput returns what the session produced since the last call and
// resets it.
func (s *Session) TakeOutput() Output {
	o := s.out
	s.out = Output{}
	return o
}
