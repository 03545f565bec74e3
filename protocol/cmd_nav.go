// Navigation commands: CWD CDUP PWD SMNT.
package protocol

import "time"

// cmdCWD checks that the target is a directory before moving there.
func (s *Session) cmdCWD(arg string, _ time.Time) {
	p := resolve(s.cwd, arg)
	s.await(stWaitFile, ReqFile{Op: OpStat, Path: p}, p, "")
}

// doneCWD moves to the directory CWD checked.
func (s *Session) doneCWD(ev Event, _ time.Time) {
	e, _ := ev.(EvFile)
	switch {
	case e.Err != nil:
		s.replyFileErr(e.Err)
	case !e.Info.Mode.IsDir():
		s.reply(codeFileUnavailable, "Not a directory.")
	default:
		s.cwd = s.waitPath
		s.reply(codeFileActionOK, "Directory successfully changed.")
	}
}

// cmdCDUP moves to the parent directory. The parent of a directory that
// exists exists, so no stat is needed; at "/" it stays at "/".
func (s *Session) cmdCDUP(string, time.Time) {
	s.cwd = resolve(s.cwd, "..")
	s.reply(codeFileActionOK, "Directory successfully changed.")
}

// cmdPWD names the working directory, quotes doubled.
func (s *Session) cmdPWD(string, time.Time) {
	s.reply(codePathCreated, quotePath(s.cwd)+" is the current directory.")
}

// cmdSMNT: there is one file system.
func (s *Session) cmdSMNT(string, time.Time) {
	s.reply(codeSuperfluous, "SMNT not needed.")
}
