// The session's states and their legal transitions, written as a table.
package protocol

// state is where a session stands in the conversation.
type state uint8

// The states. Every state is described once, here:
//
//	stAwaitUser    connected (or just reinitialised, or a login failed):
//	               the greeting is out and USER is expected; only commands
//	               that need no login are served.
//	stAwaitPass    USER was accepted with 331; PASS is expected.
//	stCheckPass    checking password: ReqLogin is in flight and EvLogin is
//	               expected; further lines queue.
//	stLoginDelay   a password was refused: its 530 waits until the failure
//	               delay has passed (Tick sends it, or closes the session
//	               after MaxLoginFailures); lines queue.
//	stIdle         logged in idle: nothing in flight, every command is served.
//	stWaitFile     waiting on a file op: ReqFile is in flight for CWD, SIZE,
//	               MDTM, MFMT, MLST, DELE, RMD, MKD, RNFR, RNTO or SITE CHMOD
//	               and EvFile is expected; lines queue.
//	stWaitStat     waiting on a file op: ReqStatList is in flight for STAT
//	               path and EvStatList is expected; lines queue.
//	stWaitPassive  waiting on a file op: ReqPassive is in flight for PASV or
//	               EPSV and EvPassive is expected; lines queue.
//	stXferPending  transfer pending: ReqTransfer was sent, no EvTransferStart
//	               yet (the data connection is being set up, the data timer
//	               runs); EvTransferStart or EvTransferDone is expected.
//	               ABOR, STAT and QUIT are served at once, other lines queue.
//	stXferring     transferring: 150 was sent, EvTransferDone is expected.
//	               ABOR, STAT and QUIT are served at once, other lines queue.
//	               The stall timer checks Progress every StallTimeout and
//	               aborts a transfer that moved nothing.
//	stWaitHash     hashing: ReqHash is in flight for HASH or an X form
//	               (XCRC, XMD5, XSHA1, XSHA256, XSHA512) and EvHash is
//	               expected. Like a transfer, a hash may run long: ABOR
//	               (cancels it), STAT and QUIT (cancels it, then 221) are
//	               served at once, other lines queue.
//	stTLS          securing: ReqStartTLS is out (after 234 for AUTH, or at
//	               connect on an implicit-TLS listener) and EvTLS is
//	               expected. Ready is false: the reactor feeds the bytes
//	               that follow to the TLS handshake, never to Line. The
//	               login timer runs; the next state is stAwaitUser.
//	stClosing      closing: Close was requested. Every line, event and tick
//	               is ignored.
//
// An event a state does not expect (see stateTable.expects) is ignored and
// counted in Session.ignored: it is the DTP's mistake or a late answer to a
// request the session gave up on, such as an EvTransferStart that arrives
// after an ABOR or a data timeout, or an EvLogin after the login timeout
// closed the session. Nothing in flight is forgotten because of it.
const (
	stAwaitUser state = iota
	stAwaitPass
	stCheckPass
	stLoginDelay
	stIdle
	stWaitFile
	stWaitStat
	stWaitPassive
	stXferPending
	stXferring
	stWaitHash
	stTLS
	stClosing
	numStates
)

// evKind names an Event type as a bit, so a state can list the ones it
// expects.
type evKind uint8

const (
	evLogin evKind = 1 << iota
	evFile
	evStatList
	evPassive
	evXferStart
	evXferDone
	evTLS
	evHash
)

// stateSet is a set of states.
type stateSet uint16

// states builds a stateSet.
func states(ss ...state) stateSet {
	var set stateSet
	for _, s := range ss {
		set |= 1 << s
	}
	return set
}

// has reports whether st is in the set.
func (set stateSet) has(st state) bool { return set&(1<<st) != 0 }

// stateInfo is one row of the state table.
type stateInfo struct {
	name     string   // for errors and tests
	loggedIn bool     // commands that need a login are served
	busy     bool     // a request is in flight: lines queue, no idle timer
	xfer     bool     // a transfer or a hash is in flight: ABOR, STAT, QUIT served at once
	expects  evKind   // events acted upon; the rest are ignored
	next     stateSet // legal transitions out of this state
}

