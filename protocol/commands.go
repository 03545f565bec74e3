// The dispatch table: every verb with its aliases, rules and handler, and the code that applies the rules.
package protocol

import "time"

// argRule says whether a command takes an argument.
type argRule uint8

const (
	argNone     argRule = iota // no argument: a non-empty one is refused with 501
	argOptional                // argument may be empty
	argRequired                // argument must be non-empty, else 501
)

// command is one row of the dispatch table.
type command struct {
	id     uint8   // its index in commands, as Meter.Command gets it
	verb   string  // upper-case verb
	alias  string  // RFC 775 X-form served by the same handler, if any
	login  bool    // refused with 530 before login
	arg    argRule // argument rule, checked before run
	perm   Perm    // permission the account needs (checked before run); 0: none or checked by run
	urgent bool    // served at once during a transfer, ahead of queued lines
	xfer   bool    // a transfer command: it consumes the REST offset, even when refused
	syntax string  // argument syntax shown by HELP verb
	run    func(s *Session, arg string, now time.Time)
	done   func(s *Session, ev Event, now time.Time) // handles the answer to the request run emitted
}

// unimplemented are the verbs of FTP extensions that rftpd recognizes and
// does not do: 502, where a verb it does not know gets 500 (RFC 959 §4.2).
var unimplemented = map[string]bool{
	// checksums in the forms of draft-twine-ftpmd5 (MD5, MMD5)
	"MD5": true, "MMD5": true,
	// RFC 1639 long addresses, RFC 2228 security, RFC 2640 languages
	"LPRT": true, "LPSV": true, "ADAT": true, "MIC": true, "CONF": true, "ENC": true, "LANG": true,
	// others' extensions clients probe for
	"AVBL": true, "CLNT": true, "CSID": true, "DSIZ": true, "MFCT": true, "MFF": true,
	"RMDA": true, "SPSV": true, "THMB": true,
}

