// Command line parsing: a pure function from one line to a verb and its argument.
package protocol

import (
	"bytes"
	"unicode/utf8"
)

// maxVerbLen is the longest verb accepted; every FTP verb has 3 or 4 letters.
const maxVerbLen = 8

// parseError says why a line could not be parsed.
type parseError uint8

const (
	parseOK      parseError = iota
	parseEmpty              // nothing on the line: 500
	parseBadVerb            // verb not 1–8 ASCII letters and digits, a letter first: 500
	parseArgUTF8            // argument is not valid UTF-8: 501 (RFC 2640)
	parseArgNUL             // argument contains NUL: 501
	parseArgCRLF            // argument contains a CR or LF: 501
)

// parsedLine is one command: verb in upper case (or empty), and the argument.
type parsedLine struct {
	verb [maxVerbLen]byte
	n    int    // length of verb
	arg  []byte // aliases the input line
}

// httpMethods are the request methods of HTTP/1.x, none of them an FTP verb.
var httpMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"CONNECT": true, "OPTIONS": true, "TRACE": true, "PATCH": true,
}

// isHTTPRequest reports whether p is an HTTP request line: an HTTP method
// followed by a target and an "HTTP/" version ("GET / HTTP/1.1").
func isHTTPRequest(p *parsedLine) bool {
	if !httpMethods[string(p.verbName())] {
		return false
	}
	arg := bytes.TrimRight(p.arg, " ")
	i := bytes.LastIndexByte(arg, ' ')
	return i > 0 && bytes.HasPrefix(arg[i+1:], []byte("HTTP/"))
}

// verbName returns the upper-case verb. Looking it up in a map with
// string(p.verbName()) does not allocate.
func (p *parsedLine) verbName() []byte { return p.verb[:p.n] }

// parseLine splits a command line (CRLF and Telnet sequences already
// removed) into its verb and argument.
//
//	"retr  a b " → verb "RETR", argument " a b "
//
// The verb is everything up to the first space and is case-insensitive. The
// argument is the rest of the line after that one space, kept as is:
// filenames may begin or end with spaces. A CR left at the end of the line
// (a client that sent CR CR LF) is dropped. The argument is checked even when
// the verb is unknown, but callers report an unknown verb first.
func parseLine(line []byte) (p parsedLine, err parseError) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) == 0 {
		return p, parseEmpty
	}
	verb := line
	if i := indexSpace(line); i >= 0 {
		verb, p.arg = line[:i], line[i+1:]
	}
	if len(verb) == 0 || len(verb) > maxVerbLen {
		return p, parseBadVerb
	}
	for i, c := range verb {
		switch {
		case c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= '0' && c <= '9' && i > 0: // XMD5, XSHA256
		default:
			return p, parseBadVerb
		}
		p.verb[i] = c
	}
	p.n = len(verb)
	return p, checkArg(p.arg)
}

// indexSpace returns the index of the first space in b, or -1.
func indexSpace(b []byte) int {
	for i, c := range b {
		if c == ' ' {
			return i
		}
	}
	return -1
}

// checkArg refuses arguments no path or name may contain.
func checkArg(arg []byte) parseError {
	for _, c := range arg {
		switch c {
		case 0:
			return parseArgNUL
		case '\r', '\n':
			return parseArgCRLF
		}
	}
	if !utf8.Valid(arg) {
		return parseArgUTF8
	}
	return parseOK
}
