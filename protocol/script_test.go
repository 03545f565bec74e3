// The transcript runner: replays a conversation script against a Session and checks every byte.
package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scriptStart is the fake clock's reading when a script connects.
var scriptStart = time.Date(2024, 3, 4, 12, 0, 0, 0, time.UTC)

// testConfig is the configuration scripts start from.
func testConfig() Config {
	c := DefaultConfig()
	c.AnonymousEnabled = true
	c.MinRate = 0 // scripts about it turn it on
	return c
}

// testConn is the connection scripts start from.
var testConn = ConnInfo{
	Local:  netip.MustParseAddrPort("192.0.2.1:21"),
	Remote: netip.MustParseAddrPort("192.0.2.10:50000"),
}

// runner replays one script; see testdata/README.md for the format.
type runner struct {
	t    testing.TB
	name string
	cfg  Config
	info ConnInfo
	s    *Session
	now  time.Time

	batch bool // take the output once, at the end, and compare it whole
	fresh bool // the session just connected and nothing else happened yet

	lineNo  int
	action  string   // the last action, for messages
	actLine int      // its line number
	got     Output   // its output
	want    []byte   // expected reply bytes
	wantReq []string // expected requests, formatted
	wantEnd bool     // expected Close
	checked bool     // expectations of the last action were compared
}

// runScript replays script; name labels failures.
func runScript(t testing.TB, name, script string) *Session {
	t.Helper()
	return replay(t, name, script, false)
}

// replay runs script, checking each action's output, or in batch mode the
// whole conversation's output at once (which must not depend on when the
// driver collects it).
func replay(t testing.TB, name, script string, batch bool) *Session {
	t.Helper()
	r := &runner{t: t, name: name, cfg: testConfig(), info: testConn, now: scriptStart, batch: batch}
	sc := bufio.NewScanner(strings.NewReader(script))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		r.lineNo++
		r.step(strings.TrimRight(sc.Text(), "\r"))
	}
	r.connect()
	if batch {
		r.got = r.s.TakeOutput()
		r.checked = false
	}
	r.check()
	return r.s
}

// fail reports a script error at the current line.
func (r *runner) fail(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("%s:%d: %s", r.name, r.lineNo, fmt.Sprintf(format, args...))
}

// connect creates the session on the first line that needs it; the greeting
// is the output of this implicit first action.
func (r *runner) connect() {
	if r.s != nil {
		return
	}
	r.s = NewSession(&r.cfg, r.info, r.now)
	r.begin("connect")
	r.fresh = true
}

// begin checks the previous action's expectations and collects the output
// of the action just performed.
func (r *runner) begin(action string) {
	r.t.Helper()
	if r.batch {
		r.action, r.actLine = "the whole conversation", 0
		if r.s.bug != nil {
			r.fail("after %q: %v", action, r.s.bug)
		}
		return
	}
	r.check()
	r.action, r.actLine = action, r.lineNo
	r.got = r.s.TakeOutput()
	r.want, r.wantReq, r.wantEnd, r.checked = nil, nil, false, false
	if r.s.bug != nil {
		r.fail("after %q: %v", action, r.s.bug)
	}
	if err := checkReplies(r.got.Reply); err != nil {
		r.fail("after %q: malformed reply %q: %v", action, r.got.Reply, err)
	}
	for _, q := range r.got.Requests {
		if err := checkRequest(q); err != nil {
			r.fail("after %q: %v", action, err)
		}
	}
}

// check compares the last action's output with what the script expects.
func (r *runner) check() {
	r.t.Helper()
	if r.s == nil || r.checked {
		return
	}
	r.checked = true
	var gotReq []string
	for _, q := range r.got.Requests {
		gotReq = append(gotReq, formatRequest(q))
	}
	if string(r.got.Reply) != string(r.want) {
		r.t.Fatalf("%s:%d: after %q:\n got replies:\n%s\nwant:\n%s", r.name, r.actLine, r.action,
			indent(r.got.Reply), indent(r.want))
	}
	if strings.Join(gotReq, "\n") != strings.Join(r.wantReq, "\n") {
		r.t.Fatalf("%s:%d: after %q:\n got requests:\n  %s\nwant:\n  %s", r.name, r.actLine, r.action,
			strings.Join(gotReq, "\n  "), strings.Join(r.wantReq, "\n  "))
	}
	if r.got.Close != r.wantEnd {
		r.t.Fatalf("%s:%d: after %q: Close = %v, want %v", r.name, r.actLine, r.action, r.got.Close, r.wantEnd)
	}
}