// commands is the dispatch table, sorted by verb (HELP lists it in order).
var commands = [...]command{
	{verb: "ABOR", login: true, arg: argNone, urgent: true, run: (*Session).cmdABOR},
	{verb: "ACCT", login: true, arg: argRequired, syntax: "<sp> account-information", run: (*Session).cmdACCT},
	{verb: "ALLO", login: true, arg: argRequired, syntax: "<sp> decimal-integer", run: (*Session).cmdALLO},
	{verb: "APPE", login: true, xfer: true, arg: argRequired, perm: PermWrite, syntax: "<sp> pathname", run: (*Session).cmdAPPE},
	{verb: "AUTH", arg: argRequired, syntax: "<sp> TLS | SSL", run: (*Session).cmdAUTH},
	{verb: "CCC", arg: argNone, run: (*Session).cmdCCC},
	{verb: "CDUP", alias: "XCUP", login: true, arg: argNone, run: (*Session).cmdCDUP},
	{verb: "CWD", alias: "XCWD", login: true, arg: argRequired, syntax: "<sp> pathname", run: (*Session).cmdCWD, done: (*Session).doneCWD},
	{verb: "DELE", login: true, arg: argRequired, perm: PermDelete, syntax: "<sp> pathname", run: (*Session).cmdDELE, done: (*Session).doneDELE},
	{verb: "EPRT", login: true, arg: argRequired, syntax: "<sp> |proto|addr|port|", run: (*Session).cmdEPRT},
	{verb: "EPSV", login: true, arg: argOptional, syntax: "[ <sp> 1 | 2 | ALL ]", run: (*Session).cmdEPSV, done: (*Session).donePassive},
	{verb: "FEAT", arg: argNone, run: (*Session).cmdFEAT},
	{verb: "HASH", login: true, arg: argRequired, perm: PermRead, syntax: "<sp> pathname", run: (*Session).cmdHASH, done: (*Session).doneHASH},
	{verb: "HELP", arg: argOptional, syntax: "[ <sp> command ]", run: (*Session).cmdHELP},
	{verb: "HOST", arg: argRequired, syntax: "<sp> hostname", run: (*Session).cmdHOST},
	{verb: "LIST", login: true, xfer: true, arg: argOptional, perm: PermRead, syntax: "[ <sp> pathname ]", run: (*Session).cmdLIST},
	{verb: "MDTM", login: true, arg: argRequired, perm: PermRead, syntax: "<sp> pathname", run: (*Session).cmdMDTM, done: (*Session).doneMDTM},
	{verb: "MFMT", login: true, arg: argRequired, perm: PermWrite, syntax: "<sp> YYYYMMDDHHMMSS <sp> pathname", run: (*Session).cmdMFMT, done: (*Session).doneMFMT},
	{verb: "MKD", alias: "XMKD", login: true, arg: argRequired, perm: PermMkdir, syntax: "<sp> pathname", run: (*Session).cmdMKD, done: (*Session).doneMKD},
	{verb: "MLSD", login: true, xfer: true, arg: argOptional, perm: PermRead, syntax: "[ <sp> pathname ]", run: (*Session).cmdMLSD},
	{verb: "MLST", login: true, arg: argOptional, perm: PermRead, syntax: "[ <sp> pathname ]", run: (*Session).cmdMLST, done: (*Session).doneMLST},
	{verb: "MODE", login: true, arg: argRequired, syntax: "<sp> S", run: (*Session).cmdMODE},
	{verb: "NLST", login: true, xfer: true, arg: argOptional, perm: PermRead, syntax: "[ <sp> pathname ]", run: (*Session).cmdNLST},
	{verb: "NOOP", arg: argNone, run: (*Session).cmdNOOP},
	{verb: "OPTS", arg: argRequired, syntax: "<sp> UTF8 ON | MLST facts", run: (*Session).cmdOPTS},
	{verb: "PASS", arg: argOptional, syntax: "<sp> password", run: (*Session).cmdPASS, done: (*Session).donePASS},
	{verb: "PASV", login: true, arg: argNone, run: (*Session).cmdPASV, done: (*Session).donePassive},
	{verb: "PBSZ", arg: argRequired, syntax: "<sp> 0", run: (*Session).cmdPBSZ},
	{verb: "PORT", login: true, arg: argRequired, syntax: "<sp> h1,h2,h3,h4,p1,p2", run: (*Session).cmdPORT},
	{verb: "PROT", arg: argRequired, syntax: "<sp> C | P", run: (*Session).cmdPROT},
	{verb: "PWD", alias: "XPWD", login: true, arg: argNone, run: (*Session).cmdPWD},
	{verb: "QUIT", arg: argNone, urgent: true, run: (*Session).cmdQUIT},
	{verb: "RANG", login: true, arg: argRequired, syntax: "<sp> start-point <sp> end-point", run: (*Session).cmdRANG},
	{verb: "REIN", arg: argNone, run: (*Session).cmdREIN},
	{verb: "REST", login: true, arg: argRequired, syntax: "<sp> offset", run: (*Session).cmdREST},
	{verb: "RETR", login: true, xfer: true, arg: argRequired, perm: PermRead, syntax: "<sp> pathname", run: (*Session).cmdRETR},
	{verb: "RMD", alias: "XRMD", login: true, arg: argRequired, perm: PermDelete, syntax: "<sp> pathname", run: (*Session).cmdRMD, done: (*Session).doneRMD},
	{verb: "RNFR", login: true, arg: argRequired, perm: PermRename, syntax: "<sp> pathname", run: (*Session).cmdRNFR, done: (*Session).doneRNFR},
	{verb: "RNTO", login: true, arg: argRequired, perm: PermRename, syntax: "<sp> pathname", run: (*Session).cmdRNTO, done: (*Session).doneRNTO},
	{verb: "SITE", login: true, arg: argRequired, syntax: "<sp> HELP | CHMOD <sp> mode <sp> pathname", run: (*Session).cmdSITE, done: (*Session).doneSITE},
	{verb: "SIZE", login: true, arg: argRequired, perm: PermRead, syntax: "<sp> pathname", run: (*Session).cmdSIZE, done: (*Session).doneSIZE},
	{verb: "SMNT", login: true, arg: argRequired, syntax: "<sp> pathname", run: (*Session).cmdSMNT},
	{verb: "STAT", login: true, arg: argOptional, urgent: true, syntax: "[ <sp> pathname ]", run: (*Session).cmdSTAT, done: (*Session).doneSTAT},
	{verb: "STOR", login: true, xfer: true, arg: argRequired, perm: PermWrite, syntax: "<sp> pathname", run: (*Session).cmdSTOR},
	{verb: "STOU", login: true, xfer: true, arg: argOptional, perm: PermWrite, run: (*Session).cmdSTOU},
	{verb: "STRU", login: true, arg: argRequired, syntax: "<sp> F", run: (*Session).cmdSTRU},
	{verb: "SYST", arg: argNone, run: (*Session).cmdSYST},
	{verb: "TYPE", login: true, arg: argRequired, syntax: "<sp> A | I | L 8", run: (*Session).cmdTYPE},
	{verb: "USER", arg: argRequired, syntax: "<sp> username", run: (*Session).cmdUSER},
	{verb: "XCRC", login: true, arg: argRequired, perm: PermRead, syntax: xhashSyntax, run: (*Session).cmdXCRC, done: (*Session).doneXHash},
	{verb: "XMD5", login: true, arg: argRequired, perm: PermRead, syntax: xhashSyntax, run: (*Session).cmdXMD5, done: (*Session).doneXHash},
	{verb: "XSHA1", alias: "XSHA", login: true, arg: argRequired, perm: PermRead, syntax: xhashSyntax, run: (*Session).cmdXSHA1, done: (*Session).doneXHash},
	{verb: "XSHA256", login: true, arg: argRequired, perm: PermRead, syntax: xhashSyntax, run: (*Session).cmdXSHA256, done: (*Session).doneXHash},
	{verb: "XSHA512", login: true, arg: argRequired, perm: PermRead, syntax: xhashSyntax, run: (*Session).cmdXSHA512, done: (*Session).doneXHash},
}

