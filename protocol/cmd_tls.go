// FTPS commands (RFC 4217, on RFC 2228): AUTH PBSZ PROT CCC, and the end of the TLS handshake.
package protocol

import (
	"slices"
	"strings"
	"time"
)

// cmdAUTH starts TLS on the control connection: 234, then ReqStartTLS. It
// is taken only before login; a USER given before it is forgotten, so the
// login happens under TLS. AUTH SSL and AUTH TLS-P (old drafts) also set
// PROT P once the handshake is done.
func (s *Session) cmdAUTH(arg string, _ time.Time) {
	switch {
	case !s.cfg.TLS:
		s.reply(codeNotImplemented, "AUTH not available: no certificate is configured.")
		return
	case s.secure:
		s.reply(codeBadSequence, "The control connection is already protected.")
		return
	case stateTable[s.state].loggedIn:
		s.reply(codeBadSequence, "AUTH must come before USER and PASS.")
		return
	}
	switch strings.ToUpper(arg) {
	case "TLS", "TLS-C":
		s.authP = false
	case "SSL", "TLS-P":
		s.authP = true
	default:
		s.reply(codeParamNotImpl, "Unknown security mechanism; use AUTH TLS.")
		return
	}
	// Nothing sent in the clear before the handshake may run after it: a
	// forgotten USER, and lines queued behind AUTH, could be an attacker's.
	s.user = ""
	s.dropped += len(s.queue)
	s.queue = nil
	s.reply(codeAuthOK, "AUTH "+strings.ToUpper(arg)+" successful; start the TLS handshake.")
	s.emit(ReqStartTLS{})
	s.setState(stTLS)
}

// tlsDone ends stTLS. A failed handshake closes the session without a
// reply: the connection carries neither plain text nor TLS any more.
func (s *Session) tlsDone(e EvTLS) {
	if e.Err != nil {
		s.close()
		return
	}
	s.secure, s.pbsz, s.protP = true, false, s.authP
	s.authP = false
	s.setState(stAwaitUser)
	if !s.greeted {
		s.greeted = true
		s.reply(codeServiceReady, s.cfg.Banner)
	}
}

// cmdPBSZ: TLS has no protection buffer; any size is answered with 0
// (RFC 4217 §9).
func (s *Session) cmdPBSZ(arg string, _ time.Time) {
	if !s.secure {
		s.reply(codeBadSequence, "PBSZ requires AUTH first.")
		return
	}
	if len(arg) > 10 || strings.Trim(arg, "0123456789") != "" {
		s.reply(codeArgSyntaxError, "PBSZ takes a decimal size.")
		return
	}
	s.pbsz = true
	s.reply(codeOK, "PBSZ=0")
}

// cmdPROT sets the data channel protection: C (clear) or P (private).
func (s *Session) cmdPROT(arg string, _ time.Time) {
	switch {
	case !s.secure:
		s.reply(codeBadSequence, "PROT requires AUTH first.")
		return
	case !s.pbsz:
		s.reply(codeBadSequence, "PROT requires PBSZ first.")
		return
	}
	switch strings.ToUpper(arg) {
	case "C":
		s.protP = false
		s.reply(codeOK, "Protection level set to C.")
	case "P":
		s.protP = true
		s.reply(codeOK, "Protection level set to P.")
	case "S", "E":
		s.reply(codeProtNotSupp, "Protection level not supported; use C or P.")
	default:
		s.reply(codeParamNotImpl, "Unknown protection level; use C or P.")
	}
}

// cmdCCC: the control connection never goes back to clear text.
func (s *Session) cmdCCC(string, time.Time) {
	if !s.secure {
		s.reply(codeCmdProtDenied, "The control connection is not protected.")
		return
	}
	s.reply(codePolicyDenied, "CCC refused: the control connection stays protected.")
}

// tlsLoginRefused returns the 530 text when USER name may not log in over
// a clear control connection, or "" when it may.
func (s *Session) tlsLoginRefused(name string) string {
	if !s.cfg.TLS || s.secure {
		return ""
	}
	if isAnonymousName(name) {
		if s.cfg.TLSLoginAnonymous {
			return "Anonymous sessions must use TLS: send AUTH TLS first."
		}
		return ""
	}
	if s.cfg.TLSLoginAccounts {
		return "Non-anonymous sessions must use TLS: send AUTH TLS first."
	}
	return ""
}

// featLinesTLS is FEAT's list with the FTPS features, offered with a
// certificate, in order.
var featLinesTLS = slices.Sorted(slices.Values(slices.Concat(featLines, []string{" AUTH TLS", " AUTH SSL", " PBSZ", " PROT"})))
