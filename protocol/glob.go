// Globbing: the patterns LIST, NLST and STAT accept in the last element of a path.
package protocol

import (
	"path"
	"strings"
)

// globMeta are the characters that make the last element of a LIST, NLST
// or STAT argument a pattern.
const globMeta = "*?["

// splitGlob reports whether the last element of a LIST, NLST or STAT path
// argument (after its ls options) is a pattern (ParseGlob), and returns the
// part before it as the client wrote it, trailing slash included. Only the
// last element may be a pattern (vsftpd and ProFTPD's rule too):
// "*/a.txt" is a plain path.
//
//	"*.txt" → "", true;  "pub/file?.txt" → "pub/", true;  "/pub/[ab]*" → "/pub/", true
//	"pub/a.txt" → false;  "a[b" → false;  "*/a" → false;  "pub/*/" → false
func splitGlob(arg string) (prefix string, ok bool) {
	i := strings.LastIndexByte(arg, '/')
	if _, ok := ParseGlob(arg[i+1:]); !ok {
		return "", false
	}
	return arg[:i+1], true
}

// Glob is a pattern for the names in one folder.
type Glob struct {
	pat string // in path.Match's syntax
}

// Pattern returns g in path.Match's syntax ("" for the zero Glob).
func (g Glob) Pattern() string { return g.pat }

// ParseGlob reads the last element of a LIST, NLST or STAT argument as a
// pattern. It is one when it holds *, ? or [ and is well-formed; a
// malformed one (an unclosed "[") is a plain name, as sh and glob(3) take
// it, and so is a name without those characters.
//
// The syntax is sh's, which path.Match has but for one form: * matches any
// run of characters, ? one character, [abc], [a-z] and [!a-z] (or [^a-z])
// one character of (or not of) a class, and a backslash makes the
// character after it plain. No braces: "{a,b}" is plain text.
func ParseGlob(elem string) (Glob, bool) {
	if !strings.ContainsAny(elem, globMeta) {
		return Glob{}, false
	}
	pat := shClasses(elem)
	// path.Match checks the whole pattern, even when the name fails early.
	if _, err := path.Match(pat, ""); err != nil {
		return Glob{}, false
	}
	return Glob{pat}, true
}

// shClasses turns sh's negated classes "[!...]" into path.Match's "[^...]".
func shClasses(p string) string {
	var b []byte
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '[':
			if i+1 < len(p) && p[i+1] == '!' {
				if b == nil {
					b = []byte(p)
				}
				b[i+1] = '^'
			}
			// Skip the class: a [ or ! inside is a plain character (a ]
			// is written \], as path.Match wants).
			j := i + 1
			for j < len(p) && p[j] != ']' {
				if p[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		}
	}
	if b == nil {
		return p
	}
	return string(b)
}

// Match reports whether name, an entry of a listed folder, matches. Go's
// matcher commits to the first place each part after a * matches, so its
// cost is bounded by the lengths of pattern and name, with no
// backtracking blow-up; it allocates nothing.
//
// Two rules come on top of the syntax:
//   - A leading dot must be matched by a dot at the start of the pattern,
//     as sh, ls and vsftpd have it: "*" and "?profile" never match
//     ".profile", ".*" and ".p*" do. ls's -a does not change this (sh
//     expands "ls -a *" without dot files too).
//   - Reserved names (the temporary files of atomic uploads) never match,
//     whatever the pattern.
func (g Glob) Match(name string) bool {
	if g.pat == "" || IsReservedName(name) {
		return false
	}
	if strings.HasPrefix(name, ".") && !strings.HasPrefix(strings.TrimPrefix(g.pat, `\`), ".") {
		return false
	}
	ok, err := path.Match(g.pat, name)
	return ok && err == nil
}
