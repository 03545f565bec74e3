// Login and session commands: USER PASS ACCT REIN QUIT HOST.
package protocol

import (
	"errors"
	"strings"
	"time"
)

// isAnonymousName reports whether a USER name asks for anonymous access.
func isAnonymousName(name string) bool {
	return strings.EqualFold(name, "anonymous") || strings.EqualFold(name, "ftp")
}

// cmdUSER starts (or restarts) a login. Once logged in the user cannot be
// changed: 530, as vsftpd does (RFC 959 allows refusing).
func (s *Session) cmdUSER(arg string, _ time.Time) {
	if stateTable[s.state].loggedIn {
		s.reply(codeNotLoggedIn, "Can't change to another user.")
		return
	}
	if why := s.tlsLoginRefused(arg); why != "" {
		// Refused before a password is asked for, so none is sent in the clear.
		s.user = ""
		s.setState(stAwaitUser)
		s.reply(codeNotLoggedIn, why)
		return
	}
	if isAnonymousName(arg) {
		if !s.cfg.AnonymousEnabled {
			s.user = ""
			s.setState(stAwaitUser)
			s.reply(codeNotLoggedIn, "Anonymous login is not allowed.")
			return
		}
		s.user = "anonymous" // one name for the DTP, whatever the client's spelling
		s.setState(stAwaitPass)
		s.reply(codeNeedPassword, "Anonymous login ok, send your e-mail address as password.")
		return
	}
	s.user = arg
	s.setState(stAwaitPass)
	s.reply(codeNeedPassword, "Password required for "+arg+".")
}

// cmdPASS sends the credentials to the DTP for checking. The password is
// never stored in the session nor shown in a reply.
func (s *Session) cmdPASS(arg string, _ time.Time) {
	switch s.state {
	case stAwaitPass:
		s.await(stCheckPass, ReqLogin{User: s.user, Pass: arg, Secure: s.secure}, "", "")
	case stAwaitUser:
		s.reply(codeBadSequence, "Login with USER first.")
	default:
		s.reply(codeBadSequence, "Already logged in.")
	}
}

// donePASS answers the password check.
func (s *Session) donePASS(ev Event, now time.Time) {
	e, _ := ev.(EvLogin)
	switch {
	case errors.Is(e.Err, ErrTLSRequired):
		// The account's own policy: not a refused password, no delay.
		s.user = ""
		s.setState(stAwaitUser)
		s.reply(codeNotLoggedIn, "This account requires TLS: send AUTH TLS first.")
	case e.Err != nil:
		s.reply(codeNotAvailable, "Service not available, try again later.")
		s.close()
	case e.OK:
		s.perms = e.Perms
		s.tlsData = e.TLSData
		s.loginDeadline = time.Time{}
		s.setState(stIdle)
		s.reply(codeLoggedIn, "Login successful.")
	default:
		s.user = ""
		s.failures++
		if d := s.failDelay(); d > 0 {
			s.setState(stLoginDelay) // Tick answers once the delay has passed
			s.failDeadline = now.Add(d)
			return
		}
		s.loginRefused(now)
	}
}

// maxFailDelay caps the doubling delay after refused passwords.
const maxFailDelay = 30 * time.Second

// failDelay is how long the answer to the latest refused password waits:
// LoginFailDelay, doubled for each earlier failure in the session.
func (s *Session) failDelay() time.Duration {
	d := s.cfg.LoginFailDelay
	for i := 1; i < s.failures && d > 0 && d < maxFailDelay; i++ {
		d *= 2
	}
	return min(d, maxFailDelay)
}

// loginRefused answers a refused password: 530, and the session closes
// after MaxLoginFailures of them.
func (s *Session) loginRefused(now time.Time) {
	s.reply(codeNotLoggedIn, "Login incorrect.")
	if s.cfg.MaxLoginFailures > 0 && s.failures >= s.cfg.MaxLoginFailures {
		s.reply(codeNotAvailable, "Too many failed logins, closing control connection.")
		s.close()
		return
	}
	s.setState(stAwaitUser)
	s.settle(now)
}

// cmdACCT: accounts are not used.
func (s *Session) cmdACCT(string, time.Time) {
	s.reply(codeSuperfluous, "ACCT not needed.")
}

// cmdREIN logs out and resets every transfer parameter, as on connect.
func (s *Session) cmdREIN(_ string, now time.Time) {
	if stateTable[s.state].loggedIn {
		s.emit(ReqLogout{})
	}
	s.user, s.perms, s.tlsData = "", 0, false
	s.cwd, s.binary, s.epsvAll, s.endpoint, s.rest, s.rnfr = "/", false, false, endpointNone, 0, ""
	s.hidden, s.modeZ, s.zLevel = 0, false, 0
	s.hashAlgo, s.rang = 0, nil
	s.loginDeadline = time.Time{}
	if s.cfg.LoginTimeout > 0 {
		s.loginDeadline = now.Add(s.cfg.LoginTimeout)
	}
	s.setState(stAwaitUser)
	s.reply(codeServiceReady, s.cfg.Banner)
}

// cmdQUIT says goodbye. During a transfer it waits for the transfer's reply
// (RFC 959 §4.1.1) and drops the lines queued behind it.
func (s *Session) cmdQUIT(string, time.Time) {
	if stateTable[s.state].xfer {
		if s.state == stWaitHash {
			s.emit(ReqAbort{}) // a hash has nothing to deliver: stop it, then 221
		}
		s.quitPending = true
		s.queue = nil
		return
	}
	s.reply(codeClosingControl, "Goodbye.")
	s.close()
}

// cmdHOST accepts any virtual host name before login (RFC 7151); there is
// one host.
func (s *Session) cmdHOST(string, time.Time) {
	if s.state != stAwaitUser {
		s.reply(codeBadSequence, "HOST must come before USER.")
		return
	}
	s.reply(codeServiceReady, "Host accepted.")
}
