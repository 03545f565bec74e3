// Transfer commands: PORT PASV EPRT EPSV TYPE STRU MODE RETR STOR STOU APPE ALLO REST ABOR, and the transfer's replies.
package protocol

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// controlIs6 reports whether the control connection runs over IPv6 (an
// IPv4-mapped address counts as IPv4). Unknown addresses count as IPv4.
func (s *Session) controlIs6() bool {
	a := s.info.Remote.Addr()
	if !a.IsValid() {
		a = s.info.Local.Addr()
	}
	return a.IsValid() && !a.Unmap().Is4()
}

// refusedAfterEPSVAll answers PORT, EPRT and PASV once EPSV ALL was given
// (RFC 2428 §4); it reports whether it did.
func (s *Session) refusedAfterEPSVAll(verb string) bool {
	if s.epsvAll {
		s.reply(codeArgSyntaxError, verb+" not allowed after EPSV ALL.")
	}
	return s.epsvAll
}

// cmdPORT accepts an active-mode address in RFC 959 form.
func (s *Session) cmdPORT(arg string, _ time.Time) {
	if s.refusedAfterEPSVAll("PORT") {
		return
	}
	ap, ok := parsePORT(arg)
	if !ok {
		s.reply(codeArgSyntaxError, "Illegal PORT command.")
		return
	}
	s.setActive("PORT", ap)
}

// cmdEPRT accepts an active-mode address in RFC 2428 form.
func (s *Session) cmdEPRT(arg string, _ time.Time) {
	if s.refusedAfterEPSVAll("EPRT") {
		return
	}
	ap, perr := parseEPRT(arg)
	switch perr {
	case eprtSyntax:
		s.reply(codeArgSyntaxError, "Illegal EPRT command.")
		return
	case eprtProtocol:
		s.reply(codeNetProtoUnknown, "Network protocol not supported, use (1,2)")
		return
	}
	s.setActive("EPRT", ap)
}

// setActive records an active-mode address after the bounce-attack checks:
// data may only go to the client's own address, at an unprivileged port.
func (s *Session) setActive(verb string, ap netip.AddrPort) {
	addr := ap.Addr().Unmap()
	remote := s.info.Remote.Addr().Unmap()
	if !remote.IsValid() || addr != remote || ap.Port() < 1024 {
		s.reply(codeArgSyntaxError, verb+" refused: only the client's own address and ports >= 1024.")
		return
	}
	s.endpoint = endpointActive
	s.emit(ReqActive{Addr: netip.AddrPortFrom(addr, ap.Port())})
	s.reply(codeOK, verb+" command successful. Consider using EPSV.")
}

// cmdPASV asks the DTP for a passive listener, announced in RFC 959 form.
func (s *Session) cmdPASV(string, time.Time) {
	if s.refusedAfterEPSVAll("PASV") {
		return
	}
	if s.controlIs6() {
		s.reply(codeCantOpenData, "Use EPSV for IPv6.")
		return
	}
	s.await(stWaitPassive, ReqPassive{}, "", "")
}

// cmdEPSV asks the DTP for a passive listener, announced in RFC 2428 form;
// "EPSV ALL" locks the session into EPSV.
func (s *Session) cmdEPSV(arg string, _ time.Time) {
	want := "1"
	if s.controlIs6() {
		want = "2"
	}
	switch {
	case arg == "" || arg == want:
	case strings.EqualFold(arg, "ALL"):
		s.epsvAll = true
		s.reply(codeOK, "EPSV ALL ok.")
		return
	case allDigits(arg):
		s.reply(codeNetProtoUnknown, "Network protocol not supported, use ("+want+")")
		return
	default:
		s.reply(codeArgSyntaxError, "Illegal EPSV command.")
		return
	}
	s.await(stWaitPassive, ReqPassive{Extended: true}, "", "")
}

