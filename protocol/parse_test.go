// Tests of parseLine and of how the session answers what it cannot parse.
package protocol

import "testing"

func TestParseLine(t *testing.T) {
	for _, c := range []struct {
		line string
		verb string
		arg  string
		err  parseError
	}{
		{"NOOP", "NOOP", "", parseOK},
		{"noop", "NOOP", "", parseOK},
		{"Retr a.txt", "RETR", "a.txt", parseOK},
		{"STOR  two  spaces ", "STOR", " two  spaces ", parseOK},
		{"CWD ", "CWD", "", parseOK},
		{"PWD\r", "PWD", "", parseOK},
		{"CWD a\r", "CWD", "a", parseOK},
		{"CWD a\r\r", "CWD", "", parseArgCRLF},
		{"", "", "", parseEmpty},
		{"\r", "", "", parseEmpty},
		{" NOOP", "", "", parseBadVerb},
		{"NO0P", "NO0P", "", parseOK}, // a verb, unknown: 500 from the session
		{"0NOP", "", "", parseBadVerb},
		{"XSHA256 f", "XSHA256", "f", parseOK},
		{"ABCDEFGHI", "", "", parseBadVerb},
		{"ABCDEFGH", "ABCDEFGH", "", parseOK},
		{"NOOP\tx", "", "", parseBadVerb},
		{"ÜSER x", "", "", parseBadVerb},
		{"CWD caf\xc3\xa9", "CWD", "café", parseOK},
		{"CWD \xff", "CWD", "", parseArgUTF8},
		{"CWD a\x00b", "CWD", "", parseArgNUL},
		{"CWD a\nb", "CWD", "", parseArgCRLF},
		{"CWD a\rb", "CWD", "", parseArgCRLF},
	} {
		p, err := parseLine([]byte(c.line))
		if err != c.err {
			t.Errorf("parseLine(%q) error = %d, want %d", c.line, err, c.err)
			continue
		}
		if err != parseOK && err != parseArgUTF8 && err != parseArgNUL && err != parseArgCRLF {
			continue
		}
		if string(p.verbName()) != c.verb {
			t.Errorf("parseLine(%q) verb = %q, want %q", c.line, p.verbName(), c.verb)
		}
		if err == parseOK && string(p.arg) != c.arg {
			t.Errorf("parseLine(%q) arg = %q, want %q", c.line, p.arg, c.arg)
		}
	}
}

func TestParseAllocs(t *testing.T) {
	line := []byte("RETR some/file.txt")
	n := testing.AllocsPerRun(100, func() {
		p, _ := parseLine(line)
		if lookup(p.verbName()) == nil {
			t.Fatal("RETR unknown")
		}
	})
	if n != 0 {
		t.Errorf("parse and lookup allocate %v times", n)
	}
}

func TestBadLines(t *testing.T) {
	runCases(t, []scriptCase{
		{"syntax errors", `
< 220 rftpd ready.
>q ""
< 500 Empty command.
> FOOBARBAZ x
< 500 Syntax error, command unrecognized.
> 123
< 500 Syntax error, command unrecognized.
>  NOOP
< 500 Syntax error, command unrecognized.
> XYZZY
< 500 Syntax error, command unrecognized.
> AUTH TLS
< 502 AUTH not available: no certificate is configured.
>q "CWD \xff\xfe"
< 501 Argument is not valid UTF-8.
>q "USER a\x00b"
< 501 Argument contains a NUL byte.
>q "XYZZY \xff"
< 500 Syntax error, command unrecognized.
toolong
< 500 Line too long.
>q "NOOP\r"
< 200 NOOP ok.
`},
		{"unknown verb after login", `
login
> PBSZ 0
< 503 PBSZ requires AUTH first.
>q "CWD \xc3"
< 501 Argument is not valid UTF-8.
`},
	})
}

// RFC 959 §4.2: 500 "Syntax error, command unrecognized" for a verb the
// server does not know; 502 "Command not implemented" for one it knows and
// does not do (draft-twine's MD5 and MMD5 among them), one rule whatever the
// verb's letters; SITE and HELP with a parameter they do not know: 504.
func TestUnknownAndUnimplemented(t *testing.T) {
	runScript(t, "unknown and unimplemented", `
< 220 rftpd ready.
> FROB
< 500 Syntax error, command unrecognized.
> XYZ9
< 500 Syntax error, command unrecognized.
> MD5 file
< 502 Command not implemented.
> mmd5 file
< 502 Command not implemented.
> LPSV
< 502 Command not implemented.
> HELP FROB
< 504 Unknown command FROB.
login
> SITE FROB
< 504 Unknown SITE command.
`)
}