// indent shows reply bytes one line each, CRLF made visible.
func indent(b []byte) string {
	if len(b) == 0 {
		return "  (none)"
	}
	return "  " + strings.ReplaceAll(strconv.Quote(string(b)), `\r\n`, "\\r\\n\n  ")
}

// step interprets one script line.
func (r *runner) step(line string) {
	r.t.Helper()
	if line == "" || strings.HasPrefix(line, "#") {
		return
	}
	op, rest, _ := strings.Cut(line, " ")
	switch op {
	case "config":
		if r.s != nil {
			r.fail("config after the session started")
		}
		r.config(rest)
		return
	case "conn":
		if r.s != nil {
			r.fail("conn after the session started")
		}
		for _, kv := range tokens(r, rest) {
			k, v, _ := strings.Cut(kv, "=")
			ap, err := netip.ParseAddrPort(v)
			if err != nil && v != "" {
				r.fail("conn: %v", err)
			}
			switch k {
			case "local":
				r.info.Local = ap
			case "remote":
				r.info.Remote = ap
			default:
				r.fail("conn: unknown key %q", k)
			}
		}
		return
	}
	r.connect()
	if op != "login" {
		defer func() { r.fresh = false }()
	}
	switch op {
	case "<", "<q", "!", "=":
		if r.checked && !r.batch {
			r.fail("expectation %q follows no action", line)
		}
	}
	switch op {
	case ">":
		r.s.Line([]byte(rest), r.now)
		r.begin(line)
	case ">q":
		l, err := strconv.Unquote(rest)
		if err != nil {
			r.fail("bad quoted line: %v", err)
		}
		r.s.Line([]byte(l), r.now)
		r.begin(line)
	case "toolong":
		r.s.LineTooLong(r.now)
		r.begin(line)
	case "shutdown":
		r.s.Shutdown(r.now)
		r.begin(line)
	case "@":
		r.s.Event(parseEvent(r, rest), r.now)
		r.begin(line)
	case "+", "~":
		d, err := time.ParseDuration(rest)
		if err != nil {
			r.fail("bad duration: %v", err)
		}
		r.now = r.now.Add(d)
		if op == "+" {
			r.s.Tick(r.now)
			r.begin(line)
		}
	case "<":
		r.want = append(append(r.want, rest...), '\r', '\n')
	case "<q":
		l, err := strconv.Unquote(rest)
		if err != nil {
			r.fail("bad quoted reply: %v", err)
		}
		r.want = append(r.want, l...)
	case "!":
		r.wantReq = append(r.wantReq, rest)
	case "=":
		if rest != "close" {
			r.fail("unknown expectation %q", line)
		}
		r.wantEnd = true
	case "?":
		r.assert(rest)
	case "login":
		r.login(rest)
	default:
		r.fail("unknown directive %q", line)
	}
}