// donePassive announces the listener PASV or EPSV asked for. A new one
// replaces any earlier endpoint; a failure leaves none.
func (s *Session) donePassive(ev Event, _ time.Time) {
	e, _ := ev.(EvPassive)
	s.endpoint = endpointNone
	switch {
	case errors.Is(e.Err, ErrBusy):
		s.reply(codeCantOpenData, "Server busy, can't open passive connection.")
	case e.Err != nil || !e.Addr.IsValid() || e.Addr.Port() == 0:
		s.reply(codeCantOpenData, "Can't open passive connection.")
	case s.wait != nil && s.wait.verb == "EPSV":
		s.endpoint = endpointPassive
		var num [8]byte
		s.reply(codeExtPassive, "Entering Extended Passive Mode (|||", string(strconv.AppendUint(num[:0], uint64(e.Addr.Port()), 10)), "|).")
	default:
		hp, ok := format227(e.Addr)
		if !ok {
			s.reply(codeCantOpenData, "Use EPSV for IPv6.")
			return
		}
		s.endpoint = endpointPassive
		s.reply(codePassive, "Entering Passive Mode (", hp, ").")
	}
}

// cmdTYPE sets the representation type: ASCII (A, A N) or image (I, L 8).
func (s *Session) cmdTYPE(arg string, _ time.Time) {
	switch strings.ToUpper(arg) {
	case "A", "A N":
		s.binary = false
		s.reply(codeOK, "Switching to ASCII mode.")
	case "I", "L 8":
		s.binary = true
		s.reply(codeOK, "Switching to Binary mode.")
	case "E", "A T", "A C", "E N", "E T", "E C":
		s.reply(codeParamNotImpl, "Command not implemented for that parameter.")
	default:
		u := strings.ToUpper(arg)
		if len(u) == 1 && u[0] >= 'A' && u[0] <= 'Z' && u[0] != 'L' || strings.HasPrefix(u, "L ") && allDigits(u[2:]) {
			s.reply(codeParamNotImpl, "Command not implemented for that parameter.")
			return
		}
		s.reply(codeArgSyntaxError, "Unrecognised TYPE command.")
	}
}

// cmdSTRU accepts only the file structure.
func (s *Session) cmdSTRU(arg string, _ time.Time) {
	switch strings.ToUpper(arg) {
	case "F":
		s.reply(codeOK, "Structure set to F.")
	case "R", "P":
		// RFC 959 §4.1.2's other structure-codes: known, not done.
		s.reply(codeParamNotImpl, "Command not implemented for that parameter.")
	default:
		// Not a structure-code of the grammar (RFC 959 §5.3.2).
		s.reply(codeArgSyntaxError, "STRU takes F, R or P.")
	}
}

// cmdMODE accepts only stream mode.
func (s *Session) cmdMODE(arg string, _ time.Time) {
	switch strings.ToUpper(arg) {
	case "S":
		s.modeZ = false
		s.reply(codeOK, "Mode set to S.")
	case "Z":
		if !s.cfg.ModeZ {
			s.reply(codeParamNotImpl, "Command not implemented for that parameter.")
			return
		}
		s.modeZ = true
		s.reply(codeOK, "Mode set to Z.")
	case "B", "C":
		// RFC 959 §4.1.2's other mode-codes, and MODE Z (deflate):
		// known, not done.
		s.reply(codeParamNotImpl, "Command not implemented for that parameter.")
	default:
		// Not a mode-code (RFC 959 §5.3.2).
		s.reply(codeArgSyntaxError, "MODE takes S, B, C or Z.")
	}
}

// cmdALLO: storage needs no reservation. The argument must still follow
// RFC 959 §5.3.2's grammar, ALLO <SP> <decimal-integer> [<SP> R <SP>
// <decimal-integer>]: 501 otherwise.
func (s *Session) cmdALLO(arg string, _ time.Time) {
	size, rec, hasRec := strings.Cut(arg, " ")
	ok := allDigits(size)
	if hasRec {
		r, n, _ := strings.Cut(rec, " ")
		ok = ok && strings.EqualFold(r, "R") && allDigits(n)
	}
	if !ok {
		s.reply(codeArgSyntaxError, "ALLO needs a decimal size, optionally followed by R and a record size.")
		return
	}
	s.reply(codeSuperfluous, "ALLO not needed.")
}

// cmdREST records a restart offset for the next RETR, STOR or APPE (RFC
// 3659 REST STREAM). Every transfer command consumes it, used or not (see
// command.xfer); STOU and the listings ignore it. Whether the offset fits
// the file is for the DTP to say: past the end of the file (RETR, STOR),
// or anywhere but the end (APPE), the transfer is answered 554 without a
// data connection being used and without the file being changed.
func (s *Session) cmdREST(arg string, _ time.Time) {
	n, err := strconv.ParseInt(arg, 10, 64)
	if !allDigits(arg) || err != nil {
		s.reply(codeArgSyntaxError, "REST needs a non-negative integer.")
		return
	}
	s.rest = n
	s.reply(codePendingInfo, "Restarting at ", strconv.FormatInt(n, 10), ". Send STORE or RETRIEVE.")
}

