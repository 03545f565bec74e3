// File commands: DELE RMD MKD RNFR RNTO SIZE MDTM MFMT SITE.
package protocol

import (
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// mdtmLayout is the RFC 3659 time-val form, always in UTC.
const mdtmLayout = "20060102150405"

// refuseRoot answers 550 when p is the root, which cannot be removed or
// renamed; it reports whether it did.
func (s *Session) refuseRoot(p string) bool {
	if p == "/" {
		s.reply(codeFileUnavailable, txtPermDenied)
		return true
	}
	return false
}

// fileOp emits a storage operation on path for the running command.
func (s *Session) fileOp(op FileOp, path string) {
	s.await(stWaitFile, ReqFile{Op: op, Path: path}, path, "")
}

// cmdDELE removes a file.
func (s *Session) cmdDELE(arg string, _ time.Time) {
	if p := resolve(s.cwd, arg); !s.refuseRoot(p) {
		s.fileOp(OpDelete, p)
	}
}

// doneDELE answers DELE.
func (s *Session) doneDELE(ev Event, _ time.Time) {
	if e, _ := ev.(EvFile); e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	s.reply(codeFileActionOK, "Delete operation successful.")
}

// cmdRMD removes an empty directory.
func (s *Session) cmdRMD(arg string, _ time.Time) {
	if p := resolve(s.cwd, arg); !s.refuseRoot(p) {
		s.fileOp(OpRmdir, p)
	}
}

// doneRMD answers RMD.
func (s *Session) doneRMD(ev Event, _ time.Time) {
	if e, _ := ev.(EvFile); e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	s.reply(codeFileActionOK, "Remove directory operation successful.")
}

// cmdMKD creates a directory.
func (s *Session) cmdMKD(arg string, _ time.Time) {
	s.fileOp(OpMkdir, resolve(s.cwd, arg))
}

// doneMKD answers MKD with the new directory's quoted path.
func (s *Session) doneMKD(ev Event, _ time.Time) {
	if e, _ := ev.(EvFile); e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	s.reply(codePathCreated, quotePath(s.waitPath)+" created.")
}

// cmdRNFR checks the source of a rename.
func (s *Session) cmdRNFR(arg string, _ time.Time) {
	if p := resolve(s.cwd, arg); !s.refuseRoot(p) {
		s.fileOp(OpRenameCheck, p)
	}
}

// doneRNFR remembers the source for the next command, if it is RNTO.
func (s *Session) doneRNFR(ev Event, _ time.Time) {
	if e, _ := ev.(EvFile); e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	s.rnfr = s.waitPath
	s.reply(codePendingInfo, "Ready for RNTO.")
}

// cmdRNTO renames the file RNFR accepted.
func (s *Session) cmdRNTO(arg string, _ time.Time) {
	from := s.rnfr
	s.rnfr = ""
	if from == "" {
		s.reply(codeBadSequence, "Bad sequence of commands.")
		return
	}
	to := resolve(s.cwd, arg)
	if s.refuseRoot(to) {
		return
	}
	s.await(stWaitFile, ReqFile{Op: OpRename, Path: from, Path2: to}, from, to)
}

// doneRNTO answers RNTO.
func (s *Session) doneRNTO(ev Event, _ time.Time) {
	if e, _ := ev.(EvFile); e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	s.reply(codeFileActionOK, "Rename successful.")
}

// cmdSIZE reports a file's size (RFC 3659 §4).
// In TYPE A the size is the transfer size (RFC 3659 §4), which the DTP
// reads the file to count (files up to its limit; 550 beyond).
func (s *Session) cmdSIZE(arg string, _ time.Time) {
	p := resolve(s.cwd, arg)
	s.await(stWaitFile, ReqFile{Op: OpStat, Path: p, ASCII: !s.binary}, p, "")
}

// doneSIZE answers SIZE; directories have no size.
func (s *Session) doneSIZE(ev Event, _ time.Time) {
	e, _ := ev.(EvFile)
	switch {
	case e.Err != nil:
		s.replyFileErr(e.Err)
	case !e.Info.Mode.IsRegular():
		s.reply(codeFileUnavailable, "Not a plain file.")
	default:
		s.reply(codeFileStatus, strconv.FormatInt(e.Info.Size, 10))
	}
}

// cmdMDTM reports a file's modification time (RFC 3659 §3).
func (s *Session) cmdMDTM(arg string, _ time.Time) {
	s.fileOp(OpStat, resolve(s.cwd, arg))
}

// doneMDTM answers MDTM in UTC.
func (s *Session) doneMDTM(ev Event, _ time.Time) {
	if e, _ := ev.(EvFile); e.Err != nil {
		s.replyFileErr(e.Err)
	} else {
		s.reply(codeFileStatus, e.Info.ModTime.UTC().Format(mdtmLayout))
	}
}

// parseTimeVal parses an RFC 3659 time-val, "YYYYMMDDHHMMSS" with an
// optional ".fraction", as UTC.
func parseTimeVal(v string) (time.Time, bool) {
	if len(v) < 14 || !allDigits(v[:14]) {
		return time.Time{}, false
	}
	if frac := v[14:]; frac != "" && (frac[0] != '.' || len(frac) > 10 || !allDigits(frac[1:])) {
		return time.Time{}, false
	}
	t, err := time.Parse(mdtmLayout, v) // a fraction after the seconds is accepted
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// cmdMFMT sets a file's modification time: "MFMT YYYYMMDDHHMMSS path".
func (s *Session) cmdMFMT(arg string, _ time.Time) {
	ts, name, ok := strings.Cut(arg, " ")
	t, tok := parseTimeVal(ts)
	if !ok || !tok || name == "" {
		s.reply(codeArgSyntaxError, "MFMT needs a time YYYYMMDDHHMMSS and a path.")
		return
	}
	p := resolve(s.cwd, name)
	s.await(stWaitFile, ReqFile{Op: OpSetTime, Path: p, Time: t}, p, t.Format(mdtmLayout))
}

// doneMFMT answers MFMT with the time the file now has.
func (s *Session) doneMFMT(ev Event, _ time.Time) {
	e, _ := ev.(EvFile)
	if e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	ts := s.waitPath2
	if !e.Info.ModTime.IsZero() {
		ts = e.Info.ModTime.UTC().Format(mdtmLayout)
	}
	s.reply(codeFileStatus, "Modify="+ts+"; "+s.waitPath)
}

// cmdSITE serves SITE HELP and SITE CHMOD; other SITE commands are 502.
func (s *Session) cmdSITE(arg string, _ time.Time) {
	sub, rest, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(sub) {
	case "HELP":
		s.replyMulti(codeHelp, "The following SITE commands are recognized.", []string{" CHMOD HELP"}, "Help OK.")
	case "CHMOD":
		if s.perms&PermWrite == 0 {
			s.reply(codeFileUnavailable, txtPermDenied)
			return
		}
		modeText, name, _ := strings.Cut(rest, " ")
		mode, err := strconv.ParseUint(modeText, 8, 32)
		if !allDigits(modeText) || err != nil || mode > 0o777 || name == "" {
			s.reply(codeArgSyntaxError, "SITE CHMOD needs an octal mode (at most 777) and a path.")
			return
		}
		p := resolve(s.cwd, name)
		s.await(stWaitFile, ReqFile{Op: OpChmod, Path: p, Mode: fs.FileMode(mode)}, p, "")
	default:
		// RFC 959 §4.2: SITE is implemented; this parameter is not.
		s.reply(codeParamNotImpl, "Unknown SITE command.")
	}
}

// doneSITE answers SITE CHMOD.
func (s *Session) doneSITE(ev Event, _ time.Time) {
	if e, _ := ev.(EvFile); e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	s.reply(codeOK, "SITE CHMOD command ok.")
}
