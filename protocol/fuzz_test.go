// FuzzSession: random lines, events and ticks must never panic nor produce a malformed reply.
package protocol

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzErrors are the errors fuzzed events carry.
var fuzzErrors = []error{
	nil, ErrAborted, ErrDataConn, ErrBusy, ErrEscapes, ErrNotDir, ErrIsDir, ErrNotEmpty, ErrBadName,
	ErrNoSpace, ErrQuota, ErrPermission, ErrNoEndpoint, fs.ErrNotExist, fs.ErrExist,
	fs.ErrPermission, ErrTLSRequired, ErrTLSReuse, ErrTLSHandshake, errors.New("other"),
}

// fuzzEvent builds an event from a few bytes. b[0] >= 128 picks an event
// the current state expects, so fuzzing gets past the first wait.
func fuzzEvent(s *Session, b []byte) Event {
	at := func(i int) byte {
		if i < len(b) {
			return b[i]
		}
		return 0
	}
	err := fuzzErrors[int(at(1))%len(fuzzErrors)]
	if at(1) >= 128 {
		err = nil
	}
	kind := int(at(0)) % 8
	if at(0) >= 128 {
		switch exp := stateTable[s.state].expects; {
		case exp&evTLS != 0:
			kind = 6
		case exp&evLogin != 0:
			kind = 0
		case exp&evFile != 0:
			kind = 1
		case exp&evStatList != 0:
			kind = 2
		case exp&evPassive != 0:
			kind = 3
		case exp&evXferStart != 0 && at(0)&1 == 0:
			kind = 4
		case exp&(evXferStart|evXferDone) != 0:
			kind = 5
		case exp&evHash != 0:
			kind = 7
		}
	}
	rest := string(b[min(len(b), 3):])
	mode := fs.FileMode(at(2)) << 1
	if at(2)&1 != 0 {
		mode |= fs.ModeDir
	}
	switch kind {
	case 0:
		return EvLogin{OK: at(2)&1 != 0, Anonymous: at(2)&2 != 0, Perms: Perm(at(2) >> 2), TLSData: at(3)&1 != 0, Err: err}
	case 1:
		return EvFile{Info: FileInfo{Name: rest, Size: int64(at(2)) - 5, Mode: mode, ModTime: time.Unix(int64(at(2))<<24, 0)}, Err: err}
	case 2:
		return EvStatList{Lines: []byte(rest), Err: err}
	case 3:
		var a [16]byte
		copy(a[:], b)
		addr := netip.AddrFrom16(a)
		if at(2)&1 == 0 {
			addr = netip.AddrFrom4([4]byte{at(3), at(4), at(5), at(6)})
		}
		return EvPassive{Addr: netip.AddrPortFrom(addr, uint16(at(2))<<8|uint16(at(3))), Err: err}
	case 4:
		n := int64(at(2))
		return EvTransferStart{Size: n - 1, Name: rest, Progress: func() int64 { return n }}
	case 5:
		return EvTransferDone{Bytes: int64(at(2)), Err: err}
	case 7:
		return EvHash{Sum: []byte(rest), Start: int64(at(2)), End: int64(at(2)) + int64(at(3)), Err: err}
	default:
		return EvTLS{Err: err}
	}
}

// fuzzSeeds are whole conversations, one operation per line (see
// FuzzSession for the operation bytes).
var fuzzSeeds = []string{
	"LUSER anonymous\nLPASS a@b\nE\x80\x85\x1f\nLPWD\nLCWD pub\nE\x80\x80\x01\nLEPSV\nE\x80\x80\x00\nLRETR a\nE\x80\x80\nE\x81\x80\nLQUIT",
	"LUSER bob\nLPASS x\nE\x80\x80\xff\nLPASV\nE\x80\x80\x00\xc0\x00\x02\x01\nLLIST -la\nLSTAT\nLABOR\nE\x81\x01\nLNOOP",
	"LUSER bob\nLPASS x\nE\x80\x80\xff\nLPORT 192,0,2,10,195,80\nLSTOR x\nT\x1f\nT\x1f\nE\x81\x01\nS",
	"LUSER bob\nLPASS x\nE\x80\x80\xff\nLRNFR a\nLRNTO b\nE\x80\x80\nE\x80\x80\nLMFMT 20240101000000 x\nE\x80\x84\nLSITE CHMOD 755 x",
	"LUSER bob\nLPASS x\nE\x80\x80\xff\nLSTAT /\nE\x80\x80\x00213 x\r\nLMLST\nE\x80\x80\x01\nLREIN\nLFEAT\nLHELP\nX\nT\xff",
	"L\nLNOOP\r\nLCWD \xff\nLCWD a\x00\nLXCWD ../..\nLHOST x\nLOPTS UTF8 ON\nT\xff\nT\xff",
	"LUSER bob\nLPASS x\nE\x80\x80\xff\nLEPSV\nLRETR a\nLRETR b\nLQUIT\nE\x80\x80\x00\nE\x80\x80\x01\nE\x81\x80",
	"LUSER bob\nLPASS x\nE\x80\x80\xff\nLEPSV\nE\x80\x80\x00\nLRETR a\nLPWD\nLQUIT\nE\x81\x80",
	"LUSER bob\nLPASS x\nE\x80\x80\xff\nLOPTS HASH MD5\nLRANG 0 9\nLHASH a\nLSTAT\nLABOR\nE\x80\x80\x00\x05abc\nLXCRC \"a b\" 1 2\nLQUIT\nE\x80\x00",
	// FTPS, after a "C" line of settings (see FuzzSession).
	"C\x05\nLUSER bob\nLAUTH TLS\nLUSER bob\nE\x80\x80\nLPBSZ 0\nLPROT P\nLUSER bob\nLPASS x\nE\x80\x80\xff\x01\nLEPSV\nE\x80\x80\x00\nLRETR a\nE\x80\x81\nLCCC",
	"C\x0f\nLUSER anonymous\nLAUTH SSL\nLNOOP\nE\x80\x01\nLAUTH TLS",
	"C\x07\nE\x80\x80\nLUSER bob\nLPASS x\nE\x80\x80\xff\x01\nLPASV\nE\x80\x80\x00\nLPROT C\nLLIST\nLREIN\nLSTAT",
	"C\x01\nLUSER bob\nLPASS x\nLAUTH TLS\nLUSER y\nE\x80\x80\nT\x02\nE\x80\x80",
	"C\x0d\nLUSER bob\nLPASS x\nLUSER ftp\nLPASS y\nLAUTH TLS\nE\x80\x80\nLUSER ftp\nLPASS y\nE\x80\x80\x03",
}