// stateTable holds the rules of every state. Entering stClosing is legal
// from everywhere (a fatal reply, a full queue, a timeout).
var stateTable = [numStates]stateInfo{
	stAwaitUser: {name: "awaiting USER",
		next: states(stAwaitUser, stAwaitPass, stTLS, stClosing)},
	stAwaitPass: {name: "awaiting PASS",
		next: states(stAwaitUser, stAwaitPass, stCheckPass, stTLS, stClosing)},
	stCheckPass: {name: "checking password", busy: true, expects: evLogin,
		next: states(stAwaitUser, stLoginDelay, stIdle, stClosing)},
	stLoginDelay: {name: "delaying a refused login", busy: true,
		next: states(stAwaitUser, stClosing)},
	stIdle: {name: "logged in idle", loggedIn: true,
		next: states(stAwaitUser, stIdle, stWaitFile, stWaitStat, stWaitPassive, stXferPending, stWaitHash, stClosing)},
	stWaitFile: {name: "waiting on a file op", loggedIn: true, busy: true, expects: evFile,
		next: states(stIdle, stClosing)},
	stWaitStat: {name: "waiting on a status listing", loggedIn: true, busy: true, expects: evStatList,
		next: states(stIdle, stClosing)},
	stWaitPassive: {name: "waiting on a passive listener", loggedIn: true, busy: true, expects: evPassive,
		next: states(stIdle, stClosing)},
	stXferPending: {name: "transfer pending", loggedIn: true, busy: true, xfer: true, expects: evXferStart | evXferDone,
		next: states(stXferring, stIdle, stClosing)},
	stXferring: {name: "transferring", loggedIn: true, busy: true, xfer: true, expects: evXferDone,
		next: states(stIdle, stClosing)},
	stWaitHash: {name: "hashing", loggedIn: true, busy: true, xfer: true, expects: evHash,
		next: states(stIdle, stClosing)},
	stTLS: {name: "securing the control connection", busy: true, expects: evTLS,
		next: states(stAwaitUser, stClosing)},
	stClosing: {name: "closing"},
}

// transitionError records (it is never panicked) a move between two states
// the table does not link: a server bug, never the client's or the DTP's.
type transitionError struct{ from, to state }

// Error names both states and the culprit.
func (e transitionError) Error() string {
	return "protocol: illegal state transition " + stateName(e.from) + " → " + stateName(e.to) + " (server bug)"
}

// setState moves the session to st. An illegal move is still made, so the
// conversation goes on, but it is recorded in s.bug for tests to catch.
func (s *Session) setState(st state) {
	if st >= numStates || !stateTable[s.state].next.has(st) {
		s.bug = transitionError{s.state, st}
	}
	s.state = st
}

// stateName names st, even an out-of-range one.
func stateName(st state) string {
	if st >= numStates {
		return "invalid state"
	}
	return stateTable[st].name
}

// kindOf classifies an event and returns it as a value; pointer events are
// accepted too. ok is false for nil and nil pointers.
func kindOf(ev Event) (Event, evKind, bool) {
	switch e := ev.(type) {
	case EvLogin:
		return ev, evLogin, true // no re-boxing
	case *EvLogin:
		if e != nil {
			return *e, evLogin, true
		}
	case EvFile:
		return ev, evFile, true // no re-boxing
	case *EvFile:
		if e != nil {
			return *e, evFile, true
		}
	case EvStatList:
		return ev, evStatList, true // no re-boxing
	case *EvStatList:
		if e != nil {
			return *e, evStatList, true
		}
	case EvPassive:
		return ev, evPassive, true // no re-boxing
	case *EvPassive:
		if e != nil {
			return *e, evPassive, true
		}
	case EvTransferStart:
		return ev, evXferStart, true // no re-boxing
	case *EvTransferStart:
		if e != nil {
			return *e, evXferStart, true
		}
	case EvTransferDone:
		return ev, evXferDone, true // no re-boxing
	case *EvTransferDone:
		if e != nil {
			return *e, evXferDone, true
		}
	case EvHash:
		return ev, evHash, true // no re-boxing
	case *EvHash:
		if e != nil {
			return *e, evHash, true
		}
	case EvTLS:
		return ev, evTLS, true // no re-boxing
	case *EvTLS:
		if e != nil {
			return *e, evTLS, true
		}
	}
	return nil, 0, false
}