// cmdRETR sends a file.
func (s *Session) cmdRETR(arg string, now time.Time) {
	s.transfer(XferRetr, resolve(s.cwd, arg), 0, now)
}

// cmdSTOR receives a file, replacing it (or writing at the REST offset).
func (s *Session) cmdSTOR(arg string, now time.Time) {
	s.transfer(XferStor, resolve(s.cwd, arg), 0, now)
}

// cmdAPPE receives a file, appending to it.
func (s *Session) cmdAPPE(arg string, now time.Time) {
	s.transfer(XferAppe, resolve(s.cwd, arg), 0, now)
}

// cmdSTOU receives a file under a unique name the DTP chooses in the
// working directory. An argument (some clients send a name hint) is ignored.
func (s *Session) cmdSTOU(_ string, now time.Time) {
	s.transfer(XferStou, s.cwd, 0, now)
}

// transfer starts a data transfer over the endpoint set by the last
// PASV/EPSV/PORT/EPRT, which it consumes. REST applies to RETR, STOR and
// APPE; TYPE A to file transfers (listings are always sent as CRLF lines).
func (s *Session) transfer(kind XferKind, path string, flags ListFlags, now time.Time) {
	s.startTransfer(ReqTransfer{Kind: kind, Path: path, Flags: flags}, now)
}

// startTransfer is transfer for a request with more in it (LIST and NLST
// of a pattern); Protect, Offset and ASCII come from the session.
func (s *Session) startTransfer(req ReqTransfer, now time.Time) {
	kind, path := req.Kind, req.Path
	if s.tlsData && !s.protP {
		// Before the endpoint is used: it stays for the transfer after PROT P.
		s.reply(codeDataProtection, "Data connections must be protected: send PBSZ 0 and PROT P.")
		return
	}
	if s.endpoint == endpointNone {
		s.reply(codeCantOpenData, txtNeedPort)
		return
	}
	if s.refuseReserved(path) {
		// Before the endpoint is used (await would check too late).
		return
	}
	if s.rest > 0 && !s.binary && (kind == XferStor || kind == XferAppe) {
		// A TYPE A upload's restart offset counts the client's bytes
		// (RFC 3659 §5.3), which the stored file does not hold: refused,
		// and the endpoint stays for the next command.
		s.reply(codeParamNotImpl, "REST with STOR or APPE is not supported in TYPE A; use TYPE I.")
		return
	}
	req.Protect = s.protP
	if s.modeZ {
		req.Deflate = s.deflateLevel()
	}
	if kind == XferMlsd {
		req.Hide = s.hidden
	}
	switch kind {
	case XferRetr, XferStor, XferAppe:
		req.Offset = s.rest
		req.ASCII = !s.binary
	case XferStou:
		req.ASCII = !s.binary
	}
	s.endpoint = endpointNone
	s.xferKind = kind
	s.abortCmd, s.abortTimeout, s.abortSlow = false, false, false
	s.dataDeadline, s.rateDeadline = time.Time{}, time.Time{}
	if s.cfg.DataTimeout > 0 {
		s.dataDeadline = now.Add(s.cfg.DataTimeout)
	}
	s.await(stXferPending, req, path, "")
}

// transferStarted sends the 150 once the data connection is open.
func (s *Session) transferStarted(e EvTransferStart, now time.Time) {
	s.setState(stXferring)
	s.dataDeadline = time.Time{}
	s.progress = nil
	if e.Progress != nil {
		s.progress = &progress{read: e.Progress, old: statSample{at: now}, new: statSample{at: now}}
	}
	s.lastBytes, s.rateBytes = 0, 0
	if s.cfg.StallTimeout > 0 && e.Progress != nil {
		s.dataDeadline = now.Add(s.cfg.StallTimeout)
	}
	if s.cfg.MinRate > 0 && s.cfg.RateWindow > 0 && e.Progress != nil {
		s.rateDeadline = now.Add(s.cfg.RateWindow)
	}
	switch s.xferKind {
	case XferRetr:
		mode := "BINARY"
		if !s.binary {
			mode = "ASCII"
		}
		if e.Size < 0 {
			s.reply(codeOpeningData, "Opening ", mode, " mode data connection for ", s.waitPath, ".")
			return
		}
		var num [20]byte
		size := string(strconv.AppendInt(num[:0], e.Size, 10)) // does not escape: no allocation
		s.reply(codeOpeningData, "Opening ", mode, " mode data connection for ", s.waitPath, " (", size, " bytes).")
	case XferStou:
		if e.Name != "" {
			s.reply(codeOpeningData, "FILE: ", e.Name) // RFC 1123 §4.1.2.9
			return
		}
		s.reply(codeOpeningData, "Ok to send data.")
	case XferStor, XferAppe:
		s.reply(codeOpeningData, "Ok to send data.")
	default:
		s.reply(codeOpeningData, "Here comes the directory listing.")
	}
}