// FuzzSession feeds operations, one per line of the input. A first line
// "C" + a byte sets FTPS: bit 0 TLS, 1 Implicit, 2 TLSLoginAccounts, 3
// TLSLoginAnonymous. Then "L" + a command
// line, "E" + bytes describing an event, "T" + a byte of seconds to advance
// and Tick, "S" Shutdown, "X" a line over the limit; anything else is a
// command line as is. It checks that the session never panics, that every
// reply is well-formed, that requests carry clean absolute paths, that no
// illegal transition happens and that nothing comes out after Close. With
// FTPS: no login of a name the policy keeps from a clear control
// connection, no transfer in the clear for a login that requires
// protection, nothing said after the 234 that starts TLS.
func FuzzSession(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	// The golden transcripts, their events answered with "what the state
	// expects, no error".
	files, _ := filepath.Glob(filepath.Join("testdata", "*.txt"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		var seed []byte
		for _, l := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(l, "> "):
				seed = append(append(append(seed, 'L'), l[2:]...), '\n')
			case strings.HasPrefix(l, "@ "):
				seed = append(seed, "E\x80\x80\x01\n"...)
			case strings.HasPrefix(l, "+ "):
				seed = append(seed, "T\x3c\n"...)
			case l == "shutdown":
				seed = append(seed, "S\n"...)
			}
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := testConfig()
		cfg.MaxQueued = 3
		cfg.IdleTimeout = 100 * time.Second
		cfg.DataTimeout = 10 * time.Second
		if len(data) >= 2 && data[0] == 'C' {
			cfg.TLS = data[1]&1 != 0
			cfg.Implicit = cfg.TLS && data[1]&2 != 0
			cfg.TLSLoginAccounts = data[1]&4 != 0
			cfg.TLSLoginAnonymous = data[1]&8 != 0
			data = data[2:]
		}
		now := scriptStart
		s := NewSession(&cfg, testConn, now)
		closed := false
		accepted, finals := 0, -1  // the greeting is not an answer
		greetLater := cfg.Implicit // the greeting comes after the handshake
		if greetLater {
			finals = 0
		}
		check := func(what []byte) {
			out := s.TakeOutput()
			finals += countFinals(out.Reply)
			if greetLater && s.greeted {
				greetLater = false
				finals-- // the greeting, after the handshake
			}
			if closed && (len(out.Reply) > 0 || len(out.Requests) > 0 || out.Close) {
				t.Fatalf("output after Close, after %q: %q %v", what, out.Reply, out.Requests)
			}
			closed = closed || out.Close
			if err := checkReplies(out.Reply); err != nil {
				t.Fatalf("after %q: %v in %q", what, err, out.Reply)
			}
			for _, q := range out.Requests {
				if err := checkRequest(q); err != nil {
					t.Fatalf("after %q: %v", what, err)
				}
				switch r := q.(type) {
				case ReqLogin:
					anon := r.User == "anonymous"
					if cfg.TLS && !s.secure && (anon && cfg.TLSLoginAnonymous || !anon && cfg.TLSLoginAccounts) {
						t.Fatalf("after %q: %#v over a clear control connection", what, r)
					}
					if r.Secure != s.secure {
						t.Fatalf("after %q: %#v while secure is %v", what, r, s.secure)
					}
				case ReqTransfer:
					if s.tlsData && !r.Protect || r.Protect && !s.secure {
						t.Fatalf("after %q: %#v (login requires protection: %v, control protected: %v)", what, r, s.tlsData, s.secure)
					}
				case ReqStartTLS:
					if !cfg.TLS || len(s.queue) > 0 || s.state != stTLS {
						t.Fatalf("after %q: ReqStartTLS (TLS %v, %d queued, state %s)", what, cfg.TLS, len(s.queue), stateName(s.state))
					}
					// Nothing may follow the 234 (nor come at all on connect
					// to an implicit listener): the next byte is TLS.
					body := bytes.TrimSuffix(out.Reply, []byte("\r\n"))
					last := body[bytes.LastIndexByte(body, '\n')+1:]
					if s.greeted && !bytes.HasPrefix(last, []byte("234 ")) || !s.greeted && len(out.Reply) > 0 {
						t.Fatalf("after %q: ReqStartTLS with replies %q: the 234 must come last", what, out.Reply)
					}
				}
				if need := neededPerm(q); need != 0 && (s.perms&need == 0 || !stateTable[s.state].loggedIn) {
					t.Fatalf("after %q: %#v without permission (granted %v, state %s)", what, q, s.perms, stateName(s.state))
				}
				if l, ok := q.(ReqLogin); ok && l.Pass != "" && bytes.Contains(out.Reply, []byte(l.Pass)) && len(l.Pass) > 3 {
					t.Fatalf("password %q in reply %q", l.Pass, out.Reply)
				}
			}
			if s.bug != nil {
				t.Fatalf("after %q: %v", what, s.bug)
			}
			if d := s.Deadline(); !d.IsZero() && d.Before(scriptStart) {
				t.Fatalf("deadline %v before the start", d)
			}
			// Every accepted line has had its one final reply, except the
			// ones still waiting: queued, in flight, or an ABOR held until
			// the transfer ends. (A QUIT during a transfer drops the queue:
			// the session is as good as closed.)
			if !closed && !s.quitPending {
				pending := len(s.queue)
				// stTLS holds no line: AUTH has had its 234, and an
				// implicit session's handshake answers no line.
				for _, b := range []bool{stateTable[s.state].busy && s.state != stTLS, s.abortCmd} {
					if b {
						pending++
					}
				}
				if finals != accepted-pending-s.dropped {
					t.Fatalf("after %q: %d final replies for %d lines (%d pending)", what, finals, accepted, pending)
				}
			}
		}
		feed := func(f func()) {
			if s.Ready() {
				accepted++
				f()
			}
		}
		check(nil)
		for _, op := range bytes.Split(data, []byte("\n")) {
			switch {
			case len(op) > 0 && op[0] == 'L':
				feed(func() { s.Line(op[1:], now) })
			case len(op) > 0 && op[0] == 'E':
				s.Event(fuzzEvent(s, op[1:]), now)
			case len(op) > 0 && op[0] == 'T':
				if len(op) > 1 {
					now = now.Add(time.Duration(op[1]) * time.Second)
				}
				s.Tick(now)
			case len(op) == 1 && op[0] == 'S':
				s.Shutdown(now)
			case len(op) == 1 && op[0] == 'X':
				feed(func() { s.LineTooLong(now) })
			default:
				feed(func() { s.Line(op, now) })
			}
			check(op)
		}
	})
}

