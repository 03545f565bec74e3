// Listing and status commands: LIST NLST MLSD MLST STAT.
package protocol

import (
	"strconv"
	"time"
)

// listArgs splits a LIST/NLST argument into ls-style options and a path.
// Leading words that start with "-" and hold only letters ("-l", "-la",
// "-A") are options, each followed by one space: a and A set ListAll, the
// others (l, F, R, ...) are accepted and ignored. The rest, possibly empty,
// is the path, whose last element may be a pattern (glob.go).
//
//	"-la /pub" → ListAll, "/pub";   "-l" → 0, "";   "-x-y" → 0, "-x-y"
func listArgs(arg string) (ListFlags, string) {
	var flags ListFlags
	for len(arg) > 1 && arg[0] == '-' {
		end := 1
		for end < len(arg) && arg[end] != ' ' {
			c := arg[end]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return flags, arg
			}
			end++
		}
		for i := 1; i < end; i++ {
			if arg[i] == 'a' || arg[i] == 'A' {
				flags |= ListAll
			}
		}
		if end == len(arg) {
			return flags, ""
		}
		arg = arg[end+1:]
	}
	return flags, arg
}

// cmdLIST sends a directory listing in ls -l form, or the lines of the
// entries a pattern matches.
func (s *Session) cmdLIST(arg string, now time.Time) {
	s.listing(XferList, arg, now)
}

// cmdNLST sends the names in a directory (RFC 959 §4.1.3), or the names a
// pattern matches, each after the folder part of the argument, which is
// what mget needs: "NLST pub/*.txt" sends "pub/a.txt".
func (s *Session) cmdNLST(arg string, now time.Time) {
	s.listing(XferNlst, arg, now)
}

// listing starts a LIST or NLST of arg.
func (s *Session) listing(kind XferKind, arg string, now time.Time) {
	flags, p := listArgs(arg)
	req := ReqTransfer{Kind: kind, Path: resolve(s.cwd, p), Flags: flags}
	if prefix, ok := splitGlob(p); ok {
		req.Glob = true
		if kind == XferNlst {
			req.NamePrefix = prefix
		}
	}
	s.startTransfer(req, now)
}

// cmdMLSD sends a directory's entries with RFC 3659 facts. Its argument
// is never a pattern: RFC 3659 §7 defines MLSD without globbing (and
// §7.1 makes the argument a directory's name, nothing else).
func (s *Session) cmdMLSD(arg string, now time.Time) {
	s.transfer(XferMlsd, resolve(s.cwd, arg), 0, now)
}

// cmdMLST describes one file on the control connection (RFC 3659 §7).
func (s *Session) cmdMLST(arg string, _ time.Time) {
	p := resolve(s.cwd, arg)
	s.await(stWaitFile, ReqFile{Op: OpStat, Path: p}, p, "")
}

// doneMLST sends the facts MLST asked for.
func (s *Session) doneMLST(ev Event, _ time.Time) {
	e, _ := ev.(EvFile)
	if e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	entry := string(AppendFacts([]byte{' '}, e.Info, FactFile, s.perms, AllFacts&^s.hidden, s.waitPath))
	s.replyMulti(codeFileActionOK, "Listing "+s.waitPath, []string{entry}, "End.")
}

// cmdSTAT reports the transfer in flight, the server's status (no
// argument), or a directory listing over the control connection.
func (s *Session) cmdSTAT(arg string, now time.Time) {
	switch {
	case s.state == stXferPending:
		s.reply(codeFileStatus, "Status: opening data connection for "+s.waitPath+".")
	case s.state == stWaitHash:
		s.reply(codeFileStatus, "Status: hashing "+s.waitPath+".")
	case s.state == stXferring:
		var n int64
		rate := ""
		if s.progress != nil {
			n = s.progress.read()
			if r, ok := s.progress.rate(n, now); ok {
				rate = ", " + strconv.FormatInt(r, 10) + " bytes/s"
			}
		}
		s.reply(codeFileStatus, "Status: transferring "+s.waitPath+", "+strconv.FormatInt(n, 10)+" bytes so far"+rate+".")
	case arg == "":
		s.serverStatus()
	case s.perms&PermRead == 0:
		s.reply(codeFileUnavailable, txtPermDenied)
	default:
		_, p := listArgs(arg)
		_, glob := splitGlob(p)
		p = resolve(s.cwd, p)
		s.await(stWaitStat, ReqStatList{Path: p, Glob: glob}, p, "")
	}
}

// statSpan is the shortest span STAT counts a transfer's rate over, once
// the transfer has run that long.
const statSpan = time.Second

// statSample is a transfer's Progress at a moment.
type statSample struct {
	at    time.Time
	bytes int64
}

// progress is the transfer in flight's Progress, with two samples of it
// for STAT's rate: taken at the start, and at STATs statSpan or more
// apart. It lives while the transfer does, so idle sessions do not carry
// it.
type progress struct {
	read     func() int64
	old, new statSample
}

// rate is the rate of a transfer that has moved n bytes by now: bytes per
// second since the older sample; the newer one moves on to now once
// statSpan has passed since it, so the rate covers the last one to two
// spans between STATs (or the whole transfer when STAT comes rarely). It
// reports false at the transfer's first instant.
func (p *progress) rate(n int64, now time.Time) (int64, bool) {
	if now.Sub(p.new.at) >= statSpan {
		p.old, p.new = p.new, statSample{at: now, bytes: n}
	}
	d := now.Sub(p.old.at)
	if d <= 0 {
		return 0, false
	}
	return int64(float64(n-p.old.bytes) / d.Seconds()), true
}

// serverStatus is STAT's 211 reply outside a transfer.
func (s *Session) serverStatus() {
	from := "unknown"
	if a := s.info.Remote.Addr(); a.IsValid() {
		from = a.Unmap().String()
	}
	typ := "ASCII"
	if s.binary {
		typ = "BINARY"
	}
	data := "No data connection"
	switch s.endpoint {
	case endpointPassive:
		data = "Data connection: passive listener ready"
	case endpointActive:
		data = "Data connection: active, to the client's address"
	}
	lines := []string{
		" Connected from " + from,
		" Logged in as " + s.user,
		" TYPE: " + typ + ", STRUcture: File, MODE: Stream",
		" " + data,
	}
	if s.secure {
		prot := "C (clear)"
		if s.protP {
			prot = "P (private)"
		}
		lines = append(lines, " Control connection protected with TLS; data protection "+prot)
	}
	s.replyMulti(codeSystemStatus, "FTP server status:", lines, "End of status.")
}

// doneSTAT sends the listing STAT path asked for.
func (s *Session) doneSTAT(ev Event, _ time.Time) {
	e, _ := ev.(EvStatList)
	if e.Err != nil {
		s.replyFileErr(e.Err)
		return
	}
	b := appendFirst(s.replyBuf(), codeFileStatus, "Status of "+s.waitPath+":")
	b = appendInnerLines(b, e.Lines)
	s.out.Reply = appendReply(b, codeFileStatus, "End of status.")
}
