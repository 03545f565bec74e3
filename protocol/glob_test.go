// Tests of the pattern rules of LIST, NLST and STAT.
package protocol

import "testing"

func TestSplitGlob(t *testing.T) {
	for _, c := range []struct {
		arg    string
		prefix string
		ok     bool
	}{
		{"*.txt", "", true},
		{"file?.txt", "", true},
		{"[ab]*", "", true},
		{"pub/*.txt", "pub/", true},
		{"/pub/*.txt", "/pub/", true},
		{"../*", "../", true},
		{"/../*", "/../", true},
		{"a//b/[!x]", "a//b/", true},
		{`lit\*`, "", true},
		{"", "", false},
		{"a.txt", "", false},
		{"pub/a.txt", "", false},
		{"*/a.txt", "", false}, // only the last element
		{"pub/*/", "", false},
		{"a[b", "", false},    // malformed: a plain name
		{"[]a", "", false},    // an unclosed class
		{`a\`, "", false},     // a trailing backslash, no meta character
		{`*\`, "", false},     // malformed
		{"a{b,c}", "", false}, // no braces
		{"{*}", "", true},     // braces are plain characters
	} {
		prefix, ok := splitGlob(c.arg)
		if prefix != c.prefix || ok != c.ok {
			t.Errorf("splitGlob(%q) = %q, %v; want %q, %v", c.arg, prefix, ok, c.prefix, c.ok)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "a.txt", true},
		{"*.txt", "a.txt", true},
		{"*.txt", "a.txt.bak", false},
		{"*.txt", ".txt", false},
		{"file?.txt", "file1.txt", true},
		{"file?.txt", "file10.txt", false},
		{"file?.txt", "file.txt", false},
		{"[ab]*", "apple", true},
		{"[ab]*", "cherry", false},
		{"[^ab]*", "cherry", true},
		{"[!ab]*", "cherry", true}, // sh's form
		{"[!ab]*", "apple", false},
		{"[!ab]*", "!x", true},
		{`[\]!]x`, "!x", true}, // ! is not first: plain
		{`[\]!]x`, "]x", true},
		{`[\]!]x`, "ax", false},
		{"[a!]x", "!x", true},
		{"[[!]x", "[x", true},
		{`\[!a]`, "[!a]", true},
		{"[a-c]?", "b2", true},
		{`lit\*`, "lit*", true},
		{`lit\*`, "litx", false},
		{"*", "é.txt", true},
		{"?.txt", "é.txt", true}, // ? is one character, not one byte
		// A leading dot is matched explicitly.
		{"*", ".profile", false},
		{"?profile", ".profile", false},
		{"[.]profile", ".profile", false},
		{".*", ".profile", true},
		{".p*", ".profile", true},
		{`\.p*`, ".profile", true},
		{"*.*", "a.b", true},
		// Reserved names never match.
		{".*", ReservedPrefix + "abc", false},
		{".rftpd-upload.*", ReservedPrefix + "abc", false},
		{".RFTPD*", ".Rftpd-Upload.abc", false},
		{".rftpd*", ".rftpd-uploaded", true},
		// Malformed patterns match nothing.
		{"[", "[", false},
	} {
		g, ok := ParseGlob(c.pattern)
		if got := ok && g.Match(c.name); got != c.want {
			t.Errorf("ParseGlob(%q).Match(%q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

// Match allocates nothing: it runs for every entry of a folder.
func TestGlobMatchAllocs(t *testing.T) {
	g, _ := ParseGlob("*[0-9]?.t*t")
	n := testing.AllocsPerRun(100, func() {
		g.Match("some-file-name-42x.txt")
	})
	if n != 0 {
		t.Fatalf("%v allocations a match", n)
	}
}

// TestGlobPattern: a Glob gives its pattern back, and the zero Glob none.
func TestGlobPattern(t *testing.T) {
	g, ok := ParseGlob("f?.*")
	if !ok || g.Pattern() != "f?.*" {
		t.Fatalf("ParseGlob(%q): %v, pattern %q", "f?.*", ok, g.Pattern())
	}
	if p := (Glob{}).Pattern(); p != "" {
		t.Fatalf("the zero Glob's pattern: %q", p)
	}
}