// neededPerm is the permission a request may only be made with: every
// change to storage, and every read of file contents or listings.
func neededPerm(q Request) Perm {
	switch r := q.(type) {
	case ReqFile:
		switch r.Op {
		case OpMkdir:
			return PermMkdir
		case OpRmdir, OpDelete:
			return PermDelete
		case OpRename, OpRenameCheck:
			return PermRename
		case OpChmod, OpSetTime:
			return PermWrite
		}
	case ReqStatList:
		return PermRead
	case ReqTransfer:
		switch r.Kind {
		case XferStor, XferAppe, XferStou:
			return PermWrite
		default:
			return PermRead
		}
	}
	return 0
}

// FuzzParseLine: any line either parses into an upper-case verb of letters
// and an argument taken from the line (less a trailing CR), or yields a
// parse error; nothing else.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"USER anonymous", "retr  a b ", "", " ", "CWD \xff", "STOR a\x00b", "GET / HTTP/1.1",
		"ABCDEFGHIJ x", "PORT 127,0,0,1,4,1", "X\r", "MLST", "site chmod 755 a"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		p, perr := parseLine(line)
		if perr == parseEmpty || perr == parseBadVerb {
			return
		}
		v := p.verbName()
		if len(v) == 0 || len(v) > maxVerbLen {
			t.Fatalf("%q: verb %q", line, v)
		}
		for i, c := range v {
			if (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
				t.Fatalf("%q: verb %q is not upper-case letters and digits, a letter first", line, v)
			}
		}
		if !bytes.HasPrefix(bytes.ToUpper(line), v) {
			t.Fatalf("%q: verb %q is not the line's first word", line, v)
		}
		if len(p.arg) > 0 && !bytes.HasSuffix(bytes.TrimSuffix(line, []byte("\r")), p.arg) {
			t.Fatalf("%q: argument %q is not the rest of the line", line, p.arg)
		}
		if perr == parseOK && (bytes.IndexByte(p.arg, 0) >= 0 || !utf8.Valid(p.arg)) {
			t.Fatalf("%q: argument %q accepted with a NUL or invalid UTF-8", line, p.arg)
		}
	})
}