// xhashSyntax is HELP's syntax of the X forms of HASH.
const xhashSyntax = "<sp> pathname [ <sp> start [ <sp> end ] ]"

// commandByVerb maps every verb and alias to its row; built by init, so the
// handlers may consult it (HELP) without an initialisation cycle.
var commandByVerb map[string]*command

func init() {
	commandByVerb = make(map[string]*command, 2*len(commands))
	for i := range commands {
		c := &commands[i]
		c.id = uint8(i)
		commandByVerb[c.verb] = c
		if c.alias != "" {
			commandByVerb[c.alias] = c
		}
	}
}

// lookup finds the command for an upper-case verb; nil if unknown.
func lookup(verb []byte) *command {
	return commandByVerb[string(verb)]
}

// urgentCommand returns the command of line if it is one served at once
// during a transfer (ABOR, STAT, QUIT), else nil.
func urgentCommand(line []byte) *command {
	p, err := parseLine(line)
	if err != parseOK {
		return nil
	}
	if c := lookup(p.verbName()); c != nil && c.urgent {
		return c
	}
	return nil
}

// execute parses one line and applies the table's rules in order: syntax
// (500), unknown verb (502), bad argument bytes (501), login (530),
// argument rule (501), permission (550); then runs the handler, which sends
// the reply or emits a request.
//
// RNFR's source is forgotten by any command but RNTO; RANG's range by any
// command but RANG (HASH uses it first); REST's offset is forgotten after
// any transfer command.
func (s *Session) execute(line []byte, now time.Time) {
	p, perr := parseLine(line)
	var c *command
	if perr != parseEmpty && perr != parseBadVerb {
		c = lookup(p.verbName())
	}
	if c != nil && s.mOpen&markCmd != 0 {
		s.mVerb = c.id
	}
	if c == nil && isHTTPRequest(&p) {
		// A web client or proxy probe (or a cross-protocol attack) on the
		// FTP port: nothing it sends next is FTP.
		s.reply(codeNotAvailable, "This is an FTP server; closing control connection.")
		s.close()
		return
	}
	if c == nil || c.verb != "RNTO" {
		s.rnfr = ""
	}
	if !s.refuseRanged(c) {
		s.dispatch(c, &p, perr, now)
	}
	if c == nil || c.verb != "RANG" {
		s.rang = nil
	}
	if c != nil && c.xfer {
		s.rest = 0
	}
}

// dispatch checks the rules of c's row and runs its handler.
func (s *Session) dispatch(c *command, p *parsedLine, perr parseError, now time.Time) {
	switch perr {
	case parseEmpty:
		s.reply(codeSyntaxError, "Empty command.")
		return
	case parseBadVerb:
		s.reply(codeSyntaxError, "Syntax error, command unrecognized.")
		return
	}
	if c == nil {
		// RFC 959 §4.2: 500 for a command not recognized, 502 for one
		// recognized but not implemented (an extension rftpd knows of
		// and does not do).
		if unimplemented[string(p.verbName())] {
			s.reply(codeNotImplemented, "Command not implemented.")
			return
		}
		s.reply(codeSyntaxError, "Syntax error, command unrecognized.")
		return
	}
	switch perr {
	case parseArgUTF8:
		s.reply(codeArgSyntaxError, "Argument is not valid UTF-8.")
		return
	case parseArgNUL:
		s.reply(codeArgSyntaxError, "Argument contains a NUL byte.")
		return
	case parseArgCRLF:
		s.reply(codeArgSyntaxError, "Argument contains CR or LF.")
		return
	}
	if c.login && !stateTable[s.state].loggedIn {
		s.reply(codeNotLoggedIn, "Please log in with USER and PASS.")
		return
	}
	switch {
	case c.arg == argNone && len(p.arg) > 0:
		s.reply(codeArgSyntaxError, c.verb+" takes no argument.")
		return
	case c.arg == argRequired && len(p.arg) == 0:
		s.reply(codeArgSyntaxError, "Syntax error in parameters or arguments.")
		return
	}
	if c.perm != 0 && s.perms&c.perm == 0 {
		s.reply(codeFileUnavailable, txtPermDenied)
		return
	}
	s.cur = c
	c.run(s, string(p.arg), now)
	s.cur = nil
}