// transferDone sends the transfer's final reply, then the answer to an ABOR
// that arrived during it: 426 then 226 when the transfer was cut short, 226
// then 225 when it had finished anyway.
func (s *Session) transferDone(e EvTransferDone) {
	s.meterTransfer(e)
	started := s.state == stXferring
	upload := s.xferKind == XferStor || s.xferKind == XferAppe || s.xferKind == XferStou
	listing := s.xferKind == XferList || s.xferKind == XferNlst || s.xferKind == XferMlsd
	switch err := e.Err; {
	case err == nil && listing:
		s.reply(codeClosingData, "Directory send OK.")
	case err == nil:
		s.reply(codeClosingData, "Transfer complete.")
	case errors.Is(err, ErrAborted) && s.abortTimeout && !started:
		s.reply(codeCantOpenData, txtNoData)
	case errors.Is(err, ErrAborted) && s.abortSlow:
		var num [20]byte
		s.reply(codeTransferAborted, "Transfer too slow: under ", string(strconv.AppendInt(num[:0], s.cfg.MinRate, 10)), " bytes/s; aborted.")
	case errors.Is(err, ErrAborted) && s.abortTimeout:
		s.reply(codeTransferAborted, "Transfer stalled: no data moved within the timeout; aborted.")
	case errors.Is(err, ErrAborted):
		s.reply(codeTransferAborted, txtAborted)
	case errors.Is(err, ErrDataConn) && started:
		s.reply(codeTransferAborted, txtAborted)
	case errors.Is(err, ErrDataConn):
		s.reply(codeCantOpenData, txtNoData)
	case errors.Is(err, ErrNoEndpoint):
		s.reply(codeCantOpenData, txtNeedPort)
	case errors.Is(err, ErrTLSReuse):
		s.reply(codeNetProtoUnknown, "Data connection refused: it must resume the TLS session of the control connection (TLS session reuse required).")
	case errors.Is(err, ErrTLSHandshake):
		s.reply(codeCantOpenData, "Can't open data connection: TLS handshake failed.")
	case errors.Is(err, ErrBusy):
		s.reply(codeFileBusy, txtBusy)
	case s.xferKind == XferMlsd && errors.Is(err, ErrNotDir) && !started:
		// RFC 3659 §7.2.1: MLSD of a file is a syntax error in the
		// argument, 501, not a file error.
		s.reply(codeArgSyntaxError, "MLSD needs a directory; use MLST for a file.")
	case started:
		s.reply(midTransferErrReply(err))
	case upload:
		s.reply(uploadErrReply(err))
	default:
		s.replyFileErr(err)
	}
	if s.abortCmd {
		s.unmark(markAbor, s.mAborMs, "ABOR")
		if e.Err == nil {
			s.reply(codeNoTransfer, "No transfer to abort.")
		} else {
			s.reply(codeClosingData, "Abort successful.")
		}
	}
	s.xferKind, s.progress = 0, nil
	s.abortCmd, s.abortTimeout, s.abortSlow = false, false, false
	s.dataDeadline, s.rateDeadline = time.Time{}, time.Time{}
	s.wait, s.waitPath = nil, ""
	s.setState(stIdle)
}

// cmdABOR aborts the transfer in flight; its replies follow the transfer's
// EvTransferDone. With nothing in flight there is nothing to abort.
func (s *Session) cmdABOR(string, time.Time) {
	if !stateTable[s.state].xfer {
		s.reply(codeNoTransfer, "No transfer to abort.")
		return
	}
	if !s.abortTimeout {
		s.emit(ReqAbort{})
	}
	s.abortCmd = true
}
