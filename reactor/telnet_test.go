package reactor

import (
	"bytes"
	"testing"
)

func TestStripTelnet(t *testing.T) {
	tests := []struct{ in, want string }{
		{"NOOP", "NOOP"},
		{"\xff\xf4\xff\xf2ABOR", "ABOR"},
		{"\xff\xf4\xffABOR", "ABOR"},
		{"STOR a\xff\xffb", "STOR a\xffb"},
		{"\xff\xfb\x01NOOP", "NOOP"},
		{"\xff\xfd\x03\xff\xfe\x18NOOP", "NOOP"},
		{"\xff\xfa\x18\x01xyz\xff\xf0PWD", "PWD"},
		{"\xff\xfa\x18 never ends", ""},
		{"NOOP\xff", "NOOP"},
		{"NO\xff\xfbOP", "NOP"},
		{"\xff\xff\xff\xff", "\xff\xff"},
	}
	for _, tt := range tests {
		if got := string(stripTelnet(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("stripTelnet(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzStripTelnet: the output never grows, never holds an IAC that is not
// from an escaped IAC IAC, and input without IAC passes unchanged.
func FuzzStripTelnet(f *testing.F) {
	for _, s := range []string{"NOOP", "\xff\xf4\xff\xf2ABOR", "\xff\xfa\x18 x\xff\xf0PWD", "a\xff\xffb", "\xff", "\xff\xfb"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := stripTelnet(nil, in)
		if len(out) > len(in) {
			t.Fatalf("%q grew to %q", in, out)
		}
		if bytes.IndexByte(in, iac) < 0 && !bytes.Equal(in, out) {
			t.Fatalf("%q without IAC changed to %q", in, out)
		}
		if n, m := bytes.Count(out, []byte{iac}), bytes.Count(in, []byte{iac, iac}); n > m {
			t.Fatalf("%q: %d IAC bytes out, only %d escaped pairs in", in, n, m)
		}
	})
}
