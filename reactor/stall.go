// Stalled sessions: resumed soon after their replies drain, polled with backoff.
package reactor

import "time"

// A session whose unsent replies pass MaxOutbound stops being read (pump)
// until gnet has written them to the socket. gnet reports no such moment,
// so the stalled sessions are polled: first after stallPollMin, then at
// twice the previous wait, up to Tick, and at stallPollMin again after a
// poll that resumed one. A client that reads its replies gets the next
// batch about a millisecond after the socket took the last one; a client
// that reads nothing costs a few wakeups, then one per Tick, like any
// deadline. Nothing is polled while no session is stalled.

// stallPollMin is the first wait after a session stalls.
const stallPollMin = time.Millisecond

// stall files cn as stalled. Loop-only; called by pump.
func (cn *conn) stall() {
	cn.stalled = true
	if cn.stallListed {
		return
	}
	s := cn.srv
	cn.stallListed = true
	s.stalls = append(s.stalls, cn)
	if !s.stallArmed || s.stallWait > stallPollMin {
		s.armStallPoll(stallPollMin)
	}
}

// armStallPoll sets the stall timer for d from now. Loop-only.
func (s *Server) armStallPoll(d time.Duration) {
	s.stallWait, s.stallArmed = d, true
	s.stallTimer.Reset(d)
}

// fireStallPoll runs on the timer's goroutine: it only posts the poll.
func (s *Server) fireStallPoll() { s.executeLive(s.pollStalled) }

// pollStalled resumes the stalled sessions whose replies have drained and
// sets the timer again while any stay stalled. Loop-only.
func (s *Server) pollStalled() {
	s.stallPolls.Add(1)
	s.stallArmed = false
	list := s.stalls
	s.stalls = s.stallSpare[:0]
	resumed := false
	for i, cn := range list {
		list[i] = nil
		cn.stallListed = false
		switch {
		case cn.closed || !cn.stalled:
		case cn.c.OutboundBuffered() > s.cfg.MaxOutbound:
			cn.stallListed = true
			s.stalls = append(s.stalls, cn)
		default:
			resumed = true
			cn.pump(time.Now()) // files it again if it stalls again
		}
	}
	s.stallSpare = list[:0]
	if len(s.stalls) == 0 || s.stallArmed {
		return
	}
	if resumed {
		s.armStallPoll(stallPollMin)
	} else {
		s.armStallPoll(min(2*s.stallWait, s.cfg.Tick))
	}
}