// config applies "key=value" settings.
func (r *runner) config(rest string) {
	for _, kv := range tokens(r, rest) {
		k, v, _ := strings.Cut(kv, "=")
		dur := func() time.Duration {
			d, err := time.ParseDuration(v)
			if err != nil {
				r.fail("config %s: %v", k, err)
			}
			return d
		}
		switch k {
		case "anon":
			r.cfg.AnonymousEnabled = v == "on"
		case "login":
			r.cfg.LoginTimeout = dur()
		case "idle":
			r.cfg.IdleTimeout = dur()
		case "data":
			r.cfg.DataTimeout = dur()
		case "stall":
			r.cfg.StallTimeout = dur()
		case "faildelay":
			r.cfg.LoginFailDelay = dur()
		case "minrate":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				r.fail("config minrate: %v", err)
			}
			r.cfg.MinRate = n
		case "window":
			r.cfg.RateWindow = dur()
		case "maxfail":
			n, err := strconv.Atoi(v)
			if err != nil {
				r.fail("config maxfail: %v", err)
			}
			r.cfg.MaxLoginFailures = n
		case "queue":
			n, err := strconv.Atoi(v)
			if err != nil {
				r.fail("config queue: %v", err)
			}
			r.cfg.MaxQueued = n
		case "banner":
			r.cfg.Banner = v
		case "tls":
			r.cfg.TLS = v == "on"
		case "implicit":
			r.cfg.Implicit = v == "on"
		case "tlsaccounts":
			r.cfg.TLSLoginAccounts = v == "on"
		case "tlsanon":
			r.cfg.TLSLoginAnonymous = v == "on"
		case "modez":
			r.cfg.ModeZ = v == "on"
		case "zlevel", "zmax":
			n, err := strconv.Atoi(v)
			if err != nil {
				r.fail("config %s: %v", k, err)
			}
			if k == "zlevel" {
				r.cfg.ModeZLevel = n
			} else {
				r.cfg.ModeZMaxLevel = n
			}
		default:
			r.fail("config: unknown key %q", k)
		}
	}
}

// assert checks "ready true|false", "deadline +DUR|none", "cwd PATH".
func (r *runner) assert(rest string) {
	r.t.Helper()
	what, v, _ := strings.Cut(rest, " ")
	switch what {
	case "ready":
		if got := strconv.FormatBool(r.s.Ready()); got != v {
			r.fail("Ready() = %s, want %s", got, v)
		}
	case "deadline":
		d := r.s.Deadline()
		got := "none"
		if !d.IsZero() {
			got = "+" + d.Sub(scriptStart).String()
		}
		if got != v {
			r.fail("Deadline() = %s, want %s", got, v)
		}
	case "cwd":
		if r.s.cwd != v {
			r.fail("cwd = %q, want %q", r.s.cwd, v)
		}
	case "ignored":
		if got := strconv.Itoa(r.s.ignored); got != v {
			r.fail("ignored events = %s, want %s", got, v)
		}
	default:
		r.fail("unknown assertion %q", rest)
	}
}

// login performs a whole password login as "bob", checking each reply; the
// argument lists the permissions ("all" by default).
func (r *runner) login(rest string) {
	r.t.Helper()
	if r.fresh {
		// A script that starts with login expects the greeting.
		r.want = appendReply(r.want, codeServiceReady, r.cfg.Banner)
	}
	perms, extra := "all", ""
	for _, a := range strings.Fields(rest) {
		if p, ok := strings.CutPrefix(a, "perms="); ok {
			perms = p
		} else if a == "tlsdata" {
			extra = " tlsdata"
		} else {
			r.fail("login: unknown argument %q", a)
		}
	}
	req := `! ReqLogin user="bob" pass="secret"`
	if r.s != nil && r.s.secure {
		req += " secure"
	}
	for _, st := range []string{
		"> USER bob", "< 331 Password required for bob.",
		"> PASS secret", req,
		"@ EvLogin ok perms=" + perms + extra, "< 230 Login successful.",
	} {
		r.step(st)
	}
	if !r.batch {
		r.check()
	}
}

// tokens splits on spaces, keeping "double quoted" parts (Go syntax) whole.
func tokens(r *runner, s string) []string {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		end := 0
		for end < len(s) && s[end] != ' ' {
			if s[end] == '"' {
				q, err := strconv.QuotedPrefix(s[end:])
				if err != nil {
					r.fail("bad quoting in %q", s)
				}
				end += len(q)
				continue
			}
			end++
		}
		tok := s[:end]
		if k, v, ok := strings.Cut(tok, "="); ok && strings.HasPrefix(v, `"`) {
			u, err := strconv.Unquote(v)
			if err != nil {
				r.fail("bad quoting in %q", tok)
			}
			tok = k + "=" + u
		} else if strings.HasPrefix(tok, `"`) {
			u, err := strconv.Unquote(tok)
			if err != nil {
				r.fail("bad quoting in %q", tok)
			}
			tok = u
		}
		out = append(out, tok)
		s = s[end:]
	}
	return out
}

