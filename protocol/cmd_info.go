// Informational commands: SYST HELP NOOP FEAT OPTS.
package protocol

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// featLines are FEAT's features (RFC 2389), each line starting with a space.
var featLines = []string{
	" EPRT",
	" EPSV",
	featHash, // " HASH SHA-256*;SHA-512;SHA-1;MD5;CRC32", the star following OPTS HASH
	" HOST",
	" MDTM",
	" MFMT",
	featMLST, // " MLST type*;size*;...", the stars following OPTS MLST
	" PASV",
	" REST STREAM",
	" SIZE",
	" TVFS",
	" UTF8",
	" XCRC",
	" XMD5",
	" XSHA",
	" XSHA1",
	" XSHA256",
	" XSHA512",
}

// featMLST is FEAT's MLST line with every fact selected.
var featMLST = string(appendFeatFacts([]byte(" MLST "), AllFacts))

// helpLines is HELP's list of verbs, eight to a line; built by init from
// the dispatch table.
var helpLines []string

func init() {
	var verbs []string
	for i := range commands {
		verbs = append(verbs, commands[i].verb)
		if commands[i].alias != "" {
			verbs = append(verbs, commands[i].alias)
		}
	}
	slices.Sort(verbs)
	for len(verbs) > 0 {
		n := min(8, len(verbs))
		line := ""
		for _, v := range verbs[:n] {
			line += " " + v + strings.Repeat(" ", max(0, 4-len(v)))
		}
		helpLines = append(helpLines, strings.TrimRight(line, " "))
		verbs = verbs[n:]
	}
}

// cmdSYST names the system type most clients expect.
func (s *Session) cmdSYST(string, time.Time) {
	s.reply(codeSystemType, "UNIX Type: L8")
}

// cmdNOOP does nothing.
func (s *Session) cmdNOOP(string, time.Time) {
	s.reply(codeOK, "NOOP ok.")
}

// cmdHELP lists the verbs, or shows one verb's syntax.
func (s *Session) cmdHELP(arg string, _ time.Time) {
	verb := strings.ToUpper(strings.TrimSpace(arg))
	if verb == "" {
		s.replyMulti(codeHelp, "The following commands are recognized.", helpLines, "Help OK.")
		return
	}
	c := commandByVerb[verb]
	if c == nil {
		// HELP is implemented; this parameter is not (RFC 959 §4.2).
		s.reply(codeParamNotImpl, "Unknown command "+verb+".")
		return
	}
	text := "Syntax: " + verb
	if c.syntax != "" {
		text += " " + c.syntax
	}
	s.reply(codeHelp, text)
}

// cmdFEAT lists the extensions (RFC 2389); it works before login.
func (s *Session) cmdFEAT(string, time.Time) {
	lines := featLines
	if s.cfg.TLS {
		lines = featLinesTLS
	}
	if s.cfg.ModeZ {
		lines = slices.Insert(slices.Clone(lines), slices.Index(lines, featMLST)+1, " MODE Z")
	}
	if s.hidden != 0 {
		// RFC 3659 §7.8: FEAT shows the facts selected now.
		lines = slices.Clone(lines)
		lines[slices.Index(lines, featMLST)] = string(appendFeatFacts([]byte(" MLST "), AllFacts&^s.hidden))
	}
	lines = s.featHashFor(lines)
	s.replyMulti(codeSystemStatus, "Features:", lines, "End")
}

// cmdOPTS sets options of other commands: UTF8 (always on, RFC 2640) and
// the facts MLST and MLSD return (RFC 3659 §7.9: the facts named, in any
// case, those unknown ignored; none named selects none; the reply lists
// the selection).
func (s *Session) cmdOPTS(arg string, _ time.Time) {
	name, value, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(name) {
	case "UTF8", "UTF-8":
		switch strings.ToUpper(value) {
		case "", "ON", "OFF":
			s.reply(codeOK, "Always in UTF8 mode.")
			return
		}
	case "MODE":
		// OPTS MODE Z LEVEL n, the form lftp and FileZilla send.
		if f := strings.Fields(strings.ToUpper(value)); s.cfg.ModeZ && len(f) == 3 && f[0] == "Z" && f[1] == "LEVEL" {
			n, err := strconv.Atoi(f[2])
			if err != nil || n < 1 || n > s.maxDeflateLevel() {
				s.reply(codeArgSyntaxError, "MODE Z LEVEL takes 1 to ", strconv.Itoa(s.maxDeflateLevel()), ".")
				return
			}
			s.zLevel = int8(n)
			s.reply(codeOK, "MODE Z LEVEL set to ", f[2], ".")
			return
		}
	case "HASH":
		s.optsHASH(value)
		return
	case "MLST":
		var show Facts
		for _, name := range strings.Split(value, ";") {
			for _, n := range factNames {
				if strings.EqualFold(name, n.name) {
					show |= n.f
				}
			}
		}
		s.hidden = AllFacts &^ show
		if show == 0 {
			s.reply(codeOK, "MLST OPTS")
		} else {
			s.reply(codeOK, "MLST OPTS ", string(appendFactNames(nil, show)))
		}
		return
	}
	s.reply(codeArgSyntaxError, "Option not understood.")
}

// deflateLevel is the MODE Z level of the session's transfers.
func (s *Session) deflateLevel() int {
	switch {
	case s.zLevel > 0:
		return int(s.zLevel)
	case s.cfg.ModeZLevel > 0:
		return min(s.cfg.ModeZLevel, s.maxDeflateLevel())
	}
	return 1
}

// maxDeflateLevel is the highest MODE Z level a session may choose.
func (s *Session) maxDeflateLevel() int {
	if m := s.cfg.ModeZMaxLevel; m > 0 && m < 9 {
		return m
	}
	return 9
}
