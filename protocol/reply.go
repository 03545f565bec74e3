// The reply encoder: every byte the server sends on the control connection is built here.
package protocol

import (
	"bytes"
	"strings"
)

// appendCode appends the three digits of code and sep (' ' for the last
// line of a reply, '-' for the first line of a multi-line one).
func appendCode(b []byte, code replyCode, sep byte) []byte {
	if code < 100 || code > 999 {
		code = codeLocalError // never emit a malformed code, whatever a caller passed
	}
	return append(b, byte('0'+code/100), byte('0'+code/10%10), byte('0'+code%10), sep)
}

// appendText appends reply text with CR, LF and NUL replaced by spaces: text
// often carries paths and names that came from clients or from the disk, and
// must never end a reply line early or start a forged one.
func appendText(b []byte, text string) []byte {
	start := 0
	for i := 0; i < len(text); i++ {
		if c := text[i]; c == '\r' || c == '\n' || c == 0 {
			b = append(append(b, text[start:i]...), ' ')
			start = i + 1
		}
	}
	return append(b, text[start:]...)
}

// appendReply appends a single-line reply, or the last line of a multi-line
// one: "NNN text\r\n".
func appendReply(b []byte, code replyCode, text string) []byte {
	b = appendCode(b, code, ' ')
	b = appendText(b, text)
	return append(b, '\r', '\n')
}

// appendFirst appends the first line of a multi-line reply: "NNN-text\r\n".
func appendFirst(b []byte, code replyCode, text string) []byte {
	b = appendCode(b, code, '-')
	b = appendText(b, text)
	return append(b, '\r', '\n')
}

// appendInner appends an inner line of a multi-line reply. RFC 959 §4.2: a
// line that begins with a digit is padded with a space so that no client
// mistakes it for the last line.
func appendInner(b []byte, text string) []byte {
	if text != "" && text[0] >= '0' && text[0] <= '9' {
		b = append(b, ' ')
	}
	b = appendText(b, text)
	return append(b, '\r', '\n')
}

// appendInnerLines appends each line of lines (separated by LF, with or
// without CR before it) as an inner line. Empty lines are skipped.
func appendInnerLines(b []byte, lines []byte) []byte {
	for len(lines) > 0 {
		var line []byte
		if i := bytes.IndexByte(lines, '\n'); i >= 0 {
			line, lines = lines[:i], lines[i+1:]
		} else {
			line, lines = lines, nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue
		}
		b = appendInner(b, string(line))
	}
	return b
}

// quotePath renders p for a 257 reply: in double quotes, with every quote
// inside doubled (RFC 959 Appendix II).
func quotePath(p string) string {
	return `"` + strings.ReplaceAll(p, `"`, `""`) + `"`
}

// replyBufSize is the capacity a reply buffer starts with: most replies,
// and most batches of pipelined replies, fit without growing it.
const replyBufSize = 128

// replyBuf returns the output buffer, allocated on first use after each
// TakeOutput (which hands it to the caller).
func (s *Session) replyBuf() []byte {
	if s.out.Reply == nil {
		s.out.Reply = make([]byte, 0, replyBufSize)
	}
	return s.out.Reply
}

// reply queues a single-line reply whose text is the parts joined; the
// parts are appended in place, so callers need not build a string.
func (s *Session) reply(code replyCode, parts ...string) {
	b := appendCode(s.replyBuf(), code, ' ')
	for _, p := range parts {
		b = appendText(b, p)
	}
	s.out.Reply = append(b, '\r', '\n')
	if code >= 200 && s.mOpen&markCmd != 0 {
		s.metered(code)
	}
}

// replyMulti queues a multi-line reply: first, the inner lines, then last,
// all under one code.
func (s *Session) replyMulti(code replyCode, first string, inner []string, last string) {
	b := appendFirst(s.replyBuf(), code, first)
	for _, l := range inner {
		b = appendInner(b, l)
	}
	s.out.Reply = appendReply(b, code, last)
	if code >= 200 && s.mOpen&markCmd != 0 {
		s.metered(code)
	}
}