// testErrors names the errors scripts can inject; each is wrapped the way a
// DTP would wrap it.
var testErrors = map[string]error{
	"aborted":      ErrAborted,
	"dataconn":     ErrDataConn,
	"busy":         ErrBusy,
	"escapes":      ErrEscapes,
	"notdir":       ErrNotDir,
	"isdir":        ErrIsDir,
	"notempty":     ErrNotEmpty,
	"badname":      ErrBadName,
	"badoffset":    ErrBadOffset,
	"asciiscan":    ErrASCIIScan,
	"nospace":      ErrNoSpace,
	"quota":        ErrQuota,
	"perm":         ErrPermission,
	"noendpoint":   ErrNoEndpoint,
	"tlsrequired":  ErrTLSRequired,
	"tlsreuse":     ErrTLSReuse,
	"tlshandshake": ErrTLSHandshake,
	"fsperm":       fs.ErrPermission,
	"notexist":     fs.ErrNotExist,
	"exist":        fs.ErrExist,
	"other":        errors.New("disk on fire"),
}

// parseEvent builds an event from "EvKind key=value ...".
func parseEvent(r *runner, s string) Event {
	toks := tokens(r, s)
	if len(toks) == 0 {
		r.fail("empty event")
	}
	kind, args := toks[0], toks[1:]
	var (
		flags   = map[string]bool{}
		vals    = map[string]string{}
		err     error
		integer = func(k string, def int64) int64 {
			v, ok := vals[k]
			if !ok {
				return def
			}
			n, e := strconv.ParseInt(v, 10, 64)
			if e != nil {
				r.fail("%s=%q: %v", k, v, e)
			}
			return n
		}
	)
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			vals[k] = v
		} else {
			flags[a] = true
		}
	}
	if e, ok := vals["err"]; ok {
		base, known := testErrors[e]
		if !known {
			r.fail("unknown error %q", e)
		}
		err = fmt.Errorf("dtp: test: %w", base)
	}
	switch kind {
	case "EvLogin":
		var p Perm
		switch v := vals["perms"]; v {
		case "all":
			p = PermRead | PermWrite | PermDelete | PermRename | PermMkdir
		case "", "none":
		default:
			for _, name := range strings.Split(v, ",") {
				b, ok := ParsePerm(name)
				if !ok {
					r.fail("unknown permission %q", name)
				}
				p |= b
			}
		}
		return EvLogin{OK: flags["ok"], Anonymous: flags["anon"], Perms: p, TLSData: flags["tlsdata"], Err: err}
	case "EvFile":
		fi := FileInfo{Name: vals["name"], Size: integer("size", 0)}
		switch {
		case flags["dir"]:
			fi.Mode = fs.ModeDir | 0o755
		case flags["link"]:
			fi.Mode = fs.ModeSymlink | 0o777
		default:
			fi.Mode = 0o644
		}
		if m, ok := vals["mode"]; ok {
			n, e := strconv.ParseUint(m, 8, 32)
			if e != nil {
				r.fail("mode: %v", e)
			}
			fi.Mode = fi.Mode&fs.ModeType | fs.FileMode(n)
		}
		if t, ok := vals["mtime"]; ok {
			tt, e := time.Parse(mdtmLayout, t)
			if e != nil {
				r.fail("mtime: %v", e)
			}
			fi.ModTime = tt
		}
		return EvFile{Info: fi, Err: err}
	case "EvStatList":
		return EvStatList{Lines: []byte(vals["lines"]), Err: err}
	case "EvPassive":
		var ap netip.AddrPort
		if v, ok := vals["addr"]; ok {
			a, e := netip.ParseAddrPort(v)
			if e != nil {
				r.fail("addr: %v", e)
			}
			ap = a
		}
		return EvPassive{Addr: ap, Err: err}
	case "EvTransferStart":
		ev := EvTransferStart{Size: integer("size", -1), Name: vals["name"]}
		if v, ok := vals["progress"]; ok && v == "grow" {
			var n int64
			ev.Progress = func() int64 { n += 1000; return n }
		} else if ok {
			n := integer("progress", 0)
			ev.Progress = func() int64 { return n }
		}
		return ev
	case "EvTransferDone":
		return EvTransferDone{Bytes: integer("bytes", 0), Err: err}
	case "EvHash":
		sum, e := hexBytes(vals["sum"])
		if e != nil {
			r.fail("sum: %v", e)
		}
		return EvHash{Sum: sum, Start: integer("start", 0), End: integer("end", 0), Err: err}
	case "EvTLS":
		return EvTLS{Err: err}
	case "nil":
		return nil
	}
	r.fail("unknown event %q", kind)
	return nil
}

