package reactor

import "testing"

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