// hexBytes decodes a hex string (encoding/hex is not imported: the
// package's import test looks at test imports too).
func hexBytes(h string) ([]byte, error) {
	if len(h)%2 != 0 {
		return nil, errors.New("odd length")
	}
	b := make([]byte, len(h)/2)
	for i := range b {
		n, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		b[i] = byte(n)
	}
	return b, nil
}

// hashAlgoNames names HashAlgos in scripts.
var hashAlgoNames = map[HashAlgo]string{
	HashSHA256: "sha256", HashSHA512: "sha512", HashSHA1: "sha1", HashMD5: "md5", HashCRC32: "crc32",
}

// fileOpNames names FileOps in scripts.
var fileOpNames = map[FileOp]string{
	OpStat: "stat", OpMkdir: "mkdir", OpRmdir: "rmdir", OpDelete: "delete", OpRename: "rename",
	OpChmod: "chmod", OpSetTime: "settime", OpRenameCheck: "renamecheck",
}

// xferNames names XferKinds in scripts.
var xferNames = map[XferKind]string{
	XferRetr: "retr", XferStor: "stor", XferAppe: "appe", XferStou: "stou",
	XferList: "list", XferNlst: "nlst", XferMlsd: "mlsd",
}

// formatRequest renders a request the way scripts write it after "!".
func formatRequest(q Request) string {
	switch q := q.(type) {
	case ReqLogin:
		s := fmt.Sprintf("ReqLogin user=%q pass=%q", q.User, q.Pass)
		if q.Secure {
			s += " secure"
		}
		return s
	case ReqFile:
		s := fmt.Sprintf("ReqFile %s %q", fileOpNames[q.Op], q.Path)
		switch q.Op {
		case OpRename:
			s += fmt.Sprintf(" %q", q.Path2)
		case OpChmod:
			s += fmt.Sprintf(" %04o", uint32(q.Mode))
		case OpSetTime:
			s += " " + q.Time.UTC().Format(mdtmLayout)
		}
		if q.ASCII {
			s += " ascii"
		}
		return s
	case ReqStatList:
		if q.Glob {
			return fmt.Sprintf("ReqStatList %q glob", q.Path)
		}
		return fmt.Sprintf("ReqStatList %q", q.Path)
	case ReqPassive:
		if q.Extended {
			return "ReqPassive extended"
		}
		return "ReqPassive"
	case ReqActive:
		return "ReqActive " + q.Addr.String()
	case ReqTransfer:
		s := fmt.Sprintf("ReqTransfer %s %q", xferNames[q.Kind], q.Path)
		if q.Offset != 0 {
			s += fmt.Sprintf(" offset=%d", q.Offset)
		}
		if q.ASCII {
			s += " ascii"
		}
		if q.Flags&ListAll != 0 {
			s += " all"
		}
		if q.Glob {
			s += " glob"
		}
		if q.NamePrefix != "" {
			s += fmt.Sprintf(" prefix=%q", q.NamePrefix)
		}
		if q.Protect {
			s += " protect"
		}
		if q.Deflate != 0 {
			s += fmt.Sprintf(" deflate=%d", q.Deflate)
		}
		if q.Hide != 0 {
			s += " facts=" + string(appendFactNames(nil, AllFacts&^q.Hide))
		}
		return s
	case ReqHash:
		s := fmt.Sprintf("ReqHash %s %q", hashAlgoNames[q.Algo], q.Path)
		if q.Start != 0 {
			s += fmt.Sprintf(" start=%d", q.Start)
		}
		if q.End != -1 {
			s += fmt.Sprintf(" end=%d", q.End)
		}
		if q.Clamp {
			s += " clamp"
		}
		return s
	case ReqAbort:
		return "ReqAbort"
	case ReqLogout:
		return "ReqLogout"
	case ReqStartTLS:
		return "ReqStartTLS"
	}
	return fmt.Sprintf("unknown %T", q)
}

// checkReplies verifies that b is a sequence of well-formed replies: lines
// end in CRLF with no stray CR or LF, each line starts with three digits and
// ' ' or '-' (inner lines of a multi-line reply excepted: they must not look
// like a last line), and a multi-line reply ends with its own code.
func checkReplies(b []byte) error {
	open := "" // code of the multi-line reply in progress
	for len(b) > 0 {
		i := strings.Index(string(b), "\r\n")
		if i < 0 {
			return errors.New("line without CRLF")
		}
		line := string(b[:i])
		b = b[i+2:]
		if strings.ContainsAny(line, "\r\n") {
			return fmt.Errorf("stray CR or LF in %q", line)
		}
		isCode := len(line) >= 4 && line[0] >= '1' && line[0] <= '5' && allDigits(line[:3]) && (line[3] == ' ' || line[3] == '-')
		if open != "" {
			if isCode && line[:3] == open && line[3] == ' ' {
				open = ""
				continue
			}
			if line != "" && line[0] >= '0' && line[0] <= '9' {
				return fmt.Errorf("inner line %q starts with a digit", line)
			}
			continue
		}
		if !isCode {
			return fmt.Errorf("bad reply line %q", line)
		}
		if line[3] == '-' {
			open = line[:3]
		}
	}
	if open != "" {
		return fmt.Errorf("multi-line %s reply not closed", open)
	}
	return nil
}

// checkRequest verifies that every path a request carries is clean and
// absolute.
func checkRequest(q Request) error {
	var paths []string
	switch q := q.(type) {
	case ReqFile:
		paths = append(paths, q.Path)
		if q.Op == OpRename {
			paths = append(paths, q.Path2)
		}
	case ReqStatList:
		paths = append(paths, q.Path)
	case ReqHash:
		paths = append(paths, q.Path)
		if q.Start < 0 || q.End < -1 || (q.End >= 0 && q.End < q.Start) || hashAlgoNames[q.Algo] == "" {
			return fmt.Errorf("bad range or algorithm in %s", formatRequest(q))
		}
	case ReqTransfer:
		paths = append(paths, q.Path)
		if q.Offset < 0 {
			return fmt.Errorf("negative offset in %s", formatRequest(q))
		}
	case ReqActive:
		if !q.Addr.IsValid() || q.Addr.Port() < 1024 {
			return fmt.Errorf("bad active address in %s", formatRequest(q))
		}
	}
	for _, p := range paths {
		if !isCleanAbs(p) {
			return fmt.Errorf("path %q is not clean and absolute in %s", p, formatRequest(q))
		}
	}
	return nil
}

// TestScriptRunnerCatchesMismatch makes sure the runner fails on a wrong
// expectation, so passing scripts mean something.
func TestScriptRunnerCatchesMismatch(t *testing.T) {
	ft := &fakeTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		runScript(ft, "mismatch", "< 220 wrong banner\n")
	}()
	if !ft.failed {
		t.Fatal("a wrong greeting was not reported")
	}
	for _, script := range []string{
		"login\n> NOOP\n", // a reply missing from the script
		"login\n> NOOP\n< 200 NOOP ok.\n< 200 NOOP ok.\n", // one too many
		"login\n> CWD x\n< 250 x\n",                       // a request missing
		"login\n= close\n",                                // no close
	} {
		for _, batch := range []bool{false, true} {
			ft := &fakeTB{TB: t}
			func() {
				defer func() { _ = recover() }()
				replay(ft, "mismatch", script, batch)
			}()
			if !ft.failed {
				t.Errorf("mismatch in %q (batch %v) was not reported", script, batch)
			}
		}
	}
	for _, batch := range []bool{false, true} {
		replay(t, "login", "login\n> NOOP\n< 200 NOOP ok.\n", batch)
	}
}

// fakeTB records Fatalf instead of stopping the real test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}
